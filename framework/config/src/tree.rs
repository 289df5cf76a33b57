//! A TOML value tree that remembers where every key and value came from (file and byte
//! offset), built from `toml_edit`'s span-preserving parser, with deep merge, dotted-path
//! access and conversion to JSON for serde.

use std::path::PathBuf;

/// Where something came from: an index into the loaded sources and a byte offset.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Pos {
    /// Index into [`Sources`].
    pub file: usize,
    /// Byte offset in that source's text, when known.
    pub offset: Option<usize>,
}

impl Pos {
    /// A position in `file` at `offset` (or none).
    pub fn new(file: usize, span: Option<std::ops::Range<usize>>) -> Self {
        Pos {
            file,
            offset: span.map(|r| r.start),
        }
    }
}

/// One loaded text (an experiment file, a base file or a `--set` override).
#[derive(Clone, Debug)]
pub(crate) struct Source {
    /// Path shown in error messages.
    pub path: PathBuf,
    /// Full text.
    pub text: String,
}

/// All texts loaded for one experiment.
#[derive(Clone, Debug, Default)]
pub(crate) struct Sources {
    /// The texts, indexed by [`Pos::file`].
    pub files: Vec<Source>,
}

impl Sources {
    /// Add a text and return its index.
    pub fn add(&mut self, path: PathBuf, text: String) -> usize {
        self.files.push(Source { path, text });
        self.files.len() - 1
    }
}

/// A value with its position.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Node {
    /// The value.
    pub kind: Kind,
    /// Where the value starts.
    pub pos: Pos,
}

/// A table entry: key, key position, value.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Entry {
    /// The key (one segment; may contain dots when quoted in the file).
    pub key: String,
    /// Where the key is written.
    pub key_pos: Pos,
    /// The value.
    pub node: Node,
}

/// TOML value kinds.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Kind {
    Table(Vec<Entry>),
    Array(Vec<Node>),
    Bool(bool),
    Int(i64),
    Float(f64),
    Str(String),
    Datetime(String),
}

impl Node {
    /// An empty table at `pos`.
    pub fn table(pos: Pos) -> Node {
        Node {
            kind: Kind::Table(Vec::new()),
            pos,
        }
    }

    /// Parse a TOML document into a tree; `Err((message, byte offset))` on a syntax error.
    pub fn parse(text: &str, file: usize) -> Result<Node, (String, Option<usize>)> {
        let doc = toml_edit::ImDocument::parse(text)
            .map_err(|e| (e.message().to_string(), e.span().map(|s| s.start)))?;
        Ok(from_table(
            doc.as_table(),
            file,
            Pos {
                file,
                offset: Some(0),
            },
        ))
    }

    /// Parse a single TOML value (`--set` right-hand side); `None` if it is not valid TOML.
    /// Offsets are relative to the start of `text`, then shifted by `base`.
    pub fn parse_value(text: &str, file: usize, base: usize) -> Option<Node> {
        let prefix = "v = ";
        let doc = toml_edit::ImDocument::parse(format!("{prefix}{text}")).ok()?;
        let table = doc.as_table();
        if table.len() != 1 {
            return None;
        }
        let item = table.get("v")?;
        let v = item.as_value()?;
        let mut node = from_value(
            v,
            file,
            Pos {
                file,
                offset: Some(base),
            },
        );
        shift(&mut node, base as isize - prefix.len() as isize);
        Some(node)
    }

