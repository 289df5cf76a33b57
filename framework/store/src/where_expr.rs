//! The `--where` expression language (pure): parse a filter such as
//! `loss.alpha >= 0.4 and (test.t2v_r1 > 50 or not model.fusion = concat)` and evaluate it
//! over a run's params, final metrics and columns.
//!
//! Grammar (keywords case-insensitive):
//! ```text
//! expr    := or
//! or      := and ("or" and)*
//! and     := unary ("and" unary)*
//! unary   := "not" unary | primary
//! primary := "(" expr ")" | operand (cmp operand)?
//! cmp     := "=" | "==" | "!=" | "<>" | "<" | "<=" | ">" | ">="
//! operand := number | 'quoted' | "quoted" | word
//! ```
//! A word on the LEFT of a comparison (or alone) is an identifier. On the right, a word is an
//! identifier when it contains a dot or is a reserved column (`status`, `cell`, `seed`, `id`,
//! `experiment`), and a plain string otherwise (`model.fusion = cgaf`). `true`/`false` are
//! booleans. An identifier resolves, in order, to a reserved column, a param with that exact
//! key, or a final metric `split.name`. A comparison with a missing value is false.

use std::collections::BTreeMap;
use std::fmt;

use crate::types::ParamValue;

/// Reserved identifiers that name run columns rather than params or metrics.
pub const RESERVED: &[&str] = &["status", "cell", "seed", "id", "experiment"];

/// A parse or resolution error; `column` is 1-based in the expression text.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum WhereError {
    /// The expression does not parse.
    #[error("--where expression, column {column}: {message}")]
    Parse {
        /// 1-based character column.
        column: usize,
        /// What was expected or found.
        message: String,
    },
    /// An identifier resolves to nothing in any of the runs considered.
    #[error("--where expression, column {column}: '{name}' is not a param, a final metric (split.name) or a run column (status, cell, seed, id, experiment) of any run{hint}")]
    UnknownIdentifier {
        /// 1-based character column.
        column: usize,
        /// The identifier.
        name: String,
        /// A " (did you mean ...?)" hint or empty.
        hint: String,
    },
}

/// Comparison operators.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CmpOp {
    /// `=` / `==`
    Eq,
    /// `!=` / `<>`
    Ne,
    /// `<`
    Lt,
    /// `<=`
    Le,
    /// `>`
    Gt,
    /// `>=`
    Ge,
}

/// An operand of a comparison.
#[derive(Clone, Debug, PartialEq)]
pub enum Operand {
    /// An identifier resolved per run; `column` is where it starts.
    Ident {
        /// Dotted name.
        name: String,
        /// 1-based column.
        column: usize,
    },
    /// A number literal.
    Num(f64),
    /// A string literal (quoted or bare word).
    Str(String),
    /// `true` / `false`.
    Bool(bool),
}

/// A parsed expression.
#[derive(Clone, Debug, PartialEq)]
pub enum Expr {
    /// Both true.
    And(Box<Expr>, Box<Expr>),
    /// Either true.
    Or(Box<Expr>, Box<Expr>),
    /// Negation.
    Not(Box<Expr>),
    /// A comparison.
    Cmp(Operand, CmpOp, Operand),
    /// A lone operand, true when it is boolean true (or a non-zero number).
    Truthy(Operand),
}

/// The values an identifier can take for one run.
#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    /// Number.
    Num(f64),
    /// String.
    Str(String),
    /// Boolean.
    Bool(bool),
}

/// What an expression is evaluated against: one run's columns, params and final metrics.
pub struct EvalRow<'a> {
    /// Reserved columns (status upper-case, cell, seed, id, experiment).
    pub columns: BTreeMap<&'static str, Value>,
    /// Params by key.
    pub params: &'a BTreeMap<String, ParamValue>,
    /// Final metrics by `split.name`.
    pub finals: &'a BTreeMap<String, f64>,
}

