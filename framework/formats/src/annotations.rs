//! Annotation readers: How2Sign realigned TSV, PHOENIX-2014T corpus CSV, CSL-Daily split
//! file, and seds-lab caption TSVs (reader and writer).
//!
//! All readers accept a UTF-8 BOM and CRLF line endings, skip blank lines, and report errors
//! with the file and the 1-based line number.
//!
//! How2Sign SENTENCE fields are kept literally, except that a field written with CSV-style
//! quoting (starts and ends with `"`, inner quotes doubled, as pandas writes fields holding
//! a quote) is unquoted.

use std::path::Path;

/// Errors of the annotation readers and writers.
#[derive(Debug, thiserror::Error)]
pub enum AnnotationError {
    /// The file could not be read or written.
    #[error("{file}: {source}")]
    Io {
        /// The file.
        file: String,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
    /// The header row is not the expected one.
    #[error("{file}: line {line}: expected header {expected:?}, found {found:?}")]
    Header {
        /// The file.
        file: String,
        /// Line number (1-based).
        line: usize,
        /// The expected header.
        expected: String,
        /// The header found.
        found: String,
    },
    /// A row has the wrong number of columns.
    #[error("{file}: line {line}: expected {expected} columns, found {found}")]
    Columns {
        /// The file.
        file: String,
        /// Line number (1-based).
        line: usize,
        /// Columns expected.
        expected: usize,
        /// Columns found.
        found: usize,
    },
    /// A field is invalid.
    #[error("{file}: line {line}: column {column}: {detail}")]
    Field {
        /// The file.
        file: String,
        /// Line number (1-based).
        line: usize,
        /// Column name.
        column: String,
        /// What is wrong / expected.
        detail: String,
    },
    /// The file has no header row.
    #[error("{file}: empty file (expected header {expected:?})")]
    Empty {
        /// The file.
        file: String,
        /// The expected header.
        expected: String,
    },
}

/// A dataset split.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Split {
    /// Training split.
    Train,
    /// Validation split.
    Dev,
    /// Test split.
    Test,
}

impl Split {
    /// Parses `train`, `dev` (or `val`) and `test`.
    pub fn parse(s: &str) -> Option<Split> {
        match s {
            "train" => Some(Split::Train),
            "dev" | "val" => Some(Split::Dev),
            "test" => Some(Split::Test),
            _ => None,
        }
    }
    /// Lower-case name.
    pub fn as_str(&self) -> &'static str {
        match self {
            Split::Train => "train",
            Split::Dev => "dev",
            Split::Test => "test",
        }
    }
}

/// One row of a How2Sign sentence-level annotation file.
#[derive(Clone, Debug, PartialEq)]
pub struct How2SignSentence {
    /// YouTube-style video id (may start with '-' and contain '-' and '_').
    pub video_id: String,
    /// `<VIDEO_ID>-<take>-<view>`.
    pub video_name: String,
    /// Take number parsed from VIDEO_NAME.
    pub take: String,
    /// Camera view parsed from VIDEO_NAME (e.g. `rgb_front`).
    pub view: String,
    /// `<VIDEO_ID>_<k>`.
    pub sentence_id: String,
    /// k parsed from SENTENCE_ID.
    pub sentence_index: u32,
    /// `<SENTENCE_ID>-<take>-<view>` (the clip / keypoint directory name).
    pub sentence_name: String,
    /// Start in seconds (START_REALIGNED or START).
    pub start: f64,
    /// End in seconds.
    pub end: f64,
    /// English sentence.
    pub sentence: String,
}

/// One row of a PHOENIX-2014T corpus CSV.
#[derive(Clone, Debug, PartialEq)]
pub struct PhoenixEntry {
    /// Sample name.
    pub name: String,
    /// Frame glob, `<name>/1/*.png`.
    pub video: String,
    /// Start (always -1).
    pub start: i64,
    /// End (always -1).
    pub end: i64,
    /// `SignerNN`.
    pub speaker: String,
    /// Upper-case gloss sequence.
    pub orth: String,
    /// Lower-case German translation.
    pub translation: String,
}