    /// The type name used in messages.
    pub fn type_name(&self) -> &'static str {
        match self.kind {
            Kind::Table(_) => "a table",
            Kind::Array(_) => "an array",
            Kind::Bool(_) => "a boolean",
            Kind::Int(_) => "an integer",
            Kind::Float(_) => "a float",
            Kind::Str(_) => "a string",
            Kind::Datetime(_) => "a datetime",
        }
    }

    /// Table entries, if this is a table.
    pub fn entries(&self) -> Option<&Vec<Entry>> {
        match &self.kind {
            Kind::Table(e) => Some(e),
            _ => None,
        }
    }

    /// Look up a direct child entry of a table.
    pub fn entry(&self, key: &str) -> Option<&Entry> {
        self.entries()?.iter().find(|e| e.key == key)
    }

    /// Remove a direct child entry of a table and return it.
    pub fn remove(&mut self, key: &str) -> Option<Entry> {
        match &mut self.kind {
            Kind::Table(entries) => {
                let i = entries.iter().position(|e| e.key == key)?;
                Some(entries.remove(i))
            }
            _ => None,
        }
    }

    /// Look up an entry by path (each element one key segment).
    pub fn get_path(&self, path: &[&str]) -> Option<&Entry> {
        let (first, rest) = path.split_first()?;
        let e = self.entry(first)?;
        if rest.is_empty() {
            Some(e)
        } else {
            e.node.get_path(rest)
        }
    }

    /// Set the value at `path`, creating (or replacing non-table) intermediate tables.
    pub fn set_path(&mut self, path: &[String], node: Node, key_pos: Pos) {
        let Some((first, rest)) = path.split_first() else {
            return;
        };
        if !matches!(self.kind, Kind::Table(_)) {
            self.kind = Kind::Table(Vec::new());
        }
        let Kind::Table(entries) = &mut self.kind else {
            return;
        };
        let idx = match entries.iter().position(|e| &e.key == first) {
            Some(i) => i,
            None => {
                entries.push(Entry {
                    key: first.clone(),
                    key_pos,
                    node: Node::table(key_pos),
                });
                entries.len() - 1
            }
        };
        let entry = &mut entries[idx];
        if rest.is_empty() {
            entry.key_pos = key_pos;
            entry.node = node;
        } else {
            entry.node.set_path(rest, node, key_pos);
        }
    }

    /// Deep-merge `over` into `self`: tables merge key by key, anything else is replaced.
    pub fn merge(&mut self, over: Node) {
        match (&mut self.kind, over.kind) {
            (Kind::Table(base), Kind::Table(over_entries)) => {
                for oe in over_entries {
                    match base.iter_mut().find(|e| e.key == oe.key) {
                        Some(be)
                            if matches!(be.node.kind, Kind::Table(_))
                                && matches!(oe.node.kind, Kind::Table(_)) =>
                        {
                            be.key_pos = oe.key_pos;
                            be.node.merge(oe.node);
                        }
                        Some(be) => *be = oe,
                        None => base.push(oe),
                    }
                }
            }
            (_, kind) => {
                self.kind = kind;
                self.pos = over.pos;
            }
        }
    }

    /// Leaves of a table tree as (dotted path, entry); nested tables (dotted or quoted keys)
    /// are walked, every non-table value is a leaf. The entry carries the leaf key position.
    pub fn leaves(&self) -> Vec<(String, Entry)> {
        let mut out = Vec::new();
        if let Some(entries) = self.entries() {
            for e in entries {
                collect_leaves(e, "", &mut out);
            }
        }
        out
    }

    /// Convert to JSON for serde (datetimes become strings; non-finite floats become null,
    /// callers reject them first).
    pub fn to_json(&self) -> serde_json::Value {
        use serde_json::Value as J;
        match &self.kind {
            Kind::Table(entries) => {
                let mut m = serde_json::Map::new();
                for e in entries {
                    m.insert(e.key.clone(), e.node.to_json());
                }
                J::Object(m)
            }
            Kind::Array(items) => J::Array(items.iter().map(Node::to_json).collect()),
            Kind::Bool(b) => J::Bool(*b),
            Kind::Int(i) => J::from(*i),
            Kind::Float(f) => serde_json::Number::from_f64(*f)
                .map(J::Number)
                .unwrap_or(J::Null),
            Kind::Str(s) | Kind::Datetime(s) => J::String(s.clone()),
        }
    }

    /// The first non-finite float in this value (with its position), if any.
    pub fn find_non_finite(&self) -> Option<Pos> {
        match &self.kind {
            Kind::Float(f) if !f.is_finite() => Some(self.pos),
            Kind::Table(entries) => entries.iter().find_map(|e| e.node.find_non_finite()),
            Kind::Array(items) => items.iter().find_map(Node::find_non_finite),
            _ => None,
        }
    }
}

fn collect_leaves(e: &Entry, prefix: &str, out: &mut Vec<(String, Entry)>) {
    let path = if prefix.is_empty() {
        e.key.clone()
    } else {
        format!("{prefix}.{}", e.key)
    };
    match &e.node.kind {
        Kind::Table(children) if !children.is_empty() => {
            for c in children {
                collect_leaves(c, &path, out);
            }
        }
        _ => out.push((path, e.clone())),
    }
}

fn shift(node: &mut Node, delta: isize) {
    if let Some(o) = node.pos.offset.as_mut() {
        *o = (*o as isize + delta).max(0) as usize;
    }
    match &mut node.kind {
        Kind::Table(entries) => {
            for e in entries {
                if let Some(o) = e.key_pos.offset.as_mut() {
                    *o = (*o as isize + delta).max(0) as usize;
                }
                shift(&mut e.node, delta);
            }
        }
        Kind::Array(items) => items.iter_mut().for_each(|n| shift(n, delta)),
        _ => {}
    }
}

fn from_table(t: &toml_edit::Table, file: usize, fallback: Pos) -> Node {
    let pos = t
        .span()
        .map(|s| Pos::new(file, Some(s)))
        .unwrap_or(fallback);
    let mut entries = Vec::new();
    for (k, item) in t.iter() {
        let key_pos = Pos::new(file, t.key(k).and_then(|k| k.span()));
        let key_pos = if key_pos.offset.is_some() {
            key_pos
        } else {
            pos
        };
        entries.push(Entry {
            key: k.to_string(),
            key_pos,
            node: from_item(item, file, key_pos),
        });
    }
    Node {
        kind: Kind::Table(entries),
        pos,
    }
}

