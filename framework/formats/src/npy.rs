//! NumPy `.npy` / `.npz` reading (cast to f32) and an f32 `.npy` writer.
//!
//! `.npy` (format versions 1.0, 2.0, 3.0): magic `\x93NUMPY`, u8 major, u8 minor, header
//! length (u16 for 1.x, u32 for 2.x/3.x), a Python dict literal
//! `{'descr': '<f4', 'fortran_order': False, 'shape': (T, 133, 3), }`, then the raw data.
//! Supported dtypes: `f2 f4 f8 i1 i2 i4 i8 u1 u2 u4 u8 b1` in either byte order (`<`, `>`,
//! `|`, `=` meaning little-endian); Fortran-ordered arrays are transposed to C order.
//! `.npz` is a zip archive of `.npy` members (`np.savez` stores, `np.savez_compressed`
//! deflates); both are read.
//!
//! SEDS release shapes: COCO-WholeBody keypoints `(T, 133, 3)` (see [`WHOLEBODY_POINTS`]) and
//! I3D clip features `(n, 1024)` (see [`I3D_DIM`]).

use std::io::Read;
use std::path::Path;

/// Points of a COCO-WholeBody skeleton (keypoint arrays are `(T, 133, 3)`).
pub const WHOLEBODY_POINTS: usize = 133;
/// Width of an I3D clip feature (feature arrays are `(n, 1024)`).
pub const I3D_DIM: usize = 1024;
/// Largest header accepted (numpy itself refuses headers over 10 000 bytes by default).
const MAX_HEADER: usize = 1 << 20;

/// An n-dimensional array in C order, values cast to f32.
#[derive(Clone, Debug, PartialEq)]
pub struct NpyArray {
    /// Shape (empty for a scalar).
    pub shape: Vec<usize>,
    /// Values in C (row-major) order.
    pub data: Vec<f32>,
}