impl PhoenixEntry {
    /// Glosses of `orth`, split on whitespace.
    pub fn glosses(&self) -> Vec<&str> {
        self.orth.split_whitespace().collect()
    }
}

/// One row of the CSL-Daily split file.
#[derive(Clone, Debug, PartialEq)]
pub struct CslSplitEntry {
    /// `S<6 digits>_P<4 digits>_T<2 digits>`.
    pub name: String,
    /// Split.
    pub split: Split,
    /// Sentence number.
    pub sentence: u32,
    /// Signer number.
    pub signer: u32,
    /// Take number.
    pub take: u32,
}

/// One caption record (seds-lab caption TSV).
#[derive(Clone, Debug, PartialEq)]
pub struct CaptionRecord {
    /// Sentence id (several videos may share one).
    pub sentence_id: String,
    /// Video name (feature file stem).
    pub video_name: String,
    /// Number of frames.
    pub num_frames: usize,
    /// English text.
    pub text_en: String,
    /// Text in the original language.
    pub text_orig: String,
}

/// Header of the How2Sign realigned files.
pub const HOW2SIGN_HEADER: [&str; 7] = [
    "VIDEO_ID",
    "VIDEO_NAME",
    "SENTENCE_ID",
    "SENTENCE_NAME",
    "START_REALIGNED",
    "END_REALIGNED",
    "SENTENCE",
];
/// Header of the PHOENIX-2014T corpus files.
pub const PHOENIX_HEADER: [&str; 7] = [
    "name",
    "video",
    "start",
    "end",
    "speaker",
    "orth",
    "translation",
];
/// Header of the CSL-Daily split file.
pub const CSL_SPLIT_HEADER: [&str; 2] = ["name", "split"];
/// Header of caption TSVs.
pub const CAPTION_HEADER: [&str; 5] = [
    "sentence_id",
    "video_name",
    "num_frames",
    "text_en",
    "text_orig",
];

fn read_text(path: &Path) -> Result<(String, String), AnnotationError> {
    let file = path.display().to_string();
    let text = std::fs::read_to_string(path).map_err(|source| AnnotationError::Io {
        file: file.clone(),
        source,
    })?;
    Ok((file, text))
}

/// Non-blank lines with their 1-based numbers, BOM and CR stripped.
fn lines(text: &str) -> impl Iterator<Item = (usize, &str)> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    text.split('\n')
        .enumerate()
        .map(|(i, l)| (i + 1, l.strip_suffix('\r').unwrap_or(l)))
        .filter(|(_, l)| !l.trim().is_empty())
}

/// Splits into fields and checks the header; returns the data rows.
fn table<'a>(
    text: &'a str,
    file: &str,
    sep: char,
    headers: &[&[&str]],
    max_split: bool,
) -> Result<Vec<(usize, Vec<&'a str>)>, AnnotationError> {
    let n = headers[0].len();
    let mut it = lines(text);
    let expected = headers[0].join(&sep.to_string());
    let Some((hline, h)) = it.next() else {
        return Err(AnnotationError::Empty {
            file: file.to_string(),
            expected,
        });
    };
    let hf: Vec<&str> = h.split(sep).map(str::trim).collect();
    if !headers.iter().any(|cand| hf == *cand) {
        return Err(AnnotationError::Header {
            file: file.to_string(),
            line: hline,
            expected,
            found: h.to_string(),
        });
    }
    let mut rows = Vec::new();
    for (line, l) in it {
        let f: Vec<&str> = if max_split {
            l.splitn(n, sep).collect()
        } else {
            l.split(sep).collect()
        };
        if f.len() != n {
            return Err(AnnotationError::Columns {
                file: file.to_string(),
                line,
                expected: n,
                found: f.len(),
            });
        }
        rows.push((line, f));
    }
    Ok(rows)
}

fn field_err(file: &str, line: usize, column: &str, detail: String) -> AnnotationError {
    AnnotationError::Field {
        file: file.to_string(),
        line,
        column: column.to_string(),
        detail,
    }
}

