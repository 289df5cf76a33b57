//! Reader of the pose-format `.pose` binary (github.com/sign-language-processing/pose),
//! versions 0.0, 0.1 and 0.2, any components and layout.
//!
//! Layout (all little-endian; `str` = u16 byte length + UTF-8 bytes):
//! - header: f32 version (compared after rounding to 3 decimals); u16 width, height, depth;
//!   u16 component count; per component: str name, str format (e.g. "XYZC"; last letter is
//!   the confidence), u16 points, u16 limbs, u16 colors, then the point names (str each),
//!   the limbs (u16 from, u16 to) and the colors (u16 r, g, b).
//! - body v0.2: f32 fps, u32 frames T, u16 people N, f32 data[T][N][P][D], f32 conf[T][N][P].
//! - body v0.1: u16 fps, u16 frames (may overflow: T is derived from the remaining bytes and
//!   must agree with the stored count modulo 65536), u16 people, then the same arrays.
//! - body v0.0: u16 fps, u16 frames; per frame u16 people; per person i16 id, then per
//!   component f32[points][len(format)] with the confidence last. Person 0 is kept (a frame
//!   with no person is all zeros), so `people() == 1`.
//!
//! P is the total number of points, D = max over components of `len(format) - 1`.
//! Every error names the file, the byte offset and what was expected; sizes from the header
//! are checked against the remaining length before anything is allocated.

use std::path::Path;

/// One component of a pose header (a body part model such as `POSE_LANDMARKS`).
#[derive(Clone, Debug, PartialEq)]
pub struct Component {
    /// Component name, e.g. `pose_keypoints_2d` or `LEFT_HAND_LANDMARKS`.
    pub name: String,
    /// Point format, e.g. `XYC` or `XYZC`; the last letter is the confidence.
    pub format: String,
    /// Names of the points, in storage order.
    pub points: Vec<String>,
    /// Limbs as (from, to) point indices within the component.
    pub limbs: Vec<(u16, u16)>,
    /// Drawing colours (r, g, b).
    pub colors: Vec<[u16; 3]>,
}

impl Component {
    /// Number of spatial dimensions of this component (`len(format) - 1`).
    pub fn dims(&self) -> usize {
        self.format.chars().count().saturating_sub(1)
    }
}

/// A decoded `.pose` file: header plus body arrays in C order.
#[derive(Clone, Debug, PartialEq)]
pub struct PoseFile {
    version: f32,
    width: u16,
    height: u16,
    depth: u16,
    components: Vec<Component>,
    fps: f32,
    frames: usize,
    people: usize,
    dims: usize,
    /// `[T][N][P][D]`.
    data: Vec<f32>,
    /// `[T][N][P]`.
    confidence: Vec<f32>,
}

/// Everything that can go wrong while reading a `.pose` file.
#[derive(Debug, thiserror::Error)]
pub enum PoseError {
    /// The file could not be read at all.
    #[error("{file}: cannot read: {source}")]
    Io {
        /// The file.
        file: String,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
    /// The file ends before a field is complete.
    #[error("{file}: truncated at byte {offset}: expected {expected} ({needed} bytes), only {available} left")]
    Truncated {
        /// The file.
        file: String,
        /// Byte offset where the field starts.
        offset: usize,
        /// What was being read.
        expected: String,
        /// Bytes the field needs.
        needed: u64,
        /// Bytes left in the file.
        available: usize,
    },
    /// A string field is not valid UTF-8.
    #[error("{file}: byte {offset}: {expected} is not valid UTF-8")]
    BadUtf8 {
        /// The file.
        file: String,
        /// Byte offset of the string's bytes.
        offset: usize,
        /// What was being read.
        expected: String,
    },
    /// The version field is not 0.0, 0.1 or 0.2.
    #[error("{file}: byte 0: unknown pose-format version {version} (expected 0.0, 0.1 or 0.2)")]
    UnknownVersion {
        /// The file.
        file: String,
        /// The version as stored.
        version: f32,
    },
    /// The header is structurally invalid (e.g. an empty format string).
    #[error("{file}: byte {offset}: invalid header: {detail}")]
    BadHeader {
        /// The file.
        file: String,
        /// Byte offset of the offending field.
        offset: usize,
        /// Explanation, including what was expected.
        detail: String,
    },
    /// The body's size does not match the header.
    #[error("{file}: byte {offset}: body size mismatch: {detail}")]
    SizeMismatch {
        /// The file.
        file: String,
        /// Byte offset where the body (or the offending part) starts.
        offset: usize,
        /// Explanation, including what was expected.
        detail: String,
    },
}

/// Little-endian cursor over a byte slice that reports errors with file and offset.
struct Reader<'a> {
    buf: &'a [u8],
    pos: usize,
    file: &'a str,
    /// Name of the component being read, for error messages.
    ctx: String,
}

