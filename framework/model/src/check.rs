//! CPU-vs-device forward agreement: builds a model of a preset on the CPU from a seed, copies
//! its parameters to another device through host vectors ([`Seds::to_device`]), runs the same
//! video + text batch through both, and compares what comes out: the normalised video tokens
//! (fused, and each stream of a dual-stream model), the normalised text tokens, every loss
//! component of the training objective and the gradient of every parameter.
//!
//! Each quantity is reported as the max absolute difference and the max relative difference,
//! where "relative" divides by the largest CPU magnitude of that quantity (a norm-wise measure
//! that stays meaningful for values near zero). [`AgreementReport::passed`] holds when every
//! relative difference is within the tolerance (1e-3 is a float32 bound for these sizes).
//! With `D = Cpu` the two runs are the same computation and every difference is exactly 0,
//! which the tests check so that this code path runs in CI without a GPU.

use crate::bench::random_split;
use crate::device::{with_device, DeviceError, DeviceFn, ModelDevice};
use crate::model::{cap_clips, Ctx, ModelError, Seds};
use crate::pose::PoseNorm;
use crate::preset::{with_preset, Dims, Preset, PresetFn, RGB_DIM};
use dfdx::prelude::*;
use seds_config::{ModelSize, RunConfig};
use seds_data::{text_batch, video_batch, Tokenizer, TrainBatch};
use std::fmt;

/// Default relative tolerance of the agreement check (float32).
pub const DEFAULT_TOLERANCE: f64 = 1e-3;

/// Batch shape of the agreement check.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CheckShape {
    /// Videos (and sentences) in the batch (at least 2).
    pub batch: usize,
    /// Frames per video (at least 16).
    pub frames: usize,
    /// Clips per video (1 to 64).
    pub clips: usize,
}

impl Default for CheckShape {
    /// 4 videos of 32 frames and 8 clips: small enough for the paper preset on a CPU.
    fn default() -> Self {
        CheckShape {
            batch: 4,
            frames: 32,
            clips: 8,
        }
    }
}

/// Agreement of one compared quantity.
#[derive(Clone, Debug, PartialEq)]
pub struct Agreement {
    /// What was compared (`video tokens`, `loss_total`, `gradients`, ...).
    pub quantity: String,
    /// Number of values compared.
    pub values: usize,
    /// Max `|cpu - device|`.
    pub max_abs: f64,
    /// `max_abs` divided by the largest `|cpu|` of the quantity (0 when both are 0).
    pub max_rel: f64,
}

/// The result of a CPU-vs-device agreement check.
#[derive(Clone, Debug, PartialEq)]
pub struct AgreementReport {
    /// Preset name.
    pub preset: &'static str,
    /// Device compared with the CPU (`cuda:0`, or `cpu` in tests).
    pub device: String,
    /// Seed of the weights and of the random batch.
    pub seed: u64,
    /// Batch shape.
    pub shape: CheckShape,
    /// Relative tolerance.
    pub tolerance: f64,
    /// One row per compared quantity.
    pub rows: Vec<Agreement>,
}

impl AgreementReport {
    /// The largest relative difference over all quantities.
    pub fn max_rel(&self) -> f64 {
        self.rows.iter().map(|r| r.max_rel).fold(0.0, f64::max)
    }

    /// The largest absolute difference over all quantities.
    pub fn max_abs(&self) -> f64 {
        self.rows.iter().map(|r| r.max_abs).fold(0.0, f64::max)
    }

    /// Whether every quantity agrees within the tolerance (NaN differences fail).
    pub fn passed(&self) -> bool {
        self.rows
            .iter()
            .all(|r| r.max_rel <= self.tolerance && r.max_abs.is_finite())
    }
}