impl EvalRow<'_> {
    /// Resolves an identifier: reserved column, then param, then final metric.
    pub fn resolve(&self, name: &str) -> Option<Value> {
        if let Some(v) = self.columns.get(name) {
            return Some(v.clone());
        }
        if let Some(p) = self.params.get(name) {
            return Some(match p {
                ParamValue::Bool(b) => Value::Bool(*b),
                ParamValue::Int(i) => Value::Num(*i as f64),
                ParamValue::Float(x) => Value::Num(*x),
                ParamValue::Str(s) => Value::Str(s.clone()),
                ParamValue::Json(j) => Value::Str(j.to_string()),
            });
        }
        self.finals.get(name).map(|x| Value::Num(*x))
    }
}

#[derive(Clone, Debug, PartialEq)]
enum Tok {
    LParen,
    RParen,
    Op(CmpOp),
    Num(f64),
    Quoted(String),
    Word(String),
}

fn perr(column: usize, message: impl Into<String>) -> WhereError {
    WhereError::Parse {
        column,
        message: message.into(),
    }
}

fn is_word_char(c: char) -> bool {
    c.is_alphanumeric() || matches!(c, '_' | '.' | '-' | '/' | ':' | '@')
}

fn tokenize(src: &str) -> Result<Vec<(Tok, usize)>, WhereError> {
    let chars: Vec<char> = src.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let col = i + 1;
        if c.is_whitespace() {
            i += 1;
            continue;
        }
        match c {
            '(' => {
                out.push((Tok::LParen, col));
                i += 1;
            }
            ')' => {
                out.push((Tok::RParen, col));
                i += 1;
            }
            '=' => {
                i += if chars.get(i + 1) == Some(&'=') { 2 } else { 1 };
                out.push((Tok::Op(CmpOp::Eq), col));
            }
            '!' => {
                if chars.get(i + 1) == Some(&'=') {
                    out.push((Tok::Op(CmpOp::Ne), col));
                    i += 2;
                } else {
                    return Err(perr(
                        col,
                        "'!' must be followed by '=' (use 'not' for negation)",
                    ));
                }
            }
            '<' => match chars.get(i + 1) {
                Some('=') => {
                    out.push((Tok::Op(CmpOp::Le), col));
                    i += 2;
                }
                Some('>') => {
                    out.push((Tok::Op(CmpOp::Ne), col));
                    i += 2;
                }
                _ => {
                    out.push((Tok::Op(CmpOp::Lt), col));
                    i += 1;
                }
            },
            '>' => {
                if chars.get(i + 1) == Some(&'=') {
                    out.push((Tok::Op(CmpOp::Ge), col));
                    i += 2;
                } else {
                    out.push((Tok::Op(CmpOp::Gt), col));
                    i += 1;
                }
            }
            '\'' | '"' => {
                let quote = c;
                let mut s = String::new();
                let mut j = i + 1;
                loop {
                    match chars.get(j) {
                        None => {
                            return Err(perr(
                                col,
                                format!("unterminated string starting with {quote}"),
                            ))
                        }
                        Some('\\') if matches!(chars.get(j + 1), Some(&q) if q == quote || q == '\\') =>
                        {
                            s.push(chars[j + 1]);
                            j += 2;
                        }
                        Some(&ch) if ch == quote => break,
                        Some(&ch) => {
                            s.push(ch);
                            j += 1;
                        }
                    }
                }
                out.push((Tok::Quoted(s), col));
                i = j + 1;
            }
            _ if c.is_ascii_digit()
                || ((c == '-' || c == '+' || c == '.')
                    && chars
                        .get(i + 1)
                        .is_some_and(|d| d.is_ascii_digit() || *d == '.')) =>
            {
                let mut j = i + 1;
                while j < chars.len() {
                    let d = chars[j];
                    let exp_sign = (d == '-' || d == '+') && matches!(chars[j - 1], 'e' | 'E');
                    if d.is_ascii_digit() || d == '.' || d == 'e' || d == 'E' || exp_sign {
                        j += 1;
                    } else {
                        break;
                    }
                }
                let text: String = chars[i..j].iter().collect();
                if j < chars.len() && is_word_char(chars[j]) {
                    return Err(perr(
                        col,
                        format!("malformed number starting '{text}{}'", chars[j]),
                    ));
                }
                let x: f64 = text
                    .parse()
                    .map_err(|_| perr(col, format!("malformed number '{text}'")))?;
                out.push((Tok::Num(x), col));
                i = j;
            }
            _ if is_word_char(c) => {
                let mut j = i;
                while j < chars.len() && is_word_char(chars[j]) {
                    j += 1;
                }
                out.push((Tok::Word(chars[i..j].iter().collect()), col));
                i = j;
            }
            _ => return Err(perr(col, format!("unexpected character '{c}'"))),
        }
    }
    Ok(out)
}

