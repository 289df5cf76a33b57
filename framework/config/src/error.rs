//! Configuration errors: one [`ConfigError`] per problem (file, line, column, key path, message,
//! expectation, suggestion) and [`ConfigErrors`], the list a failed load returns.

use std::fmt;
use std::path::PathBuf;

/// One problem found in an experiment file (or in a `--set` override).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConfigError {
    /// File the problem is in (`--set` for command-line overrides).
    pub file: PathBuf,
    /// 1-based line, when the problem has a position.
    pub line: Option<usize>,
    /// 1-based column (in characters), when the problem has a position.
    pub column: Option<usize>,
    /// Dotted key path the problem concerns (empty for whole-file problems).
    pub key: String,
    /// What is wrong.
    pub message: String,
    /// What was expected instead, if known.
    pub expected: Option<String>,
    /// "Did you mean" suggestion for misspelt keys or values.
    pub suggestion: Option<String>,
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.file.display())?;
        if let Some(line) = self.line {
            write!(f, ":{line}")?;
            if let Some(col) = self.column {
                write!(f, ":{col}")?;
            }
        }
        write!(f, ": ")?;
        if !self.key.is_empty() {
            write!(f, "{}: ", self.key)?;
        }
        write!(f, "{}", self.message)?;
        match (&self.expected, &self.suggestion) {
            (Some(e), Some(s)) => write!(f, " (expected {e}; did you mean `{s}`?)"),
            (Some(e), None) => write!(f, " (expected {e})"),
            (None, Some(s)) => write!(f, " (did you mean `{s}`?)"),
            (None, None) => Ok(()),
        }
    }
}

impl std::error::Error for ConfigError {}

/// Every problem found while loading an experiment (never empty when returned as an error).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConfigErrors(pub Vec<ConfigError>);

impl ConfigErrors {
    /// Number of errors.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// True when there are no errors.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Iterate over the errors.
    pub fn iter(&self) -> std::slice::Iter<'_, ConfigError> {
        self.0.iter()
    }
}

impl fmt::Display for ConfigErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, e) in self.0.iter().enumerate() {
            if i > 0 {
                writeln!(f)?;
            }
            write!(f, "{e}")?;
        }
        Ok(())
    }
}

impl std::error::Error for ConfigErrors {}

/// Convert a byte offset in `text` to a 1-based (line, column in characters).
pub(crate) fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let offset = offset.min(text.len());
    // Step back to a char boundary so slicing cannot panic.
    let mut off = offset;
    while off > 0 && !text.is_char_boundary(off) {
        off -= 1;
    }
    let before = &text[..off];
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map(|i| i + 1).unwrap_or(0);
    let column = before[line_start..].chars().count() + 1;
    (line, column)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_col_counts_lines_and_chars() {
        let t = "ab\ncdé\nxyz";
        assert_eq!(line_col(t, 0), (1, 1));
        assert_eq!(line_col(t, 3), (2, 1));
        assert_eq!(line_col(t, 5), (2, 3));
        // 'é' is two bytes: offset 7 is after it.
        assert_eq!(line_col(t, 7), (2, 4));
        assert_eq!(line_col(t, 8), (3, 1));
        assert_eq!(line_col(t, 999), (3, 4));
    }

    #[test]
    fn display_formats_all_parts() {
        let e = ConfigError {
            file: "exp.toml".into(),
            line: Some(3),
            column: Some(7),
            key: "model.fusion".into(),
            message: "unknown value \"cgaff\"".into(),
            expected: Some("one of \"cgaf\", \"mlp\"".into()),
            suggestion: Some("cgaf".into()),
        };
        assert_eq!(
            e.to_string(),
            "exp.toml:3:7: model.fusion: unknown value \"cgaff\" (expected one of \"cgaf\", \"mlp\"; did you mean `cgaf`?)"
        );
        let e2 = ConfigError {
            line: None,
            column: None,
            key: String::new(),
            expected: None,
            suggestion: None,
            ..e
        };
        assert_eq!(e2.to_string(), "exp.toml: unknown value \"cgaff\"");
    }
}