impl fmt::Display for AgreementReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "cpu vs {}: preset {}, seed {}, batch {}, {} frames, {} clips, tolerance {:e} \
             (relative to the largest CPU magnitude)",
            self.device,
            self.preset,
            self.seed,
            self.shape.batch,
            self.shape.frames,
            self.shape.clips,
            self.tolerance
        )?;
        writeln!(
            f,
            "{:<20} {:>10} {:>12} {:>12}",
            "quantity", "values", "max_abs", "max_rel"
        )?;
        for r in &self.rows {
            writeln!(
                f,
                "{:<20} {:>10} {:>12.3e} {:>12.3e}",
                r.quantity, r.values, r.max_abs, r.max_rel
            )?;
        }
        write!(
            f,
            "{}: max abs {:.3e}, max rel {:.3e}",
            if self.passed() { "PASS" } else { "FAIL" },
            self.max_abs(),
            self.max_rel()
        )
    }
}

/// Compares two equally long value lists (CPU first).
pub fn compare(quantity: &str, cpu: &[f32], dev: &[f32]) -> Agreement {
    let mut max_abs = if cpu.len() == dev.len() {
        0.0f64
    } else {
        f64::INFINITY
    };
    let mut scale = 0.0f64;
    for (a, b) in cpu.iter().zip(dev) {
        let d = (*a as f64 - *b as f64).abs();
        // NaN on either side must not compare as agreement.
        max_abs = if d.is_nan() || max_abs.is_nan() {
            f64::NAN
        } else {
            max_abs.max(d)
        };
        scale = scale.max((*a as f64).abs());
    }
    let max_rel = if max_abs == 0.0 {
        0.0
    } else if scale > 0.0 {
        max_abs / scale
    } else {
        f64::INFINITY
    };
    Agreement {
        quantity: quantity.to_string(),
        values: cpu.len(),
        max_abs,
        max_rel: if max_abs.is_nan() { f64::NAN } else { max_rel },
    }
}

/// Everything the check reads back from one model, in host vectors.
struct Outputs {
    named: Vec<(String, Vec<f32>)>,
}

fn outputs<D: Device<f32>>(model: &Seds<D>, batch: &TrainBatch) -> Result<Outputs, ModelError> {
    let mut named = Vec::new();
    let st = model.video_tokens_with_streams(&mut Ctx::eval(), &batch.video)?;
    named.push(("video tokens".to_string(), st.fused.tokens.as_vec()));
    for (name, s) in ["pose tokens", "rgb tokens"].iter().zip(&st.streams) {
        named.push((name.to_string(), s.tokens.as_vec()));
    }
    let (w, _) = model.text_tokens(&mut Ctx::eval(), &batch.text, NoneTape);
    named.push(("text tokens".to_string(), w.as_vec()));
    let (loss, parts) = model.loss(&mut Ctx::eval(), batch)?;
    for (name, v) in parts.named() {
        named.push((name.to_string(), vec![v]));
    }
    let mut grads = loss.backward();
    let mut g = Vec::new();
    for p in &model.params.list {
        grads
            .try_alloc_for(&p.tensor)
            .map_err(|e| ModelError::Config(format!("gradient allocation: {e}")))?;
        g.extend(grads.get(&p.tensor).as_vec());
    }
    named.push(("gradients".to_string(), g));
    Ok(Outputs { named })
}

struct Check<D> {
    dev: D,
    device: String,
    seed: u64,
    shape: CheckShape,
    tolerance: f64,
    size: ModelSize,
}

impl<D: ModelDevice> PresetFn for Check<D> {
    type Out = Result<AgreementReport, ModelError>;
    fn run<P: Preset>(self) -> Self::Out {
        let d = Dims::of::<P>();
        let mut cfg = RunConfig::default();
        cfg.model.size = self.size;
        cfg.model.dropout = 0.0;
        cfg.seed = self.seed;
        let sh = CheckShape {
            batch: self.shape.batch.max(2),
            frames: self.shape.frames.max(16),
            clips: self.shape.clips.clamp(1, 64),
        };
        let window = 16.min(sh.frames);
        let split = random_split(sh.batch, sh.frames, sh.clips, window, RGB_DIM, self.seed);
        let mut cpu = Seds::new(d, &cfg, RGB_DIM, window)?;
        cpu.set_pose_norm(PoseNorm::from_split(&split));
        let dev = cpu.to_device(self.dev)?;
        let idx: Vec<usize> = (0..split.videos.len()).collect();
        let tok = Tokenizer::from_split(&split);
        let batch = TrainBatch {
            video: cap_clips(video_batch(&split, &idx), d.max_tokens - 1),
            text: text_batch(&split, &tok, &idx, cpu.max_words()),
            text_aug: None,
        };
        let a = outputs(&cpu, &batch)?;
        let b = outputs(&dev, &batch)?;
        let rows = a
            .named
            .iter()
            .zip(&b.named)
            .map(|((name, x), (_, y))| compare(name, x, y))
            .collect();
        Ok(AgreementReport {
            preset: d.name,
            device: self.device,
            seed: self.seed,
            shape: sh,
            tolerance: self.tolerance,
            rows,
        })
    }
}