impl<'a> Reader<'a> {
    fn remaining(&self) -> usize {
        self.buf.len() - self.pos
    }

    fn describe(&self, what: &str) -> String {
        if self.ctx.is_empty() {
            what.to_string()
        } else {
            format!("{what} (component {})", self.ctx)
        }
    }

    fn truncated(&self, what: &str, needed: u64) -> PoseError {
        PoseError::Truncated {
            file: self.file.to_string(),
            offset: self.pos,
            expected: self.describe(what),
            needed,
            available: self.remaining(),
        }
    }

    fn take(&mut self, n: usize, what: &str) -> Result<&'a [u8], PoseError> {
        if n > self.remaining() {
            return Err(self.truncated(what, n as u64));
        }
        let s = &self.buf[self.pos..self.pos + n];
        self.pos += n;
        Ok(s)
    }

    fn u16(&mut self, what: &str) -> Result<u16, PoseError> {
        let b = self.take(2, what)?;
        Ok(u16::from_le_bytes([b[0], b[1]]))
    }

    fn u32(&mut self, what: &str) -> Result<u32, PoseError> {
        let b = self.take(4, what)?;
        Ok(u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
    }

    fn f32(&mut self, what: &str) -> Result<f32, PoseError> {
        let b = self.take(4, what)?;
        Ok(f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
    }

    fn string(&mut self, what: &str) -> Result<String, PoseError> {
        let len = self.u16(what)? as usize;
        let start = self.pos;
        let bytes = self.take(len, what)?;
        match std::str::from_utf8(bytes) {
            Ok(s) => Ok(s.to_string()),
            Err(_) => Err(PoseError::BadUtf8 {
                file: self.file.to_string(),
                offset: start,
                expected: self.describe(what),
            }),
        }
    }

    /// Reads `n` little-endian f32 values after checking they are all present.
    fn f32s(&mut self, n: usize, what: &str) -> Result<Vec<f32>, PoseError> {
        let bytes = n
            .checked_mul(4)
            .filter(|b| *b <= self.remaining())
            .ok_or_else(|| self.truncated(what, (n as u64).saturating_mul(4)))?;
        let raw = self.take(bytes, what)?;
        Ok(raw
            .chunks_exact(4)
            .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
            .collect())
    }
}

/// The three supported on-disk versions.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PoseVersion {
    /// 0.0: per-frame people, interleaved confidence.
    V0_0,
    /// 0.1: u16 fps and frames, flat arrays.
    V0_1,
    /// 0.2: f32 fps, u32 frames, flat arrays.
    V0_2,
}

impl PoseVersion {
    /// Classifies a stored version number (rounded to 3 decimals).
    pub fn from_f32(v: f32) -> Option<PoseVersion> {
        if !v.is_finite() {
            return None;
        }
        match (v as f64 * 1000.0).round() as i64 {
            0 => Some(PoseVersion::V0_0),
            100 => Some(PoseVersion::V0_1),
            200 => Some(PoseVersion::V0_2),
            _ => None,
        }
    }
}

impl PoseFile {
    /// Reads and decodes a `.pose` file from disk.
    pub fn read(path: impl AsRef<Path>) -> Result<PoseFile, PoseError> {
        let path = path.as_ref();
        let file = path.display().to_string();
        let bytes = std::fs::read(path).map_err(|source| PoseError::Io {
            file: file.clone(),
            source,
        })?;
        PoseFile::from_bytes(&bytes, &file)
    }

