//! Real-caption mode: reading caption TSVs (`sentence_id, video_name, num_frames, text_en,
//! text_orig`, tab separated, header row) and deriving a gloss sequence from English text.
//!
//! Gloss derivation (deterministic): lower-case, split on non-alphanumerics, drop function
//! words ([`STOPWORDS`]), crude lemmatisation (plural `-ies` -> `-y`, trailing `s` dropped
//! from words longer than 3 letters not ending in `ss`/`us`/`is`), upper-case. Reordering
//! rule: time words ([`TIME_WORDS`]) first, then the other content words in text order,
//! negations (`not`, `no`, `never`) last. A text with no content word keeps its first word.

use crate::error::DataError;
use std::path::{Path, PathBuf};

/// One row of a caption TSV.
#[derive(Clone, Debug, PartialEq)]
pub struct CaptionRow {
    /// Sentence id.
    pub sentence_id: String,
    /// Video name.
    pub video_name: String,
    /// Frame count of the source video.
    pub num_frames: usize,
    /// English text.
    pub text_en: String,
    /// Original-language text.
    pub text_orig: String,
}

/// Expected header columns.
pub const COLUMNS: [&str; 5] = [
    "sentence_id",
    "video_name",
    "num_frames",
    "text_en",
    "text_orig",
];

/// Parses a caption TSV; `file` is only used in error messages.
pub fn parse_tsv(text: &str, file: &Path) -> Result<Vec<CaptionRow>, DataError> {
    let err = |line: usize, msg: String| DataError::Tsv {
        file: file.to_path_buf(),
        line,
        msg,
    };
    let mut lines = text.lines().enumerate();
    let Some((_, header)) = lines.next() else {
        return Err(err(1, "empty file (expected a header row)".into()));
    };
    let cols: Vec<&str> = header.trim_end_matches('\r').split('\t').collect();
    if cols != COLUMNS {
        return Err(err(
            1,
            format!("header must be {:?}, found {:?}", COLUMNS, cols),
        ));
    }
    let mut rows = Vec::new();
    for (i, line) in lines {
        let line = line.trim_end_matches('\r');
        if line.trim().is_empty() {
            continue;
        }
        let f: Vec<&str> = line.split('\t').collect();
        if f.len() != 5 {
            return Err(err(
                i + 1,
                format!("expected 5 tab-separated columns, found {}", f.len()),
            ));
        }
        let num_frames: usize = f[2].trim().parse().map_err(|_| {
            err(
                i + 1,
                format!("num_frames `{}` is not a non-negative integer", f[2]),
            )
        })?;
        if num_frames == 0 {
            return Err(err(i + 1, "num_frames must be > 0".into()));
        }
        if f[3].trim().is_empty() {
            return Err(err(i + 1, "text_en is empty".into()));
        }
        rows.push(CaptionRow {
            sentence_id: f[0].to_string(),
            video_name: f[1].to_string(),
            num_frames,
            text_en: f[3].to_string(),
            text_orig: f[4].to_string(),
        });
    }
    Ok(rows)
}

/// Reads `dir/{split}.tsv`.
pub fn read_split(dir: &Path, split: &str) -> Result<(PathBuf, Vec<CaptionRow>), DataError> {
    let path = dir.join(format!("{split}.tsv"));
    let text = std::fs::read_to_string(&path).map_err(|e| DataError::io(&path, e))?;
    let rows = parse_tsv(&text, &path)?;
    Ok((path, rows))
}

/// English function words that are not signed.
pub const STOPWORDS: &[&str] = &[
    "a", "an", "the", "and", "or", "but", "if", "then", "so", "than", "that", "this", "these",
    "those", "there", "here", "is", "are", "was", "were", "be", "been", "being", "am", "will",
    "would", "shall", "should", "can", "could", "may", "might", "must", "do", "does", "did",
    "have", "has", "had", "of", "in", "on", "at", "to", "for", "from", "by", "with", "into",
    "onto", "over", "under", "about", "as", "it", "its", "it's", "i", "you", "he", "she", "we",
    "they", "me", "him", "her", "us", "them", "my", "your", "his", "our", "their", "what", "which",
    "who", "whom", "also", "too", "very", "just", "s", "t", "up", "out", "off", "again", "still",
    "yet", "only", "even", "all", "some",
];