/// Undoes CSV-style quoting of a whole field (see the module doc).
fn unquote(s: &str) -> String {
    if s.len() >= 2 && s.starts_with('"') && s.ends_with('"') {
        let inner = &s[1..s.len() - 1];
        // Valid only if every quote inside is doubled.
        let stripped = inner.replace("\"\"", "");
        if !stripped.contains('"') {
            return inner.replace("\"\"", "\"");
        }
    }
    s.to_string()
}

/// Splits `<base>-<take>-<view>` from the right.
fn split_name(name: &str) -> Option<(&str, &str, &str)> {
    let (rest, view) = name.rsplit_once('-')?;
    let (base, take) = rest.rsplit_once('-')?;
    (!base.is_empty() && !take.is_empty() && !view.is_empty()).then_some((base, take, view))
}

/// Parses How2Sign sentence annotations (realigned or original START/END header).
pub fn parse_how2sign_tsv(
    text: &str,
    file: &str,
) -> Result<Vec<How2SignSentence>, AnnotationError> {
    let mut original = HOW2SIGN_HEADER;
    original[4] = "START";
    original[5] = "END";
    let rows = table(text, file, '\t', &[&HOW2SIGN_HEADER, &original], true)?;
    let mut out = Vec::with_capacity(rows.len());
    for (line, f) in rows {
        let video_id = f[0].to_string();
        if video_id.is_empty() {
            return Err(field_err(file, line, "VIDEO_ID", "empty".into()));
        }
        let (vbase, take, view) = split_name(f[1])
            .filter(|(b, _, _)| *b == video_id)
            .ok_or_else(|| {
                field_err(
                    file,
                    line,
                    "VIDEO_NAME",
                    format!(
                        "{:?} is not <VIDEO_ID>-<take>-<view> with VIDEO_ID {video_id:?}",
                        f[1]
                    ),
                )
            })?;
        debug_assert_eq!(vbase, video_id);
        let (sid_video, k) = f[2]
            .rsplit_once('_')
            .filter(|(v, _)| *v == video_id)
            .ok_or_else(|| {
                field_err(
                    file,
                    line,
                    "SENTENCE_ID",
                    format!(
                        "{:?} is not <VIDEO_ID>_<k> with VIDEO_ID {video_id:?}",
                        f[2]
                    ),
                )
            })?;
        let _ = sid_video;
        let sentence_index: u32 = k.parse().map_err(|_| {
            field_err(
                file,
                line,
                "SENTENCE_ID",
                format!("{k:?} is not a sentence number"),
            )
        })?;
        split_name(f[3])
            .filter(|(b, t, v)| *b == f[2] && *t == take && *v == view)
            .ok_or_else(|| {
                field_err(
                    file,
                    line,
                    "SENTENCE_NAME",
                    format!(
                        "{:?} is not <SENTENCE_ID>-<take>-<view> = {}-{take}-{view}",
                        f[3], f[2]
                    ),
                )
            })?;
        let time = |i: usize, col: &str| -> Result<f64, AnnotationError> {
            f[i].trim()
                .parse::<f64>()
                .ok()
                .filter(|v| v.is_finite())
                .ok_or_else(|| {
                    field_err(
                        file,
                        line,
                        col,
                        format!("{:?} is not a time in seconds", f[i]),
                    )
                })
        };
        let start = time(4, "START")?;
        let end = time(5, "END")?;
        out.push(How2SignSentence {
            video_id,
            video_name: f[1].to_string(),
            take: take.to_string(),
            view: view.to_string(),
            sentence_id: f[2].to_string(),
            sentence_index,
            sentence_name: f[3].to_string(),
            start,
            end,
            sentence: unquote(f[6]),
        });
    }
    Ok(out)
}

/// Reads a How2Sign sentence annotation TSV.
pub fn read_how2sign_tsv(path: impl AsRef<Path>) -> Result<Vec<How2SignSentence>, AnnotationError> {
    let (file, text) = read_text(path.as_ref())?;
    parse_how2sign_tsv(&text, &file)
}