    /// Decodes a `.pose` file held in memory; `file` is only used in error messages.
    pub fn from_bytes(bytes: &[u8], file: &str) -> Result<PoseFile, PoseError> {
        let mut r = Reader {
            buf: bytes,
            pos: 0,
            file,
            ctx: String::new(),
        };
        let version = r.f32("f32 version")?;
        let ver = PoseVersion::from_f32(version).ok_or_else(|| PoseError::UnknownVersion {
            file: file.to_string(),
            version,
        })?;
        let width = r.u16("u16 width")?;
        let height = r.u16("u16 height")?;
        let depth = r.u16("u16 depth")?;
        let ncomp = r.u16("u16 component count")? as usize;
        let mut components = Vec::new();
        for ci in 0..ncomp {
            r.ctx = format!("#{ci}");
            let name = r.string("component name")?;
            r.ctx = name.clone();
            let fmt_offset = r.pos;
            let format = r.string("component format")?;
            if format.chars().count() < 2 {
                return Err(PoseError::BadHeader {
                    file: file.to_string(),
                    offset: fmt_offset,
                    detail: format!(
                        "component {name}: format {format:?} must have at least one dimension and a confidence letter"
                    ),
                });
            }
            let npoints = r.u16("u16 point count")? as usize;
            let nlimbs = r.u16("u16 limb count")? as usize;
            let ncolors = r.u16("u16 color count")? as usize;
            let mut points = Vec::new();
            for _ in 0..npoints {
                points.push(r.string("point name")?);
            }
            let mut limbs = Vec::new();
            for _ in 0..nlimbs {
                let a = r.u16("limb start u16")?;
                let b = r.u16("limb end u16")?;
                limbs.push((a, b));
            }
            let mut colors = Vec::new();
            for _ in 0..ncolors {
                let c = [
                    r.u16("color red u16")?,
                    r.u16("color green u16")?,
                    r.u16("color blue u16")?,
                ];
                colors.push(c);
            }
            components.push(Component {
                name,
                format,
                points,
                limbs,
                colors,
            });
        }
        r.ctx.clear();
        let npts: usize = components.iter().map(|c| c.points.len()).sum();
        let dims = components.iter().map(|c| c.dims()).max().unwrap_or(0);
        let mut pose = PoseFile {
            version,
            width,
            height,
            depth,
            components,
            fps: 0.0,
            frames: 0,
            people: 0,
            dims,
            data: Vec::new(),
            confidence: Vec::new(),
        };
        match ver {
            PoseVersion::V0_0 => read_body_v0_0(&mut r, &mut pose, npts)?,
            PoseVersion::V0_1 => read_body_v0_1(&mut r, &mut pose, npts)?,
            PoseVersion::V0_2 => read_body_v0_2(&mut r, &mut pose, npts)?,
        }
        Ok(pose)
    }

    /// Stored version number (e.g. 0.1 as f32).
    pub fn version(&self) -> f32 {
        self.version
    }
    /// Version classified as one of the supported layouts.
    pub fn version_kind(&self) -> PoseVersion {
        PoseVersion::from_f32(self.version).unwrap_or(PoseVersion::V0_0)
    }
    /// Video width in pixels.
    pub fn width(&self) -> u16 {
        self.width
    }
    /// Video height in pixels.
    pub fn height(&self) -> u16 {
        self.height
    }
    /// Depth extent (0 for 2-D data).
    pub fn depth(&self) -> u16 {
        self.depth
    }
    /// Components in storage order.
    pub fn components(&self) -> &[Component] {
        &self.components
    }
    /// Frames per second.
    pub fn fps(&self) -> f32 {
        self.fps
    }
    /// Number of frames T.
    pub fn frames(&self) -> usize {
        self.frames
    }
    /// Number of people N.
    pub fn people(&self) -> usize {
        self.people
    }
    /// Total number of points P over all components.
    pub fn points(&self) -> usize {
        self.components.iter().map(|c| c.points.len()).sum()
    }
    /// Spatial dimensions D.
    pub fn dims(&self) -> usize {
        self.dims
    }
    /// Coordinates, `[T][N][P][D]` in C order.
    pub fn data(&self) -> &[f32] {
        &self.data
    }
    /// Confidences, `[T][N][P]` in C order (0 = missing point).
    pub fn confidence(&self) -> &[f32] {
        &self.confidence
    }
    /// Coordinates of one point, or `None` when an index is out of range.
    pub fn point(&self, frame: usize, person: usize, point: usize) -> Option<&[f32]> {
        let i = self.flat_index(frame, person, point)?;
        self.data.get(i * self.dims..(i + 1) * self.dims)
    }
    /// Confidence of one point, or `None` when an index is out of range.
    pub fn point_confidence(&self, frame: usize, person: usize, point: usize) -> Option<f32> {
        let i = self.flat_index(frame, person, point)?;
        self.confidence.get(i).copied()
    }
    /// Offset of the named component's first point in the concatenated point order.
    pub fn component_offset(&self, name: &str) -> Option<usize> {
        let mut off = 0;
        for c in &self.components {
            if c.name == name {
                return Some(off);
            }
            off += c.points.len();
        }
        None
    }
    /// Fraction of (frame, person, point) entries with confidence > 0 (0 when empty).
    pub fn confident_fraction(&self) -> f64 {
        if self.confidence.is_empty() {
            return 0.0;
        }
        let n = self.confidence.iter().filter(|c| **c > 0.0).count();
        n as f64 / self.confidence.len() as f64
    }