struct Parser {
    toks: Vec<(Tok, usize)>,
    pos: usize,
    end_col: usize,
}

impl Parser {
    fn peek(&self) -> Option<&Tok> {
        self.toks.get(self.pos).map(|(t, _)| t)
    }
    fn col(&self) -> usize {
        self.toks
            .get(self.pos)
            .map(|(_, c)| *c)
            .unwrap_or(self.end_col)
    }
    fn keyword(&self, kw: &str) -> bool {
        matches!(self.peek(), Some(Tok::Word(w)) if w.eq_ignore_ascii_case(kw))
    }
    fn or(&mut self) -> Result<Expr, WhereError> {
        let mut lhs = self.and()?;
        while self.keyword("or") {
            self.pos += 1;
            let rhs = self.and()?;
            lhs = Expr::Or(Box::new(lhs), Box::new(rhs));
        }
        Ok(lhs)
    }
    fn and(&mut self) -> Result<Expr, WhereError> {
        let mut lhs = self.unary()?;
        while self.keyword("and") {
            self.pos += 1;
            let rhs = self.unary()?;
            lhs = Expr::And(Box::new(lhs), Box::new(rhs));
        }
        Ok(lhs)
    }
    fn unary(&mut self) -> Result<Expr, WhereError> {
        if self.keyword("not") {
            self.pos += 1;
            return Ok(Expr::Not(Box::new(self.unary()?)));
        }
        self.primary()
    }
    fn primary(&mut self) -> Result<Expr, WhereError> {
        let col = self.col();
        match self.peek().cloned() {
            Some(Tok::LParen) => {
                self.pos += 1;
                let e = self.or()?;
                match self.peek() {
                    Some(Tok::RParen) => {
                        self.pos += 1;
                        Ok(e)
                    }
                    _ => Err(perr(
                        self.col(),
                        format!("expected ')' to close '(' at column {col}"),
                    )),
                }
            }
            None => Err(perr(
                col,
                "expected a condition, found the end of the expression",
            )),
            Some(Tok::RParen) => Err(perr(col, "expected a condition, found ')'")),
            Some(Tok::Op(_)) => Err(perr(
                col,
                "expected a name or value before the comparison operator",
            )),
            Some(_) => {
                let lhs = self.operand(true)?;
                if let Some(Tok::Op(op)) = self.peek().cloned() {
                    let op_col = self.col();
                    self.pos += 1;
                    match self.peek() {
                        None | Some(Tok::RParen) | Some(Tok::Op(_)) => {
                            return Err(perr(
                                self.col(),
                                format!("expected a value after the operator at column {op_col}"),
                            ))
                        }
                        _ => {}
                    }
                    let rhs = self.operand(false)?;
                    Ok(Expr::Cmp(lhs, op, rhs))
                } else {
                    match &lhs {
                        Operand::Ident { .. } => Ok(Expr::Truthy(lhs)),
                        _ => Err(perr(col, "a value on its own is not a condition (expected a comparison like 'name >= 0.5')")),
                    }
                }
            }
        }
    }
    fn operand(&mut self, left: bool) -> Result<Operand, WhereError> {
        let col = self.col();
        let tok = self.peek().cloned();
        self.pos += 1;
        match tok {
            Some(Tok::Num(x)) => Ok(Operand::Num(x)),
            Some(Tok::Quoted(s)) => Ok(Operand::Str(s)),
            Some(Tok::Word(w)) => {
                let lower = w.to_ascii_lowercase();
                if matches!(lower.as_str(), "and" | "or" | "not") {
                    return Err(perr(
                        col,
                        format!("expected a name or value, found keyword '{w}'"),
                    ));
                }
                if lower == "true" || lower == "false" {
                    return Ok(Operand::Bool(lower == "true"));
                }
                if left || w.contains('.') || RESERVED.contains(&w.as_str()) {
                    Ok(Operand::Ident {
                        name: w,
                        column: col,
                    })
                } else {
                    Ok(Operand::Str(w))
                }
            }
            _ => Err(perr(col, "expected a name or value")),
        }
    }
}