/// Parses a PHOENIX-2014T corpus CSV ('|'-separated).
pub fn parse_phoenix_corpus(text: &str, file: &str) -> Result<Vec<PhoenixEntry>, AnnotationError> {
    let rows = table(text, file, '|', &[&PHOENIX_HEADER], false)?;
    let mut out = Vec::with_capacity(rows.len());
    for (line, f) in rows {
        if f[0].is_empty() {
            return Err(field_err(file, line, "name", "empty".into()));
        }
        let int = |i: usize, col: &str| -> Result<i64, AnnotationError> {
            f[i].trim()
                .parse()
                .map_err(|_| field_err(file, line, col, format!("{:?} is not an integer", f[i])))
        };
        out.push(PhoenixEntry {
            name: f[0].to_string(),
            video: f[1].to_string(),
            start: int(2, "start")?,
            end: int(3, "end")?,
            speaker: f[4].to_string(),
            orth: f[5].to_string(),
            translation: f[6].to_string(),
        });
    }
    Ok(out)
}

/// Reads a PHOENIX-2014T corpus CSV.
pub fn read_phoenix_corpus(path: impl AsRef<Path>) -> Result<Vec<PhoenixEntry>, AnnotationError> {
    let (file, text) = read_text(path.as_ref())?;
    parse_phoenix_corpus(&text, &file)
}

/// Parses `S<6>_P<4>_T<2>` into (sentence, signer, take).
pub fn parse_csl_name(name: &str) -> Option<(u32, u32, u32)> {
    let part = |s: &str, prefix: char, digits: usize| -> Option<u32> {
        let d = s.strip_prefix(prefix)?;
        (d.len() == digits && d.bytes().all(|b| b.is_ascii_digit())).then(|| d.parse().ok())?
    };
    let mut it = name.split('_');
    let s = part(it.next()?, 'S', 6)?;
    let p = part(it.next()?, 'P', 4)?;
    let t = part(it.next()?, 'T', 2)?;
    it.next().is_none().then_some((s, p, t))
}

/// Parses the CSL-Daily `split_1.txt` file (`name|split`).
pub fn parse_csl_split(text: &str, file: &str) -> Result<Vec<CslSplitEntry>, AnnotationError> {
    let rows = table(text, file, '|', &[&CSL_SPLIT_HEADER], false)?;
    let mut out = Vec::with_capacity(rows.len());
    for (line, f) in rows {
        let name = f[0].trim();
        let (sentence, signer, take) = parse_csl_name(name).ok_or_else(|| {
            field_err(
                file,
                line,
                "name",
                format!("{name:?} is not S<6 digits>_P<4 digits>_T<2 digits>"),
            )
        })?;
        let split = Split::parse(f[1].trim()).ok_or_else(|| {
            field_err(
                file,
                line,
                "split",
                format!("{:?} is not train, dev or test", f[1]),
            )
        })?;
        out.push(CslSplitEntry {
            name: name.to_string(),
            split,
            sentence,
            signer,
            take,
        });
    }
    Ok(out)
}

/// Reads the CSL-Daily split file.
pub fn read_csl_split(path: impl AsRef<Path>) -> Result<Vec<CslSplitEntry>, AnnotationError> {
    let (file, text) = read_text(path.as_ref())?;
    parse_csl_split(&text, &file)
}

/// Parses a caption TSV (`sentence_id video_name num_frames text_en text_orig`).
pub fn parse_caption_tsv(text: &str, file: &str) -> Result<Vec<CaptionRecord>, AnnotationError> {
    let rows = table(text, file, '\t', &[&CAPTION_HEADER], false)?;
    let mut out = Vec::with_capacity(rows.len());
    for (line, f) in rows {
        if f[0].is_empty() || f[1].is_empty() {
            let col = if f[0].is_empty() {
                "sentence_id"
            } else {
                "video_name"
            };
            return Err(field_err(file, line, col, "empty".into()));
        }
        let num_frames = f[2].trim().parse().map_err(|_| {
            field_err(
                file,
                line,
                "num_frames",
                format!("{:?} is not a frame count", f[2]),
            )
        })?;
        out.push(CaptionRecord {
            sentence_id: f[0].to_string(),
            video_name: f[1].to_string(),
            num_frames,
            text_en: f[3].to_string(),
            text_orig: f[4].to_string(),
        });
    }
    Ok(out)
}