    fn flat_index(&self, frame: usize, person: usize, point: usize) -> Option<usize> {
        let p = self.points();
        if frame >= self.frames || person >= self.people || point >= p {
            return None;
        }
        Some((frame * self.people + person) * p + point)
    }
}

fn body_sizes(
    r: &Reader<'_>,
    frames: u64,
    people: u64,
    points: u64,
    dims: u64,
) -> Result<(usize, usize), PoseError> {
    let overflow = || PoseError::SizeMismatch {
        file: r.file.to_string(),
        offset: r.pos,
        detail: format!(
            "{frames} frames x {people} people x {points} points x {dims} dims overflows"
        ),
    };
    let n_conf = frames
        .checked_mul(people)
        .and_then(|v| v.checked_mul(points))
        .ok_or_else(overflow)?;
    let n_data = n_conf.checked_mul(dims).ok_or_else(overflow)?;
    let bytes = n_conf
        .checked_add(n_data)
        .and_then(|v| v.checked_mul(4))
        .ok_or_else(overflow)?;
    if bytes > r.remaining() as u64 {
        return Err(r.truncated(
            &format!(
                "body of {frames} frames x {people} people x {points} points x ({dims} + 1) f32"
            ),
            bytes,
        ));
    }
    Ok((n_data as usize, n_conf as usize))
}

fn read_flat_arrays(
    r: &mut Reader<'_>,
    pose: &mut PoseFile,
    n_data: usize,
    n_conf: usize,
) -> Result<(), PoseError> {
    pose.data = r.f32s(n_data, "f32 data[T][N][P][D]")?;
    pose.confidence = r.f32s(n_conf, "f32 confidence[T][N][P]")?;
    Ok(())
}

fn read_body_v0_2(r: &mut Reader<'_>, pose: &mut PoseFile, npts: usize) -> Result<(), PoseError> {
    pose.fps = r.f32("f32 fps")?;
    let frames = r.u32("u32 frame count")? as u64;
    let people = r.u16("u16 people count")? as u64;
    let (n_data, n_conf) = body_sizes(r, frames, people, npts as u64, pose.dims as u64)?;
    pose.frames = frames as usize;
    pose.people = people as usize;
    read_flat_arrays(r, pose, n_data, n_conf)?;
    if r.remaining() != 0 {
        return Err(PoseError::SizeMismatch {
            file: r.file.to_string(),
            offset: r.pos,
            detail: format!(
                "{} trailing bytes after {frames} frames (expected end of file)",
                r.remaining()
            ),
        });
    }
    Ok(())
}