/// Everything that can go wrong while reading or writing `.npy`/`.npz`.
#[derive(Debug, thiserror::Error)]
pub enum NpyError {
    /// The file could not be read or written.
    #[error("{file}: {source}")]
    Io {
        /// The file.
        file: String,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
    /// The data ends early.
    #[error("{file}: truncated at byte {offset}: expected {expected}")]
    Truncated {
        /// The file (or `archive.npz:member.npy`).
        file: String,
        /// Byte offset where the missing part starts.
        offset: usize,
        /// What was expected there.
        expected: String,
    },
    /// The header is malformed.
    #[error("{file}: byte {offset}: bad .npy header: {detail}")]
    BadHeader {
        /// The file.
        file: String,
        /// Byte offset of the problem.
        offset: usize,
        /// What was wrong / expected.
        detail: String,
    },
    /// The dtype is not one of the supported ones.
    #[error("{file}: byte {offset}: unsupported dtype {descr:?} (supported: f2 f4 f8 i1 i2 i4 i8 u1 u2 u4 u8 b1)")]
    UnsupportedDtype {
        /// The file.
        file: String,
        /// Byte offset of the header dict.
        offset: usize,
        /// The dtype descriptor.
        descr: String,
    },
    /// The data length does not match the shape.
    #[error("{file}: byte {offset}: data size mismatch: shape {shape:?} needs {expected} bytes, found {found}")]
    SizeMismatch {
        /// The file.
        file: String,
        /// Byte offset where the data starts.
        offset: usize,
        /// The declared shape.
        shape: Vec<usize>,
        /// Bytes the shape needs.
        expected: u64,
        /// Bytes present.
        found: u64,
    },
    /// The zip container of an `.npz` is unreadable.
    #[error("{file}: bad .npz archive: {detail}")]
    Zip {
        /// The file.
        file: String,
        /// The zip library's message.
        detail: String,
    },
    /// The requested member is not in the `.npz`.
    #[error("{file}: no array named {name:?} (members: {members})")]
    MissingEntry {
        /// The file.
        file: String,
        /// The requested name.
        name: String,
        /// Names present.
        members: String,
    },
    /// The array's shape is not what the caller needs.
    #[error("{file}: expected {what} of shape {expected}, found {found:?}")]
    Shape {
        /// The file.
        file: String,
        /// What the array was supposed to be.
        what: String,
        /// Expected shape, `?` for free dimensions.
        expected: String,
        /// Actual shape.
        found: Vec<usize>,
    },
    /// Writer input is inconsistent.
    #[error("{file}: cannot write: {detail}")]
    InvalidInput {
        /// The target file.
        file: String,
        /// What is inconsistent.
        detail: String,
    },
}

#[derive(Clone, Copy, Debug, PartialEq)]
enum Kind {
    F,
    I,
    U,
    B,
}

#[derive(Clone, Copy, Debug, PartialEq)]
struct Dtype {
    kind: Kind,
    size: usize,
    big_endian: bool,
}

fn parse_descr(descr: &str) -> Option<Dtype> {
    let mut chars = descr.chars();
    let (big_endian, rest) = match chars.next()? {
        '<' | '|' | '=' => (false, chars.as_str()),
        '>' => (true, chars.as_str()),
        _ => (false, descr),
    };
    let mut rc = rest.chars();
    let kind = match rc.next()? {
        'f' => Kind::F,
        'i' => Kind::I,
        'u' => Kind::U,
        'b' => Kind::B,
        _ => return None,
    };
    let size: usize = rc.as_str().parse().ok()?;
    let ok = match kind {
        Kind::F => matches!(size, 2 | 4 | 8),
        Kind::I | Kind::U => matches!(size, 1 | 2 | 4 | 8),
        Kind::B => size == 1,
    };
    ok.then_some(Dtype {
        kind,
        size,
        big_endian,
    })
}

fn f16_to_f32(h: u16) -> f32 {
    let sign = if h & 0x8000 != 0 { -1.0f32 } else { 1.0 };
    let exp = ((h >> 10) & 0x1f) as i32;
    let frac = (h & 0x3ff) as f32;
    match exp {
        0 => sign * frac * 2f32.powi(-24),
        31 if frac == 0.0 => sign * f32::INFINITY,
        31 => f32::NAN,
        _ => sign * (1.0 + frac / 1024.0) * 2f32.powi(exp - 15),
    }
}

fn decode(dt: Dtype, b: &[u8]) -> f32 {
    let mut a = [0u8; 8];
    a[..b.len()].copy_from_slice(b);
    if dt.big_endian {
        a[..b.len()].reverse();
    }
    match (dt.kind, dt.size) {
        (Kind::F, 2) => f16_to_f32(u16::from_le_bytes([a[0], a[1]])),
        (Kind::F, 4) => f32::from_le_bytes([a[0], a[1], a[2], a[3]]),
        (Kind::F, _) => f64::from_le_bytes(a) as f32,
        (Kind::I, 1) => a[0] as i8 as f32,
        (Kind::I, 2) => i16::from_le_bytes([a[0], a[1]]) as f32,
        (Kind::I, 4) => i32::from_le_bytes([a[0], a[1], a[2], a[3]]) as f32,
        (Kind::I, _) => i64::from_le_bytes(a) as f32,
        (Kind::U, 1) => a[0] as f32,
        (Kind::U, 2) => u16::from_le_bytes([a[0], a[1]]) as f32,
        (Kind::U, 4) => u32::from_le_bytes([a[0], a[1], a[2], a[3]]) as f32,
        (Kind::U, _) => u64::from_le_bytes(a) as f32,
        (Kind::B, _) => (a[0] != 0) as u8 as f32,
    }
}

/// A value of the header's Python literal subset.
#[derive(Debug, PartialEq)]
enum Lit {
    Str(String),
    Bool(bool),
    Int(u64),
    Tuple(Vec<Lit>),
    List(Vec<Lit>),
}

/// Tiny parser for the header dict literal: strings, True/False, ints, tuples, lists.
struct LitParser<'a> {
    s: &'a [u8],
    pos: usize,
}