/// Reads a caption TSV.
pub fn read_caption_tsv(path: impl AsRef<Path>) -> Result<Vec<CaptionRecord>, AnnotationError> {
    let (file, text) = read_text(path.as_ref())?;
    parse_caption_tsv(&text, &file)
}

/// Encodes caption records as TSV; fields must not contain tabs or line breaks.
pub fn encode_caption_tsv(
    records: &[CaptionRecord],
    file: &str,
) -> Result<String, AnnotationError> {
    let mut out = CAPTION_HEADER.join("\t");
    out.push('\n');
    for (i, r) in records.iter().enumerate() {
        let fields = [
            ("sentence_id", r.sentence_id.as_str()),
            ("video_name", r.video_name.as_str()),
            ("text_en", r.text_en.as_str()),
            ("text_orig", r.text_orig.as_str()),
        ];
        for (col, v) in fields {
            if v.contains(['\t', '\n', '\r']) {
                return Err(field_err(
                    file,
                    i + 2,
                    col,
                    "contains a tab or line break".into(),
                ));
            }
        }
        out.push_str(&format!(
            "{}\t{}\t{}\t{}\t{}\n",
            r.sentence_id, r.video_name, r.num_frames, r.text_en, r.text_orig
        ));
    }
    Ok(out)
}

/// Writes caption records as a TSV file.
pub fn write_caption_tsv(
    path: impl AsRef<Path>,
    records: &[CaptionRecord],
) -> Result<(), AnnotationError> {
    let path = path.as_ref();
    let file = path.display().to_string();
    let text = encode_caption_tsv(records, &file)?;
    std::fs::write(path, text).map_err(|source| AnnotationError::Io { file, source })
}

#[cfg(test)]
mod tests {
    use super::*;

    const H2S: &str = "VIDEO_ID\tVIDEO_NAME\tSENTENCE_ID\tSENTENCE_NAME\tSTART_REALIGNED\tEND_REALIGNED\tSENTENCE\r\n\
-qX4b9Lm2Tz\t-qX4b9Lm2Tz-2-rgb_front\t-qX4b9Lm2Tz_0\t-qX4b9Lm2Tz_0-2-rgb_front\t0.41\t5.12\tHello, today I will fix a flat tire.\r\n\
--a_b-c\t--a_b-c-10-rgb_front\t--a_b-c_12\t--a_b-c_12-10-rgb_front\t3\t4.5\t\"He said \"\"hi\"\", then left\"\n\
\n";

    #[test]
    fn how2sign_names_split_from_the_right() {
        let rows = parse_how2sign_tsv(H2S, "h.tsv").expect("parses");
        assert_eq!(rows.len(), 2);
        assert_eq!(rows[0].video_id, "-qX4b9Lm2Tz");
        assert_eq!(rows[0].take, "2");
        assert_eq!(rows[0].view, "rgb_front");
        assert_eq!(rows[0].sentence_index, 0);
        assert_eq!(rows[0].start, 0.41);
        assert_eq!(rows[0].sentence, "Hello, today I will fix a flat tire.");
        assert_eq!(rows[1].video_id, "--a_b-c");
        assert_eq!(rows[1].take, "10");
        assert_eq!(rows[1].sentence_index, 12);
        assert_eq!(rows[1].sentence_name, "--a_b-c_12-10-rgb_front");
        assert_eq!(rows[1].sentence, "He said \"hi\", then left");
        assert_eq!(unquote("\"a\" b \"c\""), "\"a\" b \"c\"");
        let orig = H2S.replacen("START_REALIGNED\tEND_REALIGNED", "START\tEND", 1);
        assert_eq!(
            parse_how2sign_tsv(&orig, "h.tsv")
                .expect("original header")
                .len(),
            2
        );
    }