fn read_body_v0_1(r: &mut Reader<'_>, pose: &mut PoseFile, npts: usize) -> Result<(), PoseError> {
    pose.fps = r.u16("u16 fps")? as f32;
    let stored_frames = r.u16("u16 frame count")? as u64;
    let people = r.u16("u16 people count")? as u64;
    let body_start = r.pos;
    let frame_bytes = people
        .checked_mul(npts as u64)
        .and_then(|v| v.checked_mul(pose.dims as u64 + 1))
        .and_then(|v| v.checked_mul(4))
        .unwrap_or(0);
    let remaining = r.remaining() as u64;
    let frames = if frame_bytes == 0 {
        if remaining != 0 || stored_frames != 0 {
            return Err(PoseError::SizeMismatch {
                file: r.file.to_string(),
                offset: body_start,
                detail: format!(
                    "{people} people x {npts} points leaves no room for frames, but the header says {stored_frames} frames and {remaining} bytes follow"
                ),
            });
        }
        0
    } else {
        if remaining % frame_bytes != 0 {
            return Err(PoseError::SizeMismatch {
                file: r.file.to_string(),
                offset: body_start,
                detail: format!(
                    "{remaining} body bytes is not a multiple of the frame size {frame_bytes} ({people} people x {npts} points x ({} + 1) f32)",
                    pose.dims
                ),
            });
        }
        remaining / frame_bytes
    };
    if frames % 65536 != stored_frames {
        return Err(PoseError::SizeMismatch {
            file: r.file.to_string(),
            offset: body_start,
            detail: format!(
                "body holds {frames} frames but the u16 frame count is {stored_frames} (expected {})",
                frames % 65536
            ),
        });
    }
    let (n_data, n_conf) = body_sizes(r, frames, people, npts as u64, pose.dims as u64)?;
    pose.frames = frames as usize;
    pose.people = people as usize;
    read_flat_arrays(r, pose, n_data, n_conf)
}

fn read_body_v0_0(r: &mut Reader<'_>, pose: &mut PoseFile, npts: usize) -> Result<(), PoseError> {
    pose.fps = r.u16("u16 fps")? as f32;
    let frames = r.u16("u16 frame count")? as usize;
    let dims = pose.dims;
    // Bytes of one person record, checked before each person is read.
    let person_floats: usize = pose
        .components
        .iter()
        .map(|c| c.points.len() * (c.dims() + 1))
        .sum();
    let mut data = Vec::new();
    let mut conf = Vec::new();
    for t in 0..frames {
        let people = r.u16(&format!("u16 people count of frame {t}"))? as usize;
        let need = (people as u64) * (2 + 4 * person_floats as u64);
        if need > r.remaining() as u64 {
            return Err(r.truncated(
                &format!("frame {t}: {people} people x (i16 id + {person_floats} f32)"),
                need,
            ));
        }
        if people == 0 {
            data.resize(data.len() + npts * dims, 0.0);
            conf.resize(conf.len() + npts, 0.0);
            continue;
        }
        for pid in 0..people {
            r.take(2, "i16 person id")?;
            for c in &pose.components {
                let width = c.dims() + 1;
                let vals = r.f32s(c.points.len() * width, "f32 points of a person")?;
                if pid != 0 {
                    continue;
                }
                for p in vals.chunks_exact(width) {
                    data.extend_from_slice(&p[..width - 1]);
                    data.resize(data.len() + (dims - (width - 1)), 0.0);
                    conf.push(p[width - 1]);
                }
            }
        }
    }
    if r.remaining() != 0 {
        return Err(PoseError::SizeMismatch {
            file: r.file.to_string(),
            offset: r.pos,
            detail: format!(
                "{} trailing bytes after {frames} frames (expected end of file)",
                r.remaining()
            ),
        });
    }
    pose.frames = frames;
    pose.people = 1;
    pose.data = data;
    pose.confidence = conf;
    Ok(())
}

/// Encodes a pose as a version 0.2 `.pose` file (used by tests and converters).
pub fn encode_v0_2(pose: &PoseFile) -> Vec<u8> {
    let mut out = Vec::new();
    out.extend_from_slice(&0.2f32.to_le_bytes());
    encode_header_tail(
        &mut out,
        pose.width,
        pose.height,
        pose.depth,
        &pose.components,
    );
    out.extend_from_slice(&pose.fps.to_le_bytes());
    out.extend_from_slice(&(pose.frames as u32).to_le_bytes());
    out.extend_from_slice(&(pose.people as u16).to_le_bytes());
    for v in pose.data.iter().chain(pose.confidence.iter()) {
        out.extend_from_slice(&v.to_le_bytes());
    }
    out
}