impl LitParser<'_> {
    fn ws(&mut self) {
        while self.pos < self.s.len() && (self.s[self.pos] as char).is_ascii_whitespace() {
            self.pos += 1;
        }
    }
    fn peek(&mut self) -> Option<u8> {
        self.ws();
        self.s.get(self.pos).copied()
    }
    fn expect(&mut self, c: u8) -> Result<(), String> {
        match self.peek() {
            Some(x) if x == c => {
                self.pos += 1;
                Ok(())
            }
            other => Err(format!(
                "expected {:?} at header char {}, found {:?}",
                c as char,
                self.pos,
                other.map(|b| b as char)
            )),
        }
    }
    fn value(&mut self, depth: usize) -> Result<Lit, String> {
        if depth > 8 {
            return Err("header literal nested too deeply".into());
        }
        match self.peek() {
            Some(q @ (b'\'' | b'"')) => {
                self.pos += 1;
                let start = self.pos;
                while self.pos < self.s.len() && self.s[self.pos] != q {
                    self.pos += 1;
                }
                if self.pos >= self.s.len() {
                    return Err("unterminated string in header".into());
                }
                let v = String::from_utf8_lossy(&self.s[start..self.pos]).into_owned();
                self.pos += 1;
                Ok(Lit::Str(v))
            }
            Some(open @ (b'(' | b'[')) => {
                let close = if open == b'(' { b')' } else { b']' };
                self.pos += 1;
                let mut items = Vec::new();
                loop {
                    if self.peek() == Some(close) {
                        self.pos += 1;
                        break;
                    }
                    items.push(self.value(depth + 1)?);
                    match self.peek() {
                        Some(b',') => self.pos += 1,
                        Some(c) if c == close => {}
                        other => {
                            return Err(format!(
                                "expected ',' or {:?} at header char {}, found {:?}",
                                close as char,
                                self.pos,
                                other.map(|b| b as char)
                            ))
                        }
                    }
                }
                Ok(if open == b'(' {
                    Lit::Tuple(items)
                } else {
                    Lit::List(items)
                })
            }
            Some(c) if c.is_ascii_digit() => {
                let start = self.pos;
                while self.pos < self.s.len() && self.s[self.pos].is_ascii_digit() {
                    self.pos += 1;
                }
                // `L` suffix of Python 2 longs.
                let digits = std::str::from_utf8(&self.s[start..self.pos]).unwrap_or("");
                if self.s.get(self.pos) == Some(&b'L') {
                    self.pos += 1;
                }
                digits
                    .parse()
                    .map(Lit::Int)
                    .map_err(|_| format!("integer {digits} out of range"))
            }
            Some(_) => {
                let rest = &self.s[self.pos..];
                if rest.starts_with(b"True") {
                    self.pos += 4;
                    Ok(Lit::Bool(true))
                } else if rest.starts_with(b"False") {
                    self.pos += 5;
                    Ok(Lit::Bool(false))
                } else {
                    Err(format!("unexpected token at header char {}", self.pos))
                }
            }
            None => Err("header ends inside a value".into()),
        }
    }
    fn dict(&mut self) -> Result<Vec<(String, Lit)>, String> {
        self.expect(b'{')?;
        let mut out = Vec::new();
        loop {
            if self.peek() == Some(b'}') {
                self.pos += 1;
                return Ok(out);
            }
            let key = match self.value(0)? {
                Lit::Str(s) => s,
                other => return Err(format!("dict key must be a string, found {other:?}")),
            };
            self.expect(b':')?;
            let v = self.value(0)?;
            out.push((key, v));
            match self.peek() {
                Some(b',') => self.pos += 1,
                Some(b'}') => {}
                other => {
                    return Err(format!(
                        "expected ',' or '}}' at header char {}, found {:?}",
                        self.pos,
                        other.map(|b| b as char)
                    ))
                }
            }
        }
    }
}

