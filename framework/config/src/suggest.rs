//! "Did you mean": edit distance (optimal string alignment, i.e. Damerau-Levenshtein with
//! adjacent transpositions) and the closest allowed name within a length-dependent limit.

/// Optimal-string-alignment distance between `a` and `b` (insert, delete, substitute,
/// swap of two adjacent characters each cost 1), case-insensitive.
pub fn edit_distance(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.to_lowercase().chars().collect();
    let b: Vec<char> = b.to_lowercase().chars().collect();
    let (n, m) = (a.len(), b.len());
    let mut d = vec![vec![0usize; m + 1]; n + 1];
    for (i, row) in d.iter_mut().enumerate() {
        row[0] = i;
    }
    for j in 0..=m {
        d[0][j] = j;
    }
    for i in 1..=n {
        for j in 1..=m {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            let mut v = (d[i - 1][j] + 1)
                .min(d[i][j - 1] + 1)
                .min(d[i - 1][j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                v = v.min(d[i - 2][j - 2] + 1);
            }
            d[i][j] = v;
        }
    }
    d[n][m]
}

/// The allowed name closest to `word`, if its distance is at most 2 and at most a third of
/// the longer length (at least 1). Ties go to the first candidate.
pub fn closest<'a, I, S>(word: &str, candidates: I) -> Option<String>
where
    I: IntoIterator<Item = &'a S>,
    S: AsRef<str> + 'a + ?Sized,
{
    let mut best: Option<(usize, String)> = None;
    for c in candidates {
        let c = c.as_ref();
        if c == word {
            continue;
        }
        let d = edit_distance(word, c);
        let len = word.chars().count().max(c.chars().count());
        let limit = (len / 3).clamp(1, 2);
        if d <= limit && best.as_ref().is_none_or(|(bd, _)| d < *bd) {
            best = Some((d, c.to_string()));
        }
    }
    best.map(|(_, s)| s)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn distances() {
        assert_eq!(edit_distance("", "abc"), 3);
        assert_eq!(edit_distance("alpha", "alpha"), 0);
        assert_eq!(edit_distance("alpah", "alpha"), 1); // transposition
        assert_eq!(edit_distance("kitten", "sitting"), 3);
        assert_eq!(edit_distance("Fusion", "fusion"), 0);
    }

    #[test]
    fn closest_respects_limits() {
        let c = ["alpha", "beta", "tau", "dual_mix"];
        assert_eq!(closest("alpah", &c), Some("alpha".into()));
        assert_eq!(closest("tua", &c), Some("tau".into()));
        assert_eq!(closest("gamma", &c), None);
        // Two edits on a 3-letter word is too far.
        assert_eq!(closest("tx", &c), None);
        assert_eq!(closest("dualmix", &c), Some("dual_mix".into()));
    }
}