/// The agreement check of preset `size` between the CPU and the opened device `dev` (named
/// `device` in the report), with weights and batch from `seed`.
pub fn forward_agreement_on<D: ModelDevice>(
    dev: D,
    device: &str,
    size: ModelSize,
    seed: u64,
    shape: CheckShape,
    tolerance: f64,
) -> Result<AgreementReport, ModelError> {
    with_preset(
        size,
        Check {
            dev,
            device: device.to_string(),
            seed,
            shape,
            tolerance,
            size,
        },
    )
}

/// Errors of [`forward_agreement`].
#[derive(Debug, thiserror::Error)]
pub enum CheckError {
    /// The device cannot be used.
    #[error(transparent)]
    Device(#[from] DeviceError),
    /// The model refused the check's inputs (a bug: they are built here).
    #[error(transparent)]
    Model(#[from] ModelError),
}

/// [`forward_agreement_on`] with the device named `device` (`"cuda"`, `"cuda:N"`, or `"cpu"`),
/// opened through [`crate::device::with_device`].
pub fn forward_agreement(
    device: &str,
    size: ModelSize,
    seed: u64,
    shape: CheckShape,
    tolerance: f64,
) -> Result<AgreementReport, CheckError> {
    struct OnDev<'a>(&'a str, ModelSize, u64, CheckShape, f64);
    impl DeviceFn for OnDev<'_> {
        type Out = Result<AgreementReport, ModelError>;
        fn run<D: ModelDevice>(self, dev: D) -> Self::Out {
            forward_agreement_on(dev, self.0, self.1, self.2, self.3, self.4)
        }
    }
    let name = crate::device::check_device(device)?.to_string();
    Ok(with_device(
        device,
        seed,
        OnDev(&name, size, seed, shape, tolerance),
    )??)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cpu_against_cpu_agrees_exactly() {
        let r = forward_agreement(
            "cpu",
            ModelSize::Tiny,
            7,
            CheckShape::default(),
            DEFAULT_TOLERANCE,
        )
        .unwrap();
        let names: Vec<&str> = r.rows.iter().map(|r| r.quantity.as_str()).collect();
        for want in [
            "video tokens",
            "pose tokens",
            "rgb tokens",
            "text tokens",
            "loss_total",
            "gradients",
        ] {
            assert!(names.contains(&want), "{want} missing from {names:?}");
        }
        for row in &r.rows {
            assert!(row.values > 0, "{row:?}");
            assert_eq!((row.max_abs, row.max_rel), (0.0, 0.0), "{row:?}");
        }
        assert!(r.passed());
        assert!(r.to_string().contains("PASS"), "{r}");
    }

    #[test]
    fn compare_measures_relative_to_the_cpu_scale_and_fails_on_nan() {
        let a = compare("x", &[2.0, -4.0], &[2.0, -3.996]);
        assert!((a.max_abs - 0.004).abs() < 1e-6, "{a:?}");
        assert!((a.max_rel - 0.001).abs() < 1e-6, "{a:?}");
        let n = compare("x", &[1.0], &[f32::NAN]);
        let r = AgreementReport {
            preset: "tiny",
            device: "cpu".into(),
            seed: 0,
            shape: CheckShape::default(),
            tolerance: 1e-3,
            rows: vec![n],
        };
        assert!(!r.passed());
        assert!(compare("x", &[1.0], &[1.0, 2.0]).max_abs.is_infinite());
    }
}
