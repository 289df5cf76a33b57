//! Printing tables in the three output formats every listing command supports.

use clap::ValueEnum;
use serde_json::Value;

/// Output format of a listing.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// Aligned text table.
    #[default]
    Table,
    /// JSON (an array of objects).
    Json,
    /// CSV with a header row.
    Csv,
}

/// A table: named columns and rows of JSON values (strings, numbers, null).
#[derive(Clone, Debug, Default)]
pub struct Table {
    /// Column names.
    pub columns: Vec<String>,
    /// Rows, each as long as `columns`.
    pub rows: Vec<Vec<Value>>,
}

impl Table {
    /// A table with the given columns and no rows.
    pub fn new<S: Into<String>>(columns: impl IntoIterator<Item = S>) -> Self {
        Table {
            columns: columns.into_iter().map(Into::into).collect(),
            rows: Vec::new(),
        }
    }

    /// Appends a row.
    pub fn push(&mut self, row: Vec<Value>) {
        self.rows.push(row);
    }

    /// Renders in `format`.
    pub fn render(&self, format: Format) -> String {
        match format {
            Format::Table => self.render_text(),
            Format::Json => {
                let arr: Vec<Value> = self
                    .rows
                    .iter()
                    .map(|r| {
                        let mut m = serde_json::Map::new();
                        for (c, v) in self.columns.iter().zip(r) {
                            m.insert(c.clone(), v.clone());
                        }
                        Value::Object(m)
                    })
                    .collect();
                serde_json::to_string_pretty(&arr).unwrap_or_default() + "\n"
            }
            Format::Csv => {
                let mut out = self
                    .columns
                    .iter()
                    .map(|c| csv_field(c))
                    .collect::<Vec<_>>()
                    .join(",");
                out.push('\n');
                for r in &self.rows {
                    out.push_str(
                        &r.iter()
                            .map(|v| csv_field(&cell_text(v)))
                            .collect::<Vec<_>>()
                            .join(","),
                    );
                    out.push('\n');
                }
                out
            }
        }
    }

    fn render_text(&self) -> String {
        let texts: Vec<Vec<String>> = self
            .rows
            .iter()
            .map(|r| r.iter().map(cell_text).collect())
            .collect();
        let mut widths: Vec<usize> = self.columns.iter().map(|c| c.chars().count()).collect();
        for r in &texts {
            for (i, t) in r.iter().enumerate() {
                widths[i] = widths[i].max(t.chars().count());
            }
        }
        let line = |cells: &[String]| {
            cells
                .iter()
                .enumerate()
                .map(|(i, c)| format!("{:<w$}", c, w = widths[i]))
                .collect::<Vec<_>>()
                .join("  ")
                .trim_end()
                .to_string()
        };
        let mut out = line(&self.columns);
        out.push('\n');
        out.push_str(
            &widths
                .iter()
                .map(|w| "-".repeat(*w))
                .collect::<Vec<_>>()
                .join("  "),
        );
        out.push('\n');
        for r in &texts {
            out.push_str(&line(r));
            out.push('\n');
        }
        out
    }
}

/// Text of one cell: strings as-is, numbers compactly, null as "-".
pub fn cell_text(v: &Value) -> String {
    match v {
        Value::Null => "-".into(),
        Value::String(s) => s.clone(),
        Value::Number(n) => match n.as_f64() {
            Some(f) if n.is_f64() => fmt_num(f),
            _ => n.to_string(),
        },
        other => other.to_string(),
    }
}

/// Compact number formatting for tables (at most 4 significant decimals).
pub fn fmt_num(x: f64) -> String {
    if x == x.trunc() && x.abs() < 1e12 {
        format!("{x:.0}")
    } else if x.abs() >= 100.0 {
        format!("{x:.2}")
    } else {
        let s = format!("{x:.4}");
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    }
}

fn csv_field(s: &str) -> String {
    if s.contains([',', '"', '\n']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}

/// A JSON number from an f64 (NaN/inf become null).
pub fn num(x: f64) -> Value {
    serde_json::Number::from_f64(x)
        .map(Value::Number)
        .unwrap_or(Value::Null)
}

/// A JSON number from an optional f64.
pub fn opt_num(x: Option<f64>) -> Value {
    x.map(num).unwrap_or(Value::Null)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_all_formats() {
        let mut t = Table::new(["cell", "r1"]);
        t.push(vec![Value::from("a,b"), num(12.5)]);
        t.push(vec![Value::from("c"), Value::Null]);
        assert_eq!(t.render(Format::Csv), "cell,r1\n\"a,b\",12.5\nc,-\n");
        let j: Value = serde_json::from_str(&t.render(Format::Json)).unwrap();
        assert_eq!(j[0]["r1"], 12.5);
        let text = t.render(Format::Table);
        assert!(text.starts_with("cell  r1\n----  ----\na,b   12.5\n"));
    }
}