/// Decodes a `.npy` file held in memory; `file` is only used in error messages.
pub fn parse_npy(bytes: &[u8], file: &str) -> Result<NpyArray, NpyError> {
    let bad = |offset: usize, detail: String| NpyError::BadHeader {
        file: file.to_string(),
        offset,
        detail,
    };
    let trunc = |offset: usize, expected: &str| NpyError::Truncated {
        file: file.to_string(),
        offset,
        expected: expected.to_string(),
    };
    if bytes.len() < 8 {
        if !b"\x93NUMPY".starts_with(&bytes[..bytes.len().min(6)]) {
            return Err(bad(0, "missing magic \\x93NUMPY".into()));
        }
        return Err(trunc(bytes.len(), "magic \\x93NUMPY + 2 version bytes"));
    }
    if &bytes[..6] != b"\x93NUMPY" {
        return Err(bad(0, "missing magic \\x93NUMPY".into()));
    }
    let major = bytes[6];
    let (hlen, hstart) = match major {
        1 => {
            if bytes.len() < 10 {
                return Err(trunc(8, "u16 header length"));
            }
            (u16::from_le_bytes([bytes[8], bytes[9]]) as usize, 10)
        }
        2 | 3 => {
            if bytes.len() < 12 {
                return Err(trunc(8, "u32 header length"));
            }
            let n = u32::from_le_bytes([bytes[8], bytes[9], bytes[10], bytes[11]]) as usize;
            (n, 12)
        }
        v => return Err(bad(6, format!("format version {v}.x (expected 1, 2 or 3)"))),
    };
    if hlen > MAX_HEADER {
        return Err(bad(8, format!("header length {hlen} exceeds {MAX_HEADER}")));
    }
    if bytes.len() - hstart < hlen {
        return Err(trunc(
            bytes.len(),
            &format!("{hlen}-byte header dict starting at byte {hstart}"),
        ));
    }
    let header = &bytes[hstart..hstart + hlen];
    let mut p = LitParser { s: header, pos: 0 };
    let dict = p.dict().map_err(|d| bad(hstart, d))?;
    let get = |k: &str| dict.iter().find(|(key, _)| key == k).map(|(_, v)| v);
    let descr = match get("descr") {
        Some(Lit::Str(s)) => s.clone(),
        Some(other) => {
            return Err(NpyError::UnsupportedDtype {
                file: file.to_string(),
                offset: hstart,
                descr: format!("{other:?}"),
            })
        }
        None => return Err(bad(hstart, "no 'descr' key".into())),
    };
    let dt = parse_descr(&descr).ok_or_else(|| NpyError::UnsupportedDtype {
        file: file.to_string(),
        offset: hstart,
        descr: descr.clone(),
    })?;
    let fortran = match get("fortran_order") {
        Some(Lit::Bool(b)) => *b,
        _ => return Err(bad(hstart, "'fortran_order' must be True or False".into())),
    };
    let shape: Vec<usize> = match get("shape") {
        Some(Lit::Tuple(items)) => {
            let mut v = Vec::new();
            for it in items {
                match it {
                    Lit::Int(n) => v.push(
                        usize::try_from(*n)
                            .map_err(|_| bad(hstart, format!("dimension {n} too large")))?,
                    ),
                    other => {
                        return Err(bad(
                            hstart,
                            format!("shape entries must be integers, found {other:?}"),
                        ))
                    }
                }
            }
            v
        }
        _ => return Err(bad(hstart, "'shape' must be a tuple of integers".into())),
    };
    let data_start = hstart + hlen;
    let count = shape
        .iter()
        .try_fold(1u64, |acc, d| acc.checked_mul(*d as u64));
    let expected = count.and_then(|c| c.checked_mul(dt.size as u64));
    let found = (bytes.len() - data_start) as u64;
    let size_err = |expected: u64| NpyError::SizeMismatch {
        file: file.to_string(),
        offset: data_start,
        shape: shape.clone(),
        expected,
        found,
    };
    let (count, expected) = match (count, expected) {
        (Some(c), Some(e)) => (c as usize, e),
        _ => return Err(size_err(u64::MAX)),
    };
    if expected != found {
        return Err(size_err(expected));
    }
    let raw = &bytes[data_start..];
    let mut data: Vec<f32> = raw.chunks_exact(dt.size).map(|c| decode(dt, c)).collect();
    if fortran && shape.len() > 1 && count > 0 {
        data = fortran_to_c(&data, &shape);
    }
    Ok(NpyArray { shape, data })
}