/// Parses an expression; errors name the 1-based column.
pub fn parse(src: &str) -> Result<Expr, WhereError> {
    let toks = tokenize(src)?;
    let mut p = Parser {
        toks,
        pos: 0,
        end_col: src.chars().count() + 1,
    };
    let e = p.or()?;
    if p.pos < p.toks.len() {
        return Err(perr(
            p.col(),
            "unexpected text after a complete condition (missing 'and' / 'or'?)",
        ));
    }
    Ok(e)
}

impl Expr {
    /// All identifiers in the expression with their columns.
    pub fn identifiers(&self) -> Vec<(String, usize)> {
        let mut out = Vec::new();
        self.collect_idents(&mut out);
        out
    }
    fn collect_idents(&self, out: &mut Vec<(String, usize)>) {
        let push = |o: &Operand, out: &mut Vec<(String, usize)>| {
            if let Operand::Ident { name, column } = o {
                out.push((name.clone(), *column));
            }
        };
        match self {
            Expr::And(a, b) | Expr::Or(a, b) => {
                a.collect_idents(out);
                b.collect_idents(out);
            }
            Expr::Not(a) => a.collect_idents(out),
            Expr::Cmp(l, _, r) => {
                push(l, out);
                push(r, out);
            }
            Expr::Truthy(o) => push(o, out),
        }
    }

    /// Evaluates the expression for one run.
    pub fn eval(&self, row: &EvalRow<'_>) -> bool {
        match self {
            Expr::And(a, b) => a.eval(row) && b.eval(row),
            Expr::Or(a, b) => a.eval(row) || b.eval(row),
            Expr::Not(a) => !a.eval(row),
            Expr::Truthy(o) => match value_of(o, row) {
                Some(Value::Bool(b)) => b,
                Some(Value::Num(x)) => x != 0.0,
                _ => false,
            },
            Expr::Cmp(l, op, r) => {
                let is_status =
                    |o: &Operand| matches!(o, Operand::Ident { name, .. } if name == "status");
                let upper = is_status(l) || is_status(r);
                let (Some(mut a), Some(mut b)) = (value_of(l, row), value_of(r, row)) else {
                    return false;
                };
                if upper {
                    if let Value::Str(s) = &mut a {
                        *s = s.to_ascii_uppercase();
                    }
                    if let Value::Str(s) = &mut b {
                        *s = s.to_ascii_uppercase();
                    }
                }
                compare(&a, *op, &b)
            }
        }
    }
}

fn value_of(o: &Operand, row: &EvalRow<'_>) -> Option<Value> {
    match o {
        Operand::Ident { name, .. } => row.resolve(name),
        Operand::Num(x) => Some(Value::Num(*x)),
        Operand::Str(s) => Some(Value::Str(s.clone())),
        Operand::Bool(b) => Some(Value::Bool(*b)),
    }
}

fn apply<T: PartialOrd>(a: &T, op: CmpOp, b: &T) -> bool {
    match op {
        CmpOp::Eq => a == b,
        CmpOp::Ne => a != b,
        CmpOp::Lt => a < b,
        CmpOp::Le => a <= b,
        CmpOp::Gt => a > b,
        CmpOp::Ge => a >= b,
    }
}

/// Compares two values: numbers numerically (a numeric string counts as a number), strings
/// lexically, booleans by value (or as "true"/"false" against strings). Other mixes: only `!=` holds.
pub fn compare(a: &Value, op: CmpOp, b: &Value) -> bool {
    match (a, b) {
        (Value::Num(x), Value::Num(y)) => apply(x, op, y),
        (Value::Str(x), Value::Str(y)) => apply(x, op, y),
        (Value::Bool(x), Value::Bool(y)) => apply(x, op, y),
        (Value::Num(x), Value::Str(s)) => match s.trim().parse::<f64>() {
            Ok(y) => apply(x, op, &y),
            Err(_) => op == CmpOp::Ne,
        },
        (Value::Str(s), Value::Num(y)) => match s.trim().parse::<f64>() {
            Ok(x) => apply(&x, op, y),
            Err(_) => op == CmpOp::Ne,
        },
        (Value::Bool(x), Value::Str(s)) => apply(&x.to_string(), op, &s.to_ascii_lowercase()),
        (Value::Str(s), Value::Bool(y)) => apply(&s.to_ascii_lowercase(), op, &y.to_string()),
        _ => op == CmpOp::Ne,
    }
}

