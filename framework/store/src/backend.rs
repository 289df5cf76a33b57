//! Dialect plumbing shared by every [`crate::Store`] method: uniform typed row access over
//! SQLite and PostgreSQL rows ([`RowGet`]), `?` -> `$n` placeholder rewriting, and turning
//! arbitrary query results into JSON values for the read-only `query` command.

use std::fmt::Write as _;

use sqlx::postgres::PgRow;
use sqlx::sqlite::SqliteRow;
use sqlx::{Row, TypeInfo, ValueRef};

use crate::error::{DbContext, StoreError};

/// Typed column access implemented for both backends' rows, so decoding code is written once.
pub(crate) trait RowGet {
    /// A non-null integer column.
    fn i64_(&self, col: &str) -> Result<i64, sqlx::Error>;
    /// A nullable integer column.
    fn opt_i64(&self, col: &str) -> Result<Option<i64>, sqlx::Error>;
    /// A non-null float column.
    fn f64_(&self, col: &str) -> Result<f64, sqlx::Error>;
    /// A nullable float column.
    fn opt_f64(&self, col: &str) -> Result<Option<f64>, sqlx::Error>;
    /// A non-null text column.
    fn str_(&self, col: &str) -> Result<String, sqlx::Error>;
    /// A nullable text column.
    fn opt_str(&self, col: &str) -> Result<Option<String>, sqlx::Error>;
    /// A nullable boolean column (SQLite stores 0/1).
    fn opt_bool(&self, col: &str) -> Result<Option<bool>, sqlx::Error>;
}

macro_rules! impl_row_get {
    ($row:ty) => {
        impl RowGet for $row {
            fn i64_(&self, col: &str) -> Result<i64, sqlx::Error> {
                self.try_get(col)
            }
            fn opt_i64(&self, col: &str) -> Result<Option<i64>, sqlx::Error> {
                self.try_get(col)
            }
            fn f64_(&self, col: &str) -> Result<f64, sqlx::Error> {
                self.try_get(col)
            }
            fn opt_f64(&self, col: &str) -> Result<Option<f64>, sqlx::Error> {
                self.try_get(col)
            }
            fn str_(&self, col: &str) -> Result<String, sqlx::Error> {
                self.try_get(col)
            }
            fn opt_str(&self, col: &str) -> Result<Option<String>, sqlx::Error> {
                self.try_get(col)
            }
            fn opt_bool(&self, col: &str) -> Result<Option<bool>, sqlx::Error> {
                self.try_get(col)
            }
        }
    };
}

impl_row_get!(SqliteRow);
impl_row_get!(PgRow);

/// Rewrites `?` placeholders to PostgreSQL's `$1, $2, ...` (outside quoted strings and
/// identifiers). SQLite keeps `?`.
pub(crate) fn to_dollar(sql: &str) -> String {
    let mut out = String::with_capacity(sql.len() + 16);
    let mut n = 0;
    let mut quote: Option<char> = None;
    for c in sql.chars() {
        match quote {
            Some(q) => {
                out.push(c);
                if c == q {
                    quote = None;
                }
            }
            None if c == '\'' || c == '"' => {
                quote = Some(c);
                out.push(c);
            }
            None if c == '?' => {
                n += 1;
                let _ = write!(out, "${n}");
            }
            None => out.push(c),
        }
    }
    out
}

/// One column of a SQLite query result as JSON.
pub(crate) fn sqlite_json(row: &SqliteRow, i: usize) -> Result<serde_json::Value, StoreError> {
    let op = "decoding a query column";
    let raw = row.try_get_raw(i).ctx(op)?;
    if raw.is_null() {
        return Ok(serde_json::Value::Null);
    }
    let ty = raw.type_info().name().to_string();
    Ok(match ty.as_str() {
        "INTEGER" | "BOOLEAN" => {
            serde_json::Value::from(row.try_get_unchecked::<i64, _>(i).ctx(op)?)
        }
        "REAL" => float_json(row.try_get_unchecked(i).ctx(op)?),
        "BLOB" => {
            let b: Vec<u8> = row.try_get_unchecked(i).ctx(op)?;
            serde_json::Value::String(hex(&b))
        }
        _ => serde_json::Value::String(row.try_get_unchecked::<String, _>(i).ctx(op)?),
    })
}