/// Reorders column-major data into row-major order.
fn fortran_to_c(data: &[f32], shape: &[usize]) -> Vec<f32> {
    let nd = shape.len();
    let mut fstride = vec![1usize; nd];
    for i in 1..nd {
        fstride[i] = fstride[i - 1] * shape[i - 1];
    }
    let mut idx = vec![0usize; nd];
    let mut out = Vec::with_capacity(data.len());
    for _ in 0..data.len() {
        let off: usize = idx.iter().zip(&fstride).map(|(i, s)| i * s).sum();
        out.push(data[off]);
        for ax in (0..nd).rev() {
            idx[ax] += 1;
            if idx[ax] < shape[ax] {
                break;
            }
            idx[ax] = 0;
        }
    }
    out
}

/// Reads a `.npy` file.
pub fn read_npy(path: impl AsRef<Path>) -> Result<NpyArray, NpyError> {
    let path = path.as_ref();
    let file = path.display().to_string();
    let bytes = std::fs::read(path).map_err(|source| NpyError::Io {
        file: file.clone(),
        source,
    })?;
    parse_npy(&bytes, &file)
}

/// Decodes every member of an `.npz` held in memory, in archive order; member names lose
/// their `.npy` suffix (as `np.load` shows them).
pub fn parse_npz(bytes: &[u8], file: &str) -> Result<Vec<(String, NpyArray)>, NpyError> {
    let zerr = |e: zip::result::ZipError| NpyError::Zip {
        file: file.to_string(),
        detail: e.to_string(),
    };
    let mut zip = zip::ZipArchive::new(std::io::Cursor::new(bytes)).map_err(zerr)?;
    let mut out = Vec::new();
    for i in 0..zip.len() {
        let mut entry = zip.by_index(i).map_err(zerr)?;
        if entry.is_dir() {
            continue;
        }
        let name = entry.name().to_string();
        let member = format!("{file}:{name}");
        // Never trust the declared size for allocation; read at most what it claims.
        let declared = entry.size();
        let mut buf = Vec::new();
        (&mut entry)
            .take(declared)
            .read_to_end(&mut buf)
            .map_err(|e| NpyError::Zip {
                file: member.clone(),
                detail: e.to_string(),
            })?;
        let arr = parse_npy(&buf, &member)?;
        let key = name.strip_suffix(".npy").unwrap_or(&name).to_string();
        out.push((key, arr));
    }
    Ok(out)
}

/// Reads every array of an `.npz` file (see [`parse_npz`]).
pub fn read_npz(path: impl AsRef<Path>) -> Result<Vec<(String, NpyArray)>, NpyError> {
    let path = path.as_ref();
    let file = path.display().to_string();
    let bytes = std::fs::read(path).map_err(|source| NpyError::Io {
        file: file.clone(),
        source,
    })?;
    parse_npz(&bytes, &file)
}

/// Reads the array called `name` (without `.npy`) from an `.npz` file.
pub fn read_npz_array(path: impl AsRef<Path>, name: &str) -> Result<NpyArray, NpyError> {
    let path = path.as_ref();
    let all = read_npz(path)?;
    let members = all
        .iter()
        .map(|(k, _)| k.as_str())
        .collect::<Vec<_>>()
        .join(", ");
    all.into_iter()
        .find(|(k, _)| k == name)
        .map(|(_, a)| a)
        .ok_or_else(|| NpyError::MissingEntry {
            file: path.display().to_string(),
            name: name.to_string(),
            members,
        })
}