/// Writes the header after the version field (width .. colors).
pub fn encode_header_tail(
    out: &mut Vec<u8>,
    width: u16,
    height: u16,
    depth: u16,
    components: &[Component],
) {
    fn s(out: &mut Vec<u8>, v: &str) {
        out.extend_from_slice(&(v.len() as u16).to_le_bytes());
        out.extend_from_slice(v.as_bytes());
    }
    for v in [width, height, depth, components.len() as u16] {
        out.extend_from_slice(&v.to_le_bytes());
    }
    for c in components {
        s(out, &c.name);
        s(out, &c.format);
        for v in [c.points.len(), c.limbs.len(), c.colors.len()] {
            out.extend_from_slice(&(v as u16).to_le_bytes());
        }
        for p in &c.points {
            s(out, p);
        }
        for (a, b) in &c.limbs {
            out.extend_from_slice(&a.to_le_bytes());
            out.extend_from_slice(&b.to_le_bytes());
        }
        for col in &c.colors {
            for v in col {
                out.extend_from_slice(&v.to_le_bytes());
            }
        }
    }
}

impl PoseFile {
    /// Builds a pose in memory (for tests and synthetic conversions); checks array sizes.
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        width: u16,
        height: u16,
        depth: u16,
        components: Vec<Component>,
        fps: f32,
        frames: usize,
        people: usize,
        data: Vec<f32>,
        confidence: Vec<f32>,
    ) -> Option<PoseFile> {
        let p: usize = components.iter().map(|c| c.points.len()).sum();
        let dims = components.iter().map(|c| c.dims()).max().unwrap_or(0);
        let n = frames.checked_mul(people)?.checked_mul(p)?;
        if confidence.len() != n || data.len() != n.checked_mul(dims)? {
            return None;
        }
        Some(PoseFile {
            version: 0.2,
            width,
            height,
            depth,
            components,
            fps,
            frames,
            people,
            dims,
            data,
            confidence,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn comp(name: &str, format: &str, n: usize) -> Component {
        Component {
            name: name.into(),
            format: format.into(),
            points: (0..n).map(|i| format!("p{i}")).collect(),
            limbs: vec![(0, 1)],
            colors: vec![[1, 2, 3]],
        }
    }

    fn small() -> PoseFile {
        let comps = vec![comp("A", "XYC", 2), comp("B", "XYC", 1)];
        let data: Vec<f32> = (0..2 * 3 * 2).map(|i| i as f32).collect();
        let conf = vec![1.0, 0.0, 0.5, 0.25, 1.0, 0.0];
        PoseFile::new(10, 20, 0, comps, 25.0, 2, 1, data, conf).expect("sizes")
    }

    #[test]
    fn v0_2_roundtrip_and_accessors() {
        let p = small();
        let bytes = encode_v0_2(&p);
        let q = PoseFile::from_bytes(&bytes, "mem.pose").expect("decodes");
        assert_eq!(q.frames(), 2);
        assert_eq!(q.people(), 1);
        assert_eq!(q.points(), 3);
        assert_eq!(q.dims(), 2);
        assert_eq!(q.width(), 10);
        assert_eq!(q.height(), 20);
        assert_eq!(q.fps(), 25.0);
        assert_eq!(q.point(1, 0, 2), Some(&[10.0f32, 11.0][..]));
        assert_eq!(q.point_confidence(1, 0, 0), Some(0.25));
        assert_eq!(q.point(2, 0, 0), None);
        assert_eq!(q.component_offset("B"), Some(2));
        assert!((q.confident_fraction() - 4.0 / 6.0).abs() < 1e-12);
        assert_eq!(q.components()[0].limbs, vec![(0, 1)]);
        assert_eq!(q.components()[1].colors, vec![[1, 2, 3]]);
    }

    #[test]
    fn v0_1_derives_frames_and_checks_count() {
        let p = small();
        let mut bytes = encode_v0_2(&p);
        bytes[0..4].copy_from_slice(&0.1f32.to_le_bytes());
        // Replace the v0.2 body prefix (f32 fps, u32 T, u16 N: 10 bytes) by v0.1's (6 bytes).
        let body = bytes.len() - 2 * 3 * 3 * 4 - 10;
        let mut v1 = bytes[..body].to_vec();
        for v in [25u16, 2, 1] {
            v1.extend_from_slice(&v.to_le_bytes());
        }
        v1.extend_from_slice(&bytes[body + 10..]);
        let q = PoseFile::from_bytes(&v1, "v1.pose").expect("v0.1 decodes");
        assert_eq!(q.frames(), 2);
        assert_eq!(q.data(), p.data());
        // A wrong stored count is a size mismatch naming the body offset.
        let mut bad = v1.clone();
        bad[body + 2] = 3;
        let e = PoseFile::from_bytes(&bad, "v1.pose")
            .unwrap_err()
            .to_string();
        assert!(e.contains(&format!("byte {}", body + 6)), "{e}");
        assert!(e.contains("u16 frame count is 3"), "{e}");
        // A body that is not a whole number of frames.
        let mut odd = v1.clone();
        odd.push(0);
        let e = PoseFile::from_bytes(&odd, "v1.pose")
            .unwrap_err()
            .to_string();
        assert!(e.contains("not a multiple"), "{e}");
    }

    #[test]
    fn v0_0_keeps_person_zero_and_zero_fills_empty_frames() {
        let comps = vec![comp("A", "XYC", 1), comp("B", "XYZC", 1)];
        let mut b = Vec::new();
        b.extend_from_slice(&0.0f32.to_le_bytes());
        encode_header_tail(&mut b, 5, 6, 7, &comps);
        b.extend_from_slice(&30u16.to_le_bytes());
        b.extend_from_slice(&2u16.to_le_bytes());
        // frame 0: two people
        b.extend_from_slice(&2u16.to_le_bytes());
        for (pid, base) in [(0i16, 1.0f32), (1, 100.0)] {
            b.extend_from_slice(&pid.to_le_bytes());
            for v in [
                base,
                base + 1.0,
                0.9,
                base + 2.0,
                base + 3.0,
                base + 4.0,
                0.8,
            ] {
                b.extend_from_slice(&v.to_le_bytes());
            }
        }
        // frame 1: nobody
        b.extend_from_slice(&0u16.to_le_bytes());
        let q = PoseFile::from_bytes(&b, "v0.pose").expect("v0.0 decodes");
        assert_eq!(q.fps(), 30.0);
        assert_eq!((q.frames(), q.people(), q.points(), q.dims()), (2, 1, 2, 3));
        assert_eq!(q.point(0, 0, 0), Some(&[1.0f32, 2.0, 0.0][..]));
        assert_eq!(q.point(0, 0, 1), Some(&[3.0f32, 4.0, 5.0][..]));
        assert_eq!(q.confidence(), &[0.9, 0.8, 0.0, 0.0]);
        assert_eq!(q.point(1, 0, 1), Some(&[0.0f32, 0.0, 0.0][..]));
        // Truncating the last person's data gives an error at the frame's offset.
        let e = PoseFile::from_bytes(&b[..b.len() - 3], "v0.pose").unwrap_err();
        assert!(matches!(e, PoseError::Truncated { .. }), "{e}");
    }

    #[test]
    fn errors_name_file_offset_and_field() {
        let bytes = encode_v0_2(&small());
        let e = PoseFile::from_bytes(&bytes[..3], "x.pose")
            .unwrap_err()
            .to_string();
        assert!(e.starts_with("x.pose: truncated at byte 0"), "{e}");
        assert!(e.contains("f32 version"), "{e}");
        let mut v = bytes.clone();
        v[0..4].copy_from_slice(&0.3f32.to_le_bytes());
        let e = PoseFile::from_bytes(&v, "x.pose").unwrap_err();
        assert!(matches!(e, PoseError::UnknownVersion { .. }), "{e}");
        // Bad UTF-8 in the first component name (offset 12 = after len).
        let mut v = bytes.clone();
        v[14] = 0xff;
        let e = PoseFile::from_bytes(&v, "x.pose").unwrap_err().to_string();
        assert_eq!(
            e,
            "x.pose: byte 14: component name (component #0) is not valid UTF-8"
        );
        // Trailing bytes in v0.2.
        let mut v = bytes.clone();
        v.extend_from_slice(&[0, 0, 0, 0]);
        let e = PoseFile::from_bytes(&v, "x.pose").unwrap_err().to_string();
        assert!(e.contains("4 trailing bytes"), "{e}");
        // Huge frame count: refused before allocating.
        let mut v = bytes.clone();
        let at = v.len() - 6 * 4 - 12 * 4 - 6;
        v[at..at + 4].copy_from_slice(&u32::MAX.to_le_bytes());
        let e = PoseFile::from_bytes(&v, "x.pose").unwrap_err().to_string();
        assert!(e.contains("body of 4294967295 frames"), "{e}");
    }
}
