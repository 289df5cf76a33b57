//! The on-disk cache of preprocessed real datasets (effects live here): one directory per
//! (source, root, preprocessing settings, file fingerprint) under `data.cache_dir`, named
//! `<source>-<root name>-<key12>`, holding `data.bin` (the SynthSign cache encoding, pose
//! and RGB as f16) and `manifest.json` (key inputs, counts, sha256 of `data.bin`).
//!
//! The fingerprint covers every annotation file, pose file and feature file (size and
//! modification time); an OpenPose frame directory counts by its own modification time
//! (adding or removing a frame changes it, editing a JSON file in place does not: delete the
//! cache directory after such an edit). A stale or corrupt cache is rebuilt.

use crate::cache::{
    decode, encode, sha_hex, split_counts, write_atomic, write_manifest, CacheStatus, SplitCounts,
};
use crate::error::DataError;
use crate::real::{self, DatasetIndex};
use crate::types::Dataset;
use seds_config::DataConfig;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};

/// Version of the real-data pipeline; bump when preprocessing or reading changes.
pub const REAL_PIPELINE_VERSION: &str = "real-1";

/// The manifest of a real-dataset cache.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RealManifest {
    /// Always `real-dataset-cache`.
    pub format: String,
    /// [`REAL_PIPELINE_VERSION`] that wrote the cache.
    pub pipeline_version: String,
    /// Hex sha256 cache key.
    pub key: String,
    /// The inputs the key was computed from (the file fingerprint as its own sha256).
    pub key_inputs: serde_json::Value,
    /// train, dev, test counts.
    pub counts: Vec<SplitCounts>,
    /// Bytes of `data.bin`.
    pub data_bytes: u64,
    /// Hex sha256 of `data.bin`.
    pub data_sha256: String,
}

/// `(size, mtime in ns)` of a path, `(0, 0)` when it cannot be read.
fn stamp(p: &Path) -> (u64, u128) {
    match std::fs::metadata(p) {
        Ok(m) => (
            m.len(),
            m.modified()
                .ok()
                .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
                .map_or(0, |d| d.as_nanos()),
        ),
        Err(_) => (0, 0),
    }
}

/// The cache key inputs and key of an indexed dataset.
pub fn real_cache_key(cfg: &DataConfig, idx: &DatasetIndex) -> (serde_json::Value, String) {
    let mut h = Sha256::new();
    let mut add = |p: &Path| {
        let (len, t) = stamp(p);
        h.update(p.to_string_lossy().as_bytes());
        h.update(format!("\t{len}\t{t}\n").as_bytes());
    };
    for f in &idx.annotation_files {
        add(f);
    }
    for entries in &idx.splits {
        for e in entries {
            if let Ok(loc) = real::locate_pose(&idx.root, &e.video) {
                add(loc.path());
            }
            add(&real::features_path(&idx.root, &e.video));
        }
    }
    let files = hex::encode(h.finalize());
    let root = std::fs::canonicalize(&idx.root).unwrap_or_else(|_| idx.root.clone());
    let inputs = serde_json::json!({
        "pipeline_version": REAL_PIPELINE_VERSION,
        "source": real::source_name(cfg.source),
        "root": root.display().to_string(),
        "geometry": serde_json::to_value(idx.geometry).unwrap_or_default(),
        "rgb_dim": cfg.rgb_dim,
        "clip_window": cfg.clip_window,
        "clip_stride": cfg.clip_stride,
        "max_clips": cfg.max_clips,
        "files": files,
    });
    let key = sha_hex(inputs.to_string().as_bytes());
    (inputs, key)
}

/// The cache directory of an indexed dataset with key `key`.
pub fn real_cache_path(cfg: &DataConfig, idx: &DatasetIndex, key: &str) -> PathBuf {
    let root_name = idx
        .root
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    Path::new(&cfg.cache_dir).join(format!(
        "{}-{}-{}",
        real::source_name(cfg.source),
        root_name,
        &key[..12]
    ))
}

/// A valid cache in `dir` for `key`, or why it is unusable (`"missing"` when absent).
fn try_read(dir: &Path, key: &str) -> Result<Dataset, String> {
    let mpath = dir.join("manifest.json");
    let mtext = match std::fs::read_to_string(&mpath) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Err("missing".into()),
        Err(e) => return Err(format!("manifest unreadable: {e}")),
    };
    let m: RealManifest = serde_json::from_str(&mtext)
        .map_err(|e| format!("manifest {} does not parse: {e}", mpath.display()))?;
    if m.pipeline_version != REAL_PIPELINE_VERSION || m.key != key {
        return Err(format!(
            "stale: pipeline {} key {}",
            m.pipeline_version, m.key
        ));
    }
    let dpath = dir.join("data.bin");
    let bytes = std::fs::read(&dpath).map_err(|e| format!("data file unreadable: {e}"))?;
    if bytes.len() as u64 != m.data_bytes || sha_hex(&bytes) != m.data_sha256 {
        return Err(format!("checksum mismatch in {}", dpath.display()));
    }
    let ds = decode(&bytes, &dpath).map_err(|e| e.to_string())?;
    if split_counts(&ds) != m.counts {
        return Err("counts differ from the manifest".into());
    }
    Ok(ds)
}

/// Loads a real dataset through its cache: a valid cache is read, otherwise the dataset is
/// read from its directory (stopping at the first problem) and the cache (re)written.
pub fn load_real(cfg: &DataConfig) -> Result<(Dataset, CacheStatus), DataError> {
    let idx = real::index(cfg)?;
    if !idx.problems.is_empty() {
        // Report the first problem exactly as an uncached load would.
        return Err(real::load_real_uncached(cfg)
            .err()
            .unwrap_or_else(|| DataError::Config("annotation problems".into())));
    }
    let (inputs, key) = real_cache_key(cfg, &idx);
    let dir = real_cache_path(cfg, &idx, &key);
    let status = match try_read(&dir, &key) {
        Ok(ds) => return Ok((ds, CacheStatus::Hit)),
        Err(r) if r == "missing" => CacheStatus::Generated,
        Err(r) => CacheStatus::Rebuilt(r),
    };
    let ds = real::load_real_uncached(cfg)?;
    std::fs::create_dir_all(&dir).map_err(|e| DataError::io(&dir, e))?;
    let bytes = encode(&ds);
    write_atomic(&dir.join("data.bin"), &bytes)?;
    let m = RealManifest {
        format: "real-dataset-cache".into(),
        pipeline_version: REAL_PIPELINE_VERSION.into(),
        key,
        key_inputs: inputs,
        counts: split_counts(&ds),
        data_bytes: bytes.len() as u64,
        data_sha256: sha_hex(&bytes),
    };
    write_manifest(&dir, &m)?;
    Ok((ds, status))
}