fn from_inline(t: &toml_edit::InlineTable, file: usize, fallback: Pos) -> Node {
    let pos = t
        .span()
        .map(|s| Pos::new(file, Some(s)))
        .unwrap_or(fallback);
    let mut entries = Vec::new();
    for (k, v) in t.iter() {
        let key_pos = Pos::new(file, t.key(k).and_then(|k| k.span()));
        let key_pos = if key_pos.offset.is_some() {
            key_pos
        } else {
            pos
        };
        entries.push(Entry {
            key: k.to_string(),
            key_pos,
            node: from_value(v, file, key_pos),
        });
    }
    Node {
        kind: Kind::Table(entries),
        pos,
    }
}

fn from_item(item: &toml_edit::Item, file: usize, fallback: Pos) -> Node {
    match item {
        toml_edit::Item::None => Node::table(fallback),
        toml_edit::Item::Value(v) => from_value(v, file, fallback),
        toml_edit::Item::Table(t) => from_table(t, file, fallback),
        toml_edit::Item::ArrayOfTables(a) => {
            let pos = a
                .span()
                .map(|s| Pos::new(file, Some(s)))
                .unwrap_or(fallback);
            Node {
                kind: Kind::Array(a.iter().map(|t| from_table(t, file, pos)).collect()),
                pos,
            }
        }
    }
}

fn from_value(v: &toml_edit::Value, file: usize, fallback: Pos) -> Node {
    use toml_edit::Value as V;
    let pos = v
        .span()
        .map(|s| Pos::new(file, Some(s)))
        .unwrap_or(fallback);
    let kind = match v {
        V::String(s) => Kind::Str(s.value().clone()),
        V::Integer(i) => Kind::Int(*i.value()),
        V::Float(f) => Kind::Float(*f.value()),
        V::Boolean(b) => Kind::Bool(*b.value()),
        V::Datetime(d) => Kind::Datetime(d.value().to_string()),
        V::Array(a) => Kind::Array(a.iter().map(|x| from_value(x, file, pos)).collect()),
        V::InlineTable(t) => return from_inline(t, file, pos),
    };
    Node { kind, pos }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_keeps_positions() {
        let text = "[loss]\nalpha = 0.5\n[[variant]]\nname = \"a\"\n\"model.fusion\" = \"mlp\"\n";
        let root = Node::parse(text, 0).expect("valid");
        let e = root.get_path(&["loss", "alpha"]).expect("alpha");
        assert_eq!(e.key_pos.offset, Some(7));
        assert_eq!(e.node.pos.offset, Some(15));
        assert_eq!(e.node.kind, Kind::Float(0.5));
        let v = root.entry("variant").expect("variant");
        let Kind::Array(items) = &v.node.kind else {
            panic!("not an array")
        };
        let leaves = items[0].leaves();
        assert_eq!(leaves[1].0, "model.fusion");
        assert_eq!(
            leaves[1].1.key_pos.offset,
            Some(text.find("\"model.fusion\"").unwrap())
        );
    }

    #[test]
    fn syntax_error_has_offset() {
        let (msg, off) = Node::parse("a = 1\nb = = 2\n", 0).unwrap_err();
        assert!(!msg.is_empty());
        assert!(off.is_some_and(|o| o >= 6));
    }

    #[test]
    fn merge_is_deep_and_later_wins() {
        let mut base = Node::parse(
            "[loss]\nalpha = 0.5\nbeta = 0.1\n[model]\ncgaf_keys = [5, 3]\n",
            0,
        )
        .unwrap();
        let over = Node::parse("[loss]\nalpha = 0.9\n[model]\ncgaf_keys = [1]\n", 1).unwrap();
        base.merge(over);
        assert_eq!(
            base.get_path(&["loss", "alpha"]).unwrap().node.kind,
            Kind::Float(0.9)
        );
        assert_eq!(base.get_path(&["loss", "alpha"]).unwrap().node.pos.file, 1);
        assert_eq!(
            base.get_path(&["loss", "beta"]).unwrap().node.kind,
            Kind::Float(0.1)
        );
        let keys = &base.get_path(&["model", "cgaf_keys"]).unwrap().node;
        assert_eq!(keys.to_json(), serde_json::json!([1]));
    }

    #[test]
    fn parse_value_shifts_offsets() {
        let n = Node::parse_value("[1, 2]", 3, 10).unwrap();
        assert_eq!(n.pos.offset, Some(10));
        let Kind::Array(items) = &n.kind else {
            panic!()
        };
        assert_eq!(items[1].pos.offset, Some(14));
        assert!(Node::parse_value("mlp", 0, 0).is_none());
        assert!(Node::parse_value("cuda:0", 0, 0).is_none());
        assert_eq!(
            Node::parse_value("0.3", 0, 0).unwrap().kind,
            Kind::Float(0.3)
        );
    }
}