/// Words moved to the front (time expressions).
pub const TIME_WORDS: &[&str] = &[
    "today",
    "tomorrow",
    "yesterday",
    "tonight",
    "morning",
    "evening",
    "afternoon",
    "night",
    "day",
    "week",
    "weekend",
    "monday",
    "tuesday",
    "wednesday",
    "thursday",
    "friday",
    "saturday",
    "sunday",
    "now",
    "noon",
    "january",
    "february",
    "march",
    "april",
    "june",
    "july",
    "august",
    "september",
    "october",
    "november",
    "december",
];

/// Words moved to the end (negation).
pub const NEGATIONS: &[&str] = &["not", "no", "never"];

/// Lower-cased words of a text split on non-alphanumeric characters.
pub fn words(text: &str) -> Vec<String> {
    text.split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(|w| w.to_lowercase())
        .collect()
}

/// Crude lemma of a lower-case word (see module docs).
pub fn lemma(w: &str) -> String {
    let n = w.chars().count();
    if n > 4 && w.ends_with("ies") {
        return format!("{}y", &w[..w.len() - 3]);
    }
    if n > 3 && w.ends_with('s') && !w.ends_with("ss") && !w.ends_with("us") && !w.ends_with("is") {
        return w[..w.len() - 1].to_string();
    }
    w.to_string()
}

/// The gloss sequence of an English text (see module docs).
pub fn derive_glosses(text: &str) -> Vec<String> {
    let ws = words(text);
    let mut time = Vec::new();
    let mut rest = Vec::new();
    let mut neg = Vec::new();
    for w in &ws {
        if NEGATIONS.contains(&w.as_str()) {
            neg.push(w.to_uppercase());
        } else if STOPWORDS.contains(&w.as_str()) {
            continue;
        } else {
            let l = lemma(w);
            if TIME_WORDS.contains(&l.as_str()) {
                time.push(l.to_uppercase());
            } else {
                rest.push(l.to_uppercase());
            }
        }
    }
    let mut out = time;
    out.extend(rest);
    out.extend(neg);
    if out.is_empty() {
        if let Some(w) = ws.first() {
            out.push(w.to_uppercase());
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn derives_glosses_with_reordering() {
        assert_eq!(
            derive_glosses("And now the weather forecast for tomorrow Thursday the twelfth August"),
            vec!["NOW", "TOMORROW", "THURSDAY", "AUGUST", "WEATHER", "FORECAST", "TWELFTH"]
        );
        assert_eq!(
            derive_glosses("It does not rain in the cities"),
            vec!["RAIN", "CITY", "NOT"]
        );
        assert_eq!(derive_glosses("the"), vec!["THE"]);
        assert_eq!(lemma("showers"), "shower");
        assert_eq!(lemma("glass"), "glass");
    }

    #[test]
    fn parse_errors_name_file_and_line() {
        let p = Path::new("x/train.tsv");
        let ok = "sentence_id\tvideo_name\tnum_frames\ttext_en\ttext_orig\ns1\tv1\t86\tHello there\thallo\n";
        let rows = parse_tsv(ok, p).unwrap();
        assert_eq!(rows.len(), 1);
        assert_eq!(rows[0].num_frames, 86);
        let bad = "sentence_id\tvideo_name\tnum_frames\ttext_en\ttext_orig\ns1\tv1\t86\tok\tok\ns2\tv2\tabc\tHi\thi\n";
        let e = parse_tsv(bad, p).unwrap_err().to_string();
        assert!(
            e.contains("x/train.tsv:3") && e.contains("num_frames"),
            "{e}"
        );
        let short = "sentence_id\tvideo_name\tnum_frames\ttext_en\ttext_orig\ns1\tv1\t86\n";
        assert!(parse_tsv(short, p).unwrap_err().to_string().contains(":2:"));
        assert!(parse_tsv("a\tb\n", p)
            .unwrap_err()
            .to_string()
            .contains(":1:"));
        assert!(parse_tsv("", p).is_err());
    }

    #[test]
    fn real_phoenix_captions_parse() {
        let dir =
            Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data/captions/phoenix14t");
        if !dir.join("train.tsv").exists() {
            eprintln!(
                "SKIP real_phoenix_captions_parse: {} not found",
                dir.display()
            );
            return;
        }
        let (_, train) = read_split(&dir, "train").unwrap();
        let (_, dev) = read_split(&dir, "dev").unwrap();
        let (_, test) = read_split(&dir, "test").unwrap();
        assert_eq!((train.len(), dev.len(), test.len()), (7096, 519, 642));
        assert_eq!(train[0].num_frames, 86);
        assert!(train.iter().all(|r| !derive_glosses(&r.text_en).is_empty()));
    }
}