    #[test]
    fn how2sign_errors_name_line_and_column() {
        let bad = H2S.replace("-qX4b9Lm2Tz_0-2-rgb_front", "-qX4b9Lm2Tz_0-3-rgb_front");
        let e = parse_how2sign_tsv(&bad, "h.tsv").unwrap_err().to_string();
        assert!(e.starts_with("h.tsv: line 2: column SENTENCE_NAME"), "{e}");
        let bad = H2S.replace("\t5.12\t", "\tfive\t");
        let e = parse_how2sign_tsv(&bad, "h.tsv").unwrap_err().to_string();
        assert!(e.starts_with("h.tsv: line 2: column END"), "{e}");
        let bad = H2S.replace("\t3\t4.5\t", "\t3\t");
        let e = parse_how2sign_tsv(&bad, "h.tsv").unwrap_err().to_string();
        assert_eq!(e, "h.tsv: line 3: expected 7 columns, found 6");
        let e = parse_how2sign_tsv("VIDEO_ID\tX\n", "h.tsv")
            .unwrap_err()
            .to_string();
        assert!(e.starts_with("h.tsv: line 1: expected header"), "{e}");
        assert!(matches!(
            parse_how2sign_tsv("\n\n", "h.tsv"),
            Err(AnnotationError::Empty { .. })
        ));
    }

    #[test]
    fn phoenix_and_csl() {
        let t = "name|video|start|end|speaker|orth|translation\n\
02May_2011_Monday_heute-1234|02May_2011_Monday_heute-1234/1/*.png|-1|-1|Signer07|MORGEN NORD SONNE|morgen im norden sonne\n";
        let p = parse_phoenix_corpus(t, "p.csv").expect("parses");
        assert_eq!(p[0].speaker, "Signer07");
        assert_eq!(p[0].start, -1);
        assert_eq!(p[0].glosses(), vec!["MORGEN", "NORD", "SONNE"]);
        let e = parse_phoenix_corpus(&t.replace("|-1|-1|", "|x|-1|"), "p.csv")
            .unwrap_err()
            .to_string();
        assert!(e.starts_with("p.csv: line 2: column start"), "{e}");
        let e = parse_phoenix_corpus(&format!("{t}a|b|c\n"), "p.csv")
            .unwrap_err()
            .to_string();
        assert_eq!(e, "p.csv: line 3: expected 7 columns, found 3");

        let c = "\u{feff}name|split\nS000007_P0003_T00|train\nS000123_P0010_T01|test\n";
        let s = parse_csl_split(c, "s.txt").expect("parses");
        assert_eq!(s[0].sentence, 7);
        assert_eq!(s[0].signer, 3);
        assert_eq!(s[1].take, 1);
        assert_eq!(s[1].split, Split::Test);
        let e = parse_csl_split(&c.replace("S000123", "S123"), "s.txt")
            .unwrap_err()
            .to_string();
        assert!(e.starts_with("s.txt: line 3: column name"), "{e}");
        let e = parse_csl_split(&c.replace("|train", "|eval"), "s.txt")
            .unwrap_err()
            .to_string();
        assert!(e.starts_with("s.txt: line 2: column split"), "{e}");
    }

    #[test]
    fn captions_roundtrip_and_errors() {
        let recs = vec![CaptionRecord {
            sentence_id: "s1".into(),
            video_name: "v1".into(),
            num_frames: 42,
            text_en: "Hello, \"world\"".into(),
            text_orig: "hallo welt".into(),
        }];
        let text = encode_caption_tsv(&recs, "c.tsv").expect("encodes");
        assert_eq!(parse_caption_tsv(&text, "c.tsv").expect("parses"), recs);
        let mut bad = recs.clone();
        bad[0].text_en = "a\tb".into();
        let e = encode_caption_tsv(&bad, "c.tsv").unwrap_err().to_string();
        assert_eq!(
            e,
            "c.tsv: line 2: column text_en: contains a tab or line break"
        );
        let e = parse_caption_tsv(&text.replace("\t42\t", "\t-4\t"), "c.tsv")
            .unwrap_err()
            .to_string();
        assert!(e.starts_with("c.tsv: line 2: column num_frames"), "{e}");
    }
}