/// Checks that every identifier resolves in at least one row (when there are rows), so a typo
/// is an error rather than an empty list. Suggests the closest known name.
pub fn check_identifiers(expr: &Expr, rows: &[EvalRow<'_>]) -> Result<(), WhereError> {
    if rows.is_empty() {
        return Ok(());
    }
    for (name, column) in expr.identifiers() {
        if rows.iter().any(|r| r.resolve(&name).is_some()) {
            continue;
        }
        let mut best: Option<(usize, String)> = None;
        for r in rows {
            let names = RESERVED
                .iter()
                .map(|s| s.to_string())
                .chain(r.params.keys().cloned())
                .chain(r.finals.keys().cloned());
            for cand in names {
                let d = edit_distance(&name, &cand);
                if d <= 3.max(name.len() / 4) && best.as_ref().is_none_or(|(bd, _)| d < *bd) {
                    best = Some((d, cand));
                }
            }
        }
        let hint = best
            .map(|(_, c)| format!(" (did you mean '{c}'?)"))
            .unwrap_or_default();
        return Err(WhereError::UnknownIdentifier { column, name, hint });
    }
    Ok(())
}

/// Levenshtein distance (for "did you mean").
pub fn edit_distance(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for i in 1..=a.len() {
        let mut cur = vec![i; b.len() + 1];
        for j in 1..=b.len() {
            let sub = prev[j - 1] + usize::from(a[i - 1] != b[j - 1]);
            cur[j] = sub.min(prev[j] + 1).min(cur[j - 1] + 1);
        }
        prev = cur;
    }
    prev[b.len()]
}

impl fmt::Display for CmpOp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            CmpOp::Eq => "=",
            CmpOp::Ne => "!=",
            CmpOp::Lt => "<",
            CmpOp::Le => "<=",
            CmpOp::Gt => ">",
            CmpOp::Ge => ">=",
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row<'a>(
        params: &'a BTreeMap<String, ParamValue>,
        finals: &'a BTreeMap<String, f64>,
        status: &str,
    ) -> EvalRow<'a> {
        let mut columns = BTreeMap::new();
        columns.insert("status", Value::Str(status.to_string()));
        columns.insert("cell", Value::Str("alpha=0.4".to_string()));
        columns.insert("seed", Value::Num(3.0));
        EvalRow {
            columns,
            params,
            finals,
        }
    }

    fn fixture() -> (BTreeMap<String, ParamValue>, BTreeMap<String, f64>) {
        let mut p = BTreeMap::new();
        p.insert("loss.alpha".to_string(), ParamValue::Float(0.4));
        p.insert("model.fusion".to_string(), ParamValue::Str("cgaf".into()));
        p.insert("model.use_clcl".to_string(), ParamValue::Bool(true));
        p.insert("train.epochs".to_string(), ParamValue::Int(30));
        let mut f = BTreeMap::new();
        f.insert("test.t2v_r1".to_string(), 51.5);
        f.insert("dev.loss".to_string(), 0.25);
        (p, f)
    }

    fn ev(src: &str) -> bool {
        let (p, f) = fixture();
        parse(src).unwrap().eval(&row(&p, &f, "COMPLETED"))
    }

    #[test]
    fn parses_and_evaluates_the_issue_example() {
        assert!(ev("loss.alpha >= 0.4 and test.t2v_r1 > 50"));
        assert!(!ev("loss.alpha > 0.4 and test.t2v_r1 > 50"));
        assert!(ev("loss.alpha > 0.4 or test.t2v_r1 > 50"));
    }

    #[test]
    fn precedence_parentheses_and_not() {
        // and binds tighter than or: false or (true and true)
        assert!(ev("loss.alpha < 0 or seed = 3 and cell = 'alpha=0.4'"));
        // (false or true) and false
        assert!(!ev("(loss.alpha < 0 or seed = 3) and dev.loss > 1"));
        assert!(ev("not (dev.loss > 1)"));
        assert!(ev("NOT not seed = 3"));
        let e = parse("a = 1 or b = 2 and c = 3").unwrap();
        assert!(matches!(e, Expr::Or(_, ref r) if matches!(**r, Expr::And(_, _))));
    }

    #[test]
    fn strings_bare_words_bools_and_status() {
        assert!(ev("model.fusion = cgaf"));
        assert!(ev("model.fusion = \"cgaf\""));
        assert!(ev("model.fusion != concat"));
        assert!(ev("model.fusion < d")); // lexical
        assert!(ev("model.use_clcl = true"));
        assert!(ev("model.use_clcl"));
        assert!(!ev("not model.use_clcl"));
        assert!(ev("status = completed"));
        assert!(ev("status != failed"));
        assert!(ev("train.epochs == 30 and train.epochs <> 31"));
        assert!(ev("dev.loss <= 2.5e-1"));
        assert!(ev("seed > -1"));
    }

    #[test]
    fn missing_values_make_comparisons_false() {
        assert!(!ev("loss.beta > 0"));
        assert!(!ev("loss.beta <= 0"));
        assert!(ev("not loss.beta > 0"));
    }

    #[test]
    fn right_hand_dotted_word_is_an_identifier() {
        assert!(ev("test.t2v_r1 > dev.loss"));
        let e = parse("x = y.z").unwrap();
        assert_eq!(
            e,
            Expr::Cmp(
                Operand::Ident {
                    name: "x".into(),
                    column: 1
                },
                CmpOp::Eq,
                Operand::Ident {
                    name: "y.z".into(),
                    column: 5
                }
            )
        );
    }

    fn err_col(src: &str) -> (usize, String) {
        match parse(src) {
            Err(WhereError::Parse { column, message }) => (column, message),
            other => panic!("expected parse error for {src:?}, got {other:?}"),
        }
    }

    #[test]
    fn parse_errors_name_the_column() {
        assert_eq!(err_col("loss.alpha >= ").0, 15);
        assert_eq!(err_col("loss.alpha >= 0.4 and").0, 22);
        assert_eq!(err_col("(a = 1").0, 7);
        assert_eq!(err_col("a = 1)").0, 6);
        assert_eq!(err_col("a = 'abc").0, 5);
        assert_eq!(err_col("a ! 1").0, 3);
        assert_eq!(err_col("a = 1 b = 2").0, 7);
        assert_eq!(err_col("a = 1.2.3").0, 5);
        assert_eq!(err_col("= 3").0, 1);
        assert_eq!(err_col("3").0, 1);
        assert_eq!(err_col("").0, 1);
        assert_eq!(err_col("a = 1 and or b = 2").0, 11);
        assert_eq!(err_col("a = #").0, 5);
        let msg = parse("x >= ").unwrap_err().to_string();
        assert!(msg.contains("column 6"), "{msg}");
    }

    #[test]
    fn unknown_identifiers_are_reported_with_a_hint() {
        let (p, f) = fixture();
        let rows = vec![row(&p, &f, "COMPLETED")];
        let e = parse("loss.alpah >= 0.4").unwrap();
        match check_identifiers(&e, &rows) {
            Err(WhereError::UnknownIdentifier { column, name, hint }) => {
                assert_eq!(column, 1);
                assert_eq!(name, "loss.alpah");
                assert!(hint.contains("loss.alpha"), "{hint}");
            }
            other => panic!("{other:?}"),
        }
        let ok = parse("loss.alpha >= 0.4 and test.t2v_r1 > 1").unwrap();
        assert!(check_identifiers(&ok, &rows).is_ok());
        assert!(check_identifiers(&e, &[]).is_ok());
    }

    #[test]
    fn mixed_type_comparisons() {
        assert!(compare(
            &Value::Num(3.0),
            CmpOp::Eq,
            &Value::Str("3".into())
        ));
        assert!(!compare(
            &Value::Num(3.0),
            CmpOp::Eq,
            &Value::Str("x".into())
        ));
        assert!(compare(
            &Value::Num(3.0),
            CmpOp::Ne,
            &Value::Str("x".into())
        ));
        assert!(compare(
            &Value::Bool(true),
            CmpOp::Eq,
            &Value::Str("TRUE".into())
        ));
        assert_eq!(edit_distance("kitten", "sitting"), 3);
    }
}