impl NpyArray {
    /// Number of elements (product of the shape).
    pub fn len(&self) -> usize {
        self.data.len()
    }

    /// Whether the array has no elements.
    pub fn is_empty(&self) -> bool {
        self.data.is_empty()
    }

    /// Checks the shape against a pattern (`None` = any size); `file` and `what` name the
    /// array in the error.
    pub fn expect_shape(
        &self,
        pattern: &[Option<usize>],
        file: &str,
        what: &str,
    ) -> Result<(), NpyError> {
        let ok = self.shape.len() == pattern.len()
            && self
                .shape
                .iter()
                .zip(pattern)
                .all(|(s, p)| p.is_none_or(|p| p == *s));
        if ok {
            return Ok(());
        }
        let expected = pattern
            .iter()
            .map(|p| p.map_or("?".to_string(), |v| v.to_string()))
            .collect::<Vec<_>>()
            .join(", ");
        Err(NpyError::Shape {
            file: file.to_string(),
            what: what.to_string(),
            expected: format!("({expected})"),
            found: self.shape.clone(),
        })
    }
}

/// Reads COCO-WholeBody keypoints `(T, 133, 3)` from `.npy` (x, y, score per point).
pub fn read_wholebody_keypoints(path: impl AsRef<Path>) -> Result<NpyArray, NpyError> {
    let path = path.as_ref();
    let a = read_npy(path)?;
    a.expect_shape(
        &[None, Some(WHOLEBODY_POINTS), Some(3)],
        &path.display().to_string(),
        "COCO-WholeBody keypoints",
    )?;
    Ok(a)
}

/// Reads I3D clip features `(n, 1024)` from `.npy`.
pub fn read_i3d_features(path: impl AsRef<Path>) -> Result<NpyArray, NpyError> {
    let path = path.as_ref();
    let a = read_npy(path)?;
    a.expect_shape(
        &[None, Some(I3D_DIM)],
        &path.display().to_string(),
        "I3D clip features",
    )?;
    Ok(a)
}

/// Encodes an f32 array as `.npy` version 1.0 (`<f4`, C order, header padded to 64 bytes).
pub fn encode_npy_f32(shape: &[usize], data: &[f32]) -> Result<Vec<u8>, String> {
    let count = shape
        .iter()
        .try_fold(1usize, |acc, d| acc.checked_mul(*d))
        .ok_or_else(|| format!("shape {shape:?} overflows"))?;
    if count != data.len() {
        return Err(format!(
            "shape {shape:?} holds {count} values but {} were given",
            data.len()
        ));
    }
    let dims = match shape.len() {
        1 => format!("({},)", shape[0]),
        _ => format!(
            "({})",
            shape
                .iter()
                .map(|d| d.to_string())
                .collect::<Vec<_>>()
                .join(", ")
        ),
    };
    let mut header = format!("{{'descr': '<f4', 'fortran_order': False, 'shape': {dims}, }}");
    let unpadded = 10 + header.len() + 1;
    let pad = (64 - unpadded % 64) % 64;
    header.push_str(&" ".repeat(pad));
    header.push('\n');
    if header.len() > u16::MAX as usize {
        return Err(format!("shape {shape:?} makes the header too long"));
    }
    let mut out = Vec::with_capacity(10 + header.len() + 4 * data.len());
    out.extend_from_slice(b"\x93NUMPY\x01\x00");
    out.extend_from_slice(&(header.len() as u16).to_le_bytes());
    out.extend_from_slice(header.as_bytes());
    for v in data {
        out.extend_from_slice(&v.to_le_bytes());
    }
    Ok(out)
}