fn float_json(x: f64) -> serde_json::Value {
    serde_json::Number::from_f64(x)
        .map(serde_json::Value::Number)
        .unwrap_or(serde_json::Value::Null)
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

/// One column of a PostgreSQL query result as JSON. Values arrive in PostgreSQL's binary
/// format; the common types are converted (integers, floats, NUMERIC, booleans, text, bytea,
/// json/jsonb); any other type is an error that names the column and says to cast it to text.
pub(crate) fn pg_json(row: &PgRow, i: usize) -> Result<serde_json::Value, StoreError> {
    let op = "decoding a query column";
    let raw = row.try_get_raw(i).ctx(op)?;
    if raw.is_null() {
        return Ok(serde_json::Value::Null);
    }
    let ty = raw.type_info().name().to_string();
    Ok(match ty.as_str() {
        "INT2" => serde_json::Value::from(row.try_get::<i16, _>(i).ctx(op)?),
        "INT4" => serde_json::Value::from(row.try_get::<i32, _>(i).ctx(op)?),
        "INT8" => serde_json::Value::from(row.try_get::<i64, _>(i).ctx(op)?),
        "OID" => {
            serde_json::Value::from(row.try_get::<sqlx::postgres::types::Oid, _>(i).ctx(op)?.0)
        }
        "FLOAT4" => float_json(row.try_get::<f32, _>(i).ctx(op)? as f64),
        "FLOAT8" => float_json(row.try_get::<f64, _>(i).ctx(op)?),
        "BOOL" => serde_json::Value::Bool(row.try_get(i).ctx(op)?),
        "BYTEA" => serde_json::Value::String(hex(&row.try_get::<Vec<u8>, _>(i).ctx(op)?)),
        "NUMERIC" => {
            let bytes = raw.as_bytes().map_err(|e| StoreError::Decode {
                column: column_name(row, i),
                reason: e.to_string(),
            })?;
            numeric_json(bytes).map_err(|reason| StoreError::Decode {
                column: column_name(row, i),
                reason,
            })?
        }
        "JSON" | "JSONB" => {
            let bytes = raw.as_bytes().map_err(|e| StoreError::Decode {
                column: column_name(row, i),
                reason: e.to_string(),
            })?;
            let text = if ty == "JSONB" {
                bytes.get(1..).unwrap_or(&[])
            } else {
                bytes
            };
            serde_json::from_slice(text).map_err(|e| StoreError::Decode {
                column: column_name(row, i),
                reason: e.to_string(),
            })?
        }
        "TEXT" | "VARCHAR" | "BPCHAR" | "NAME" | "UNKNOWN" | "CHAR" | "\"CHAR\"" | "CITEXT" => {
            serde_json::Value::String(row.try_get_unchecked::<String, _>(i).ctx(op)?)
        }
        other => {
            return Err(StoreError::Decode {
                column: column_name(row, i),
                reason: format!(
                    "type {other} is not shown by the query command; cast it, e.g. {}::text",
                    column_name(row, i)
                ),
            })
        }
    })
}

fn column_name(row: &PgRow, i: usize) -> String {
    use sqlx::Column;
    row.columns()
        .get(i)
        .map(|c| c.name().to_string())
        .unwrap_or_else(|| format!("#{i}"))
}

/// Decodes PostgreSQL's binary NUMERIC (ndigits, weight, sign, dscale, base-10000 digits) to
/// a JSON number: an integer when it has no fraction and fits i64, else a float.
pub(crate) fn numeric_json(b: &[u8]) -> Result<serde_json::Value, String> {
    let rd = |at: usize| -> Result<u16, String> {
        b.get(at..at + 2)
            .map(|s| u16::from_be_bytes([s[0], s[1]]))
            .ok_or_else(|| format!("NUMERIC value truncated at byte {at}"))
    };
    let ndigits = rd(0)? as usize;
    let weight = rd(2)? as i16 as i64;
    let sign = rd(4)?;
    let dscale = rd(6)? as i64;
    match sign {
        0x0000 | 0x4000 => {}
        0xC000 | 0xD000 | 0xF000 => return Ok(serde_json::Value::Null), // NaN, +-Infinity
        other => return Err(format!("NUMERIC sign word {other:#06x} is invalid")),
    }
    let mut digits = Vec::with_capacity(ndigits);
    for k in 0..ndigits {
        digits.push(rd(8 + 2 * k)? as i64);
    }
    let digit = |i: i64| -> i64 {
        if i < 0 {
            0
        } else {
            digits.get(i as usize).copied().unwrap_or(0)
        }
    };
    let mut s = String::new();
    if sign == 0x4000 {
        s.push('-');
    }
    if weight < 0 {
        s.push('0');
    } else {
        for p in (0..=weight).rev() {
            let d = digit(weight - p);
            if p == weight {
                let _ = write!(s, "{d}");
            } else {
                let _ = write!(s, "{d:04}");
            }
        }
    }
    if dscale > 0 {
        let mut frac = String::new();
        let groups = (dscale + 3) / 4;
        for q in 1..=groups {
            let _ = write!(frac, "{:04}", digit(weight + q));
        }
        frac.truncate(dscale as usize);
        s.push('.');
        s.push_str(&frac);
    }
    if dscale == 0 {
        if let Ok(i) = s.parse::<i64>() {
            return Ok(serde_json::Value::from(i));
        }
    }
    s.parse::<f64>()
        .map(float_json)
        .map_err(|e| format!("NUMERIC '{s}': {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_become_numbered_outside_quotes() {
        assert_eq!(
            to_dollar("SELECT * FROM t WHERE a = ? AND b = '?' AND c IN (?, ?)"),
            "SELECT * FROM t WHERE a = $1 AND b = '?' AND c IN ($2, $3)"
        );
        assert_eq!(to_dollar("SELECT \"x?\" FROM t"), "SELECT \"x?\" FROM t");
        assert_eq!(to_dollar("no binds"), "no binds");
    }

    fn num(ndigits: u16, weight: i16, sign: u16, dscale: u16, digits: &[u16]) -> Vec<u8> {
        let mut v = Vec::new();
        for w in [ndigits, weight as u16, sign, dscale] {
            v.extend_from_slice(&w.to_be_bytes());
        }
        for d in digits {
            v.extend_from_slice(&d.to_be_bytes());
        }
        v
    }

    #[test]
    fn numeric_binary_decoding() {
        // 1234 (SUM of integers): one group, weight 0, scale 0.
        assert_eq!(
            numeric_json(&num(1, 0, 0, 0, &[1234])),
            Ok(serde_json::json!(1234))
        );
        // 761761 = 76 | 1761
        assert_eq!(
            numeric_json(&num(2, 1, 0, 0, &[76, 1761])),
            Ok(serde_json::json!(761761))
        );
        // -12.5 = 12 | .5000, scale 1
        assert_eq!(
            numeric_json(&num(2, 0, 0x4000, 1, &[12, 5000])),
            Ok(serde_json::json!(-12.5))
        );
        // 0.00012 = 0.|0001|2000: weight -1, scale 5
        assert_eq!(
            numeric_json(&num(2, -1, 0, 5, &[1, 2000])),
            Ok(serde_json::json!(0.00012))
        );
        // 0.000012 = 0.|0000|1200: weight -2, scale 6
        assert_eq!(
            numeric_json(&num(1, -2, 0, 6, &[1200])),
            Ok(serde_json::json!(0.000012))
        );
        // zero with scale 2, no digits
        assert_eq!(
            numeric_json(&num(0, 0, 0, 2, &[])),
            Ok(serde_json::json!(0.0))
        );
        // NaN -> null; truncated -> error
        assert_eq!(
            numeric_json(&num(0, 0, 0xC000, 0, &[])),
            Ok(serde_json::Value::Null)
        );
        assert!(numeric_json(&[0, 1]).is_err());
        assert!(numeric_json(&num(2, 0, 0, 0, &[1])).is_err());
        assert!(numeric_json(&num(1, 0, 0x1234, 0, &[1])).is_err());
    }
}