/// Writes an f32 array as a `.npy` file readable by `numpy.load` (e.g. score matrices).
pub fn write_npy_f32(
    path: impl AsRef<Path>,
    shape: &[usize],
    data: &[f32],
) -> Result<(), NpyError> {
    let path = path.as_ref();
    let file = path.display().to_string();
    let bytes = encode_npy_f32(shape, data).map_err(|detail| NpyError::InvalidInput {
        file: file.clone(),
        detail,
    })?;
    std::fs::write(path, bytes).map_err(|source| NpyError::Io { file, source })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn npy(descr: &str, fortran: bool, shape: &str, data: &[u8]) -> Vec<u8> {
        let h = format!(
            "{{'descr': '{descr}', 'fortran_order': {}, 'shape': {shape}, }}\n",
            if fortran { "True" } else { "False" }
        );
        let mut out = b"\x93NUMPY\x01\x00".to_vec();
        out.extend_from_slice(&(h.len() as u16).to_le_bytes());
        out.extend_from_slice(h.as_bytes());
        out.extend_from_slice(data);
        out
    }

    #[test]
    fn roundtrip_f32() {
        let data: Vec<f32> = (0..24).map(|i| i as f32 * 0.5 - 3.0).collect();
        let bytes = encode_npy_f32(&[2, 3, 4], &data).expect("encodes");
        assert_eq!(bytes.len() % 64, (4 * 24) % 64, "header padded to 64");
        let a = parse_npy(&bytes, "m.npy").expect("decodes");
        assert_eq!(a.shape, vec![2, 3, 4]);
        assert_eq!(a.data, data);
        let s = parse_npy(&encode_npy_f32(&[], &[7.0]).expect("scalar"), "s.npy").expect("s");
        assert_eq!((s.shape.clone(), s.data.clone()), (vec![], vec![7.0]));
        let e = encode_npy_f32(&[3], &[1.0]).unwrap_err();
        assert!(e.contains("holds 3 values but 1"), "{e}");
    }

    #[test]
    fn dtypes_cast_to_f32() {
        let i8s: Vec<u8> = [-2i64, 5, 1 << 40]
            .iter()
            .flat_map(|v| v.to_le_bytes())
            .collect();
        let a = parse_npy(&npy("<i8", false, "(3,)", &i8s), "x").expect("i8");
        assert_eq!(a.data, vec![-2.0, 5.0, (1u64 << 40) as f32]);
        let i4: Vec<u8> = [-7i32, 9].iter().flat_map(|v| v.to_le_bytes()).collect();
        assert_eq!(
            parse_npy(&npy("<i4", false, "(2,)", &i4), "x")
                .expect("i4")
                .data,
            vec![-7.0, 9.0]
        );
        let f8: Vec<u8> = [1.5f64, -0.25]
            .iter()
            .flat_map(|v| v.to_le_bytes())
            .collect();
        assert_eq!(
            parse_npy(&npy("<f8", false, "(2,)", &f8), "x")
                .expect("f8")
                .data,
            vec![1.5, -0.25]
        );
        let be: Vec<u8> = [2.5f32].iter().flat_map(|v| v.to_be_bytes()).collect();
        assert_eq!(
            parse_npy(&npy(">f4", false, "(1,)", &be), "x")
                .expect(">f4")
                .data,
            vec![2.5]
        );
        assert_eq!(
            parse_npy(&npy("|u1", false, "(2,)", &[0, 255]), "x")
                .expect("u1")
                .data,
            vec![0.0, 255.0]
        );
        assert_eq!(
            parse_npy(&npy("|b1", false, "(3,)", &[0, 1, 2]), "x")
                .expect("b1")
                .data,
            vec![0.0, 1.0, 1.0]
        );
        // float16: 1.0 = 0x3c00, -2.0 = 0xc000, 0.5 = 0x3800
        let f2: Vec<u8> = [0x3c00u16, 0xc000, 0x3800]
            .iter()
            .flat_map(|v| v.to_le_bytes())
            .collect();
        assert_eq!(
            parse_npy(&npy("<f2", false, "(3,)", &f2), "x")
                .expect("f2")
                .data,
            vec![1.0, -2.0, 0.5]
        );
        let e = parse_npy(&npy("<c8", false, "(1,)", &[0; 8]), "c.npy")
            .unwrap_err()
            .to_string();
        assert!(e.contains("unsupported dtype \"<c8\""), "{e}");
        let e = parse_npy(&npy("<U3", false, "(1,)", &[0; 12]), "c.npy").unwrap_err();
        assert!(matches!(e, NpyError::UnsupportedDtype { .. }));
    }

    #[test]
    fn fortran_order_is_transposed() {
        // C array [[1,2,3],[4,5,6]] stored column-major: 1,4,2,5,3,6.
        let d: Vec<u8> = [1f32, 4., 2., 5., 3., 6.]
            .iter()
            .flat_map(|v| v.to_le_bytes())
            .collect();
        let a = parse_npy(&npy("<f4", true, "(2, 3)", &d), "f.npy").expect("fortran");
        assert_eq!(a.data, vec![1., 2., 3., 4., 5., 6.]);
        // 3-D: shape (2,2,2), F offset = i + 2j + 4k; value = C index.
        let mut f = vec![0f32; 8];
        for i in 0..2 {
            for j in 0..2 {
                for k in 0..2 {
                    f[i + 2 * j + 4 * k] = (4 * i + 2 * j + k) as f32;
                }
            }
        }
        let d: Vec<u8> = f.iter().flat_map(|v| v.to_le_bytes()).collect();
        let a = parse_npy(&npy("<f4", true, "(2, 2, 2)", &d), "f.npy").expect("fortran3");
        assert_eq!(a.data, (0..8).map(|v| v as f32).collect::<Vec<_>>());
    }

    #[test]
    fn malformed_headers_and_sizes() {
        let good = npy("<f4", false, "(2,)", &[0; 8]);
        let e = parse_npy(&good[..good.len() - 1], "t.npy")
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("t.npy: byte") && e.contains("needs 8 bytes, found 7"),
            "{e}"
        );
        let e = parse_npy(b"PK\x03\x04abcdef", "z.npy")
            .unwrap_err()
            .to_string();
        assert!(e.contains("byte 0") && e.contains("magic"), "{e}");
        let e = parse_npy(&good[..9], "t.npy").unwrap_err().to_string();
        assert!(e.contains("truncated at byte 8"), "{e}");
        let e = parse_npy(&good[..30], "t.npy").unwrap_err().to_string();
        assert!(e.contains("header dict starting at byte 10"), "{e}");
        let e = parse_npy(&npy("<f4", false, "[2]", &[0; 8]), "t.npy")
            .unwrap_err()
            .to_string();
        assert!(e.contains("'shape' must be a tuple"), "{e}");
        let e = parse_npy(&npy("<f4", false, "(2, 'a')", &[0; 8]), "t.npy")
            .unwrap_err()
            .to_string();
        assert!(e.contains("shape entries must be integers"), "{e}");
        let e = parse_npy(
            &npy("<f4", false, "(99999999999, 99999999999, 9999999999)", &[]),
            "t.npy",
        )
        .unwrap_err();
        assert!(matches!(e, NpyError::SizeMismatch { .. }), "{e}");
        let mut v = good.clone();
        v[6] = 9;
        assert!(parse_npy(&v, "t.npy")
            .unwrap_err()
            .to_string()
            .contains("format version 9"));
    }

    #[test]
    fn shape_checks() {
        let a = NpyArray {
            shape: vec![4, 133, 3],
            data: vec![0.0; 4 * 133 * 3],
        };
        a.expect_shape(&[None, Some(133), Some(3)], "k.npy", "kp")
            .expect("matches");
        let e = a
            .expect_shape(&[None, Some(1024)], "k.npy", "I3D clip features")
            .unwrap_err();
        assert_eq!(
            e.to_string(),
            "k.npy: expected I3D clip features of shape (?, 1024), found [4, 133, 3]"
        );
    }
}
