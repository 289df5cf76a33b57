//! Benchmarks: training throughput, per-module forward/backward times (NoneTape vs tape),
//! gallery scoring throughput, peak memory (VmHWM) and analytic matmul FLOPs per step, on any
//! device ([`bench`] on the CPU, [`bench_device`] by device name, [`bench_on`] generic).
//! Timings wait for the device (`Synchronize`) before and after each timed section, so they
//! are meaningful on asynchronous devices (CUDA) too; gallery scoring runs on the host.

use crate::device::{with_device, DeviceError, DeviceFn, ModelDevice};
use crate::model::{Ctx, Seds};
use crate::ops::T0;
use crate::optim::{OptConfig, OptState};
use crate::params::T2;
use crate::preset::{with_preset, Dims, Preset, PresetFn};
use dfdx::prelude::*;
use seds_config::{ModelSize, RunConfig};
use seds_core::Rng;
use seds_data::{
    text_batch, video_batch, Sentence, Split, Tokenizer, TrainBatch, Video, COORDS, NUM_JOINTS,
};
use std::fmt;
use std::time::Instant;

/// Timing of one module.
#[derive(Clone, Debug, PartialEq)]
pub struct ModuleTime {
    /// Module name.
    pub module: &'static str,
    /// Forward without tape, seconds.
    pub fwd_notape_s: f64,
    /// Forward with tape, seconds.
    pub fwd_tape_s: f64,
    /// Backward of the module output's sum, seconds.
    pub bwd_s: f64,
    /// Analytic forward matmul GFLOP.
    pub gflop_fwd: f64,
}

/// The benchmark report.
#[derive(Clone, Debug, PartialEq)]
pub struct BenchReport {
    /// Preset name.
    pub preset: &'static str,
    /// Device the model ran on (`cpu`, `cuda:N`).
    pub device: String,
    /// Batch size.
    pub batch: usize,
    /// Frames per video.
    pub frames: usize,
    /// Clips per video.
    pub clips: usize,
    /// Measured training steps.
    pub steps: usize,
    /// Training steps per second (forward + backward + optimiser).
    pub steps_per_s: f64,
    /// Training samples per second.
    pub samples_per_s: f64,
    /// Per-module times.
    pub modules: Vec<ModuleTime>,
    /// Gallery scoring pairs per second.
    pub gallery_pairs_per_s: f64,
    /// Peak resident memory (VmHWM), MiB; 0 when unknown.
    pub peak_mib: f64,
    /// Analytic matmul GFLOP per training step (forward x 3).
    pub gflop_per_step: f64,
    /// Achieved GFLOP/s in training.
    pub gflops_achieved: f64,
    /// Learnable scalars.
    pub num_params: usize,
}

impl fmt::Display for BenchReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "preset {} | {} | batch {} | {} frames, {} clips | {} params",
            self.preset, self.device, self.batch, self.frames, self.clips, self.num_params
        )?;
        writeln!(
            f,
            "train: {:.3} steps/s, {:.1} samples/s, {:.2} GFLOP/step, {:.1} GFLOP/s achieved",
            self.steps_per_s, self.samples_per_s, self.gflop_per_step, self.gflops_achieved
        )?;
        writeln!(
            f,
            "{:<10} {:>12} {:>12} {:>12} {:>10}",
            "module", "fwd-notape", "fwd-tape", "backward", "GFLOP fwd"
        )?;
        for m in &self.modules {
            writeln!(
                f,
                "{:<10} {:>10.1}ms {:>10.1}ms {:>10.1}ms {:>10.3}",
                m.module,
                m.fwd_notape_s * 1e3,
                m.fwd_tape_s * 1e3,
                m.bwd_s * 1e3,
                m.gflop_fwd
            )?;
        }
        writeln!(
            f,
            "gallery scoring: {:.0} pairs/s",
            self.gallery_pairs_per_s
        )?;
        write!(f, "peak memory (VmHWM): {:.0} MiB", self.peak_mib)
    }
}

/// Peak resident set size of this process in MiB (Linux VmHWM), 0 elsewhere.
pub fn peak_mib() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|v| v.parse::<f64>().ok())
        })
        .map(|kb| kb / 1024.0)
        .unwrap_or(0.0)
}

/// Panic message of the benchmark's internal invariants: its inputs are generated here, from
/// the default configuration, so a seds-nn refusal is a bug, not bad user input.
const BENCH_OK: &str = "benchmark inputs are valid by construction";

/// A random split of `n` videos (one per sentence) for benchmarks and tests.
pub fn random_split(
    n: usize,
    frames: usize,
    clips: usize,
    window: usize,
    rgb_dim: usize,
    seed: u64,
) -> Split {
    let mut rng = Rng::new(seed);
    let mut s = Split {
        name: "bench".into(),
        ..Default::default()
    };
    for i in 0..n {
        s.sentences.push(Sentence {
            id: format!("s{i}"),
            text: format!("word{} word{} word{} sign{}", i % 7, i % 5, i % 3, i),
            glosses: vec![],
        });
        let starts: Vec<usize> = (0..clips)
            .map(|c| {
                if clips > 1 {
                    c * (frames - window) / (clips - 1)
                } else {
                    0
                }
            })
            .collect();
        s.videos.push(Video {
            id: format!("v{i}"),
            sentence: i,
            signer: 0,
            frames,
            pose: (0..frames * NUM_JOINTS * COORDS)
                .map(|_| rng.uniform() as f32)
                .collect(),
            clip_starts: starts,
            rgb: (0..clips * rgb_dim).map(|_| rng.normal() as f32).collect(),
        });
    }
    s
}

/// Runs `f` and times it, waiting for `dev`'s queued work before and after (a no-op on the
/// CPU), so asynchronous devices are timed by completion.
fn time<D: ModelDevice, R>(dev: &D, f: impl FnOnce() -> R) -> (R, f64) {
    let _ = dev.try_synchronize();
    let t = Instant::now();
    let r = f();
    let _ = dev.try_synchronize();
    (r, t.elapsed().as_secs_f64())
}

fn tower_gflop(
    d: &Dims,
    b: usize,
    s: usize,
    input: usize,
    w: usize,
    layers: usize,
    mlp: usize,
) -> f64 {
    let bs = (b * s) as f64;
    let (w, inp) = (w as f64, input as f64);
    let per_layer = 8.0 * bs * w * w + 4.0 * (b * s * s) as f64 * w + 4.0 * bs * w * mlp as f64;
    (2.0 * bs * inp * w + layers as f64 * per_layer + 2.0 * bs * w * d.d as f64) / 1e9
}

fn pose_gflop(d: &Dims, b: usize, t: usize, nm: usize, window: usize) -> f64 {
    let n = (b * t) as f64;
    let mut g = 0.0;
    for (j, k, mult) in [(21.0, 4.0, 2.0), (7.0, 4.0, 1.0)] {
        let mut cin = 2.0;
        for &c in &d.gcn {
            g += mult * (2.0 * k * j * j * n * cin + 2.0 * j * n * k * cin * c as f64);
            cin = c as f64;
        }
        let p = if j == 21.0 { 6.0 } else { 3.0 };
        for _ in 0..2 {
            g += mult * (2.0 * 2.0 * p * p * n * cin + 2.0 * p * n * 2.0 * cin * d.part as f64);
            cin = d.part as f64;
        }
    }
    let f = d.frame as f64;
    let edges = (window.min(2 * crate::pose::RADIUS)) as f64;
    let rows = 3.0 * n + (b * nm) as f64 * edges;
    g += rows * 20.0 * f * f + 4.0 * (b * nm * t) as f64 * f;
    g / 1e9
}

struct Run<D> {
    dev: D,
    device: String,
    size: ModelSize,
    steps: usize,
    batch: usize,
    frames: usize,
    clips: usize,
}

impl<D: ModelDevice> PresetFn for Run<D> {
    type Out = BenchReport;
    fn run<P: Preset>(self) -> BenchReport {
        let dev = self.dev.clone();
        let d = Dims::of::<P>();
        let mut cfg = RunConfig::default();
        cfg.model.size = self.size;
        cfg.model.dropout = 0.0;
        let window = 16.min(self.frames);
        let split = random_split(
            self.batch.max(2),
            self.frames,
            self.clips,
            window,
            crate::RGB_DIM,
            1,
        );
        let mut model =
            Seds::new_on(self.dev, d, &cfg, crate::RGB_DIM, window).expect("default config builds");
        let idx: Vec<usize> = (0..split.videos.len()).collect();
        let tok = Tokenizer::from_split(&split);
        let tb = text_batch(&split, &tok, &idx, model.max_words());
        let vb = crate::model::cap_clips(video_batch(&split, &idx), d.max_tokens - 1);
        let batch = TrainBatch {
            video: vb.clone(),
            text: tb.clone(),
            text_aug: None,
        };
        let (b, tm, nm) = (vb.len(), vb.max_frames, vb.max_clips);
        let n = nm + 1;
        let l = tb.max_tokens;
        // Training steps (one warm-up step not timed).
        let oc = OptConfig {
            kind: cfg.train.optimizer,
            beta1: 0.9,
            beta2: 0.98,
            eps: 1e-6,
            weight_decay: 1e-3,
            clip: 1.0,
        };
        let mut opt = OptState::new(&model.params);
        let mut step = |model: &mut Seds<D>| {
            let mut ctx = Ctx::eval();
            let (loss, _) = model.loss(&mut ctx, &batch).expect(BENCH_OK);
            let mut grads = loss.backward();
            let mut g: Vec<Vec<f32>> = model
                .params
                .list
                .iter()
                .map(|p| {
                    let _ = grads.try_alloc_for(&p.tensor);
                    grads.get(&p.tensor).as_vec()
                })
                .collect();
            opt.step(&mut model.params, &mut g, 1e-4, 1e-4, &oc);
        };
        step(&mut model);
        let (_, dt) = time(&dev, || {
            for _ in 0..self.steps {
                step(&mut model);
            }
        });
        let sps = self.steps as f64 / dt.max(1e-9);
        let p = &model.params;
        let mut modules = Vec::new();
        let mut ctx = Ctx::eval();
        // Pose encoder.
        let (enc, ptower) = model.pose.as_ref().expect("dual stream");
        let (_, f0) = time(&dev, || {
            let x = enc.frames(p, &vb, NoneTape);
            enc.clips(p, &vb, x, window)
        });
        let (o, f1) = time(&dev, || {
            let x = enc.frames(p, &vb, OwnedTape::<f32, D>::default());
            enc.clips(p, &vb, x, window)
        });
        let (_, bw) = time(&dev, || o.sum::<(), _>().backward());
        modules.push(ModuleTime {
            module: "pose",
            fwd_notape_s: f0,
            fwd_tape_s: f1,
            bwd_s: bw,
            gflop_fwd: pose_gflop(&d, b, tm, nm, window),
        });
        let clips: T2<D> = enc.clips(p, &vb, enc.frames(p, &vb, NoneTape), window);
        let rgb = crate::params::host2(&p.dev, vb.rgb.clone(), b * nm, crate::RGB_DIM);
        let rtower = model.rgb.as_ref().expect("dual stream");
        let (_, f0) = time(&dev, || {
            let _ = ptower.fwd(p, &mut ctx, clips.clone(), b, nm, &vb.clip_len);
            rtower.fwd(p, &mut ctx, rgb.clone(), b, nm, &vb.clip_len)
        });
        let (o, f1) = time(&dev, || {
            let a = ptower.fwd(
                p,
                &mut ctx,
                clips.retaped::<OwnedTape<f32, D>>(),
                b,
                nm,
                &vb.clip_len,
            );
            let r = rtower.fwd(
                p,
                &mut ctx,
                rgb.retaped::<OwnedTape<f32, D>>(),
                b,
                nm,
                &vb.clip_len,
            );
            a + r
        });
        let (_, bw) = time(&dev, || o.sum::<(), _>().backward());
        let tg = tower_gflop(&d, b, n, d.frame, d.w, d.layers, d.mlp)
            + tower_gflop(&d, b, n, crate::RGB_DIM, d.w, d.layers, d.mlp);
        modules.push(ModuleTime {
            module: "towers",
            fwd_notape_s: f0,
            fwd_tape_s: f1,
            bwd_s: bw,
            gflop_fwd: tg,
        });
        // Text.
        let (_, f0) = time(&dev, || model.text_tokens(&mut ctx, &tb, NoneTape));
        let (o, f1) = time(&dev, || {
            model
                .text_tokens(&mut ctx, &tb, OwnedTape::<f32, D>::default())
                .0
        });
        let (_, bw) = time(&dev, || o.sum::<(), _>().backward());
        let xg = tower_gflop(&d, b, l, 0, d.tw, d.tlayers, d.tmlp);
        modules.push(ModuleTime {
            module: "text",
            fwd_notape_s: f0,
            fwd_tape_s: f1,
            bwd_s: bw,
            gflop_fwd: xg,
        });
        // CGAF + fusion.
        let fp = ptower.fwd(p, &mut ctx, clips.clone(), b, nm, &vb.clip_len);
        let fr = rtower.fwd(p, &mut ctx, rgb.clone(), b, nm, &vb.clip_len);
        let (_, f0) = time(&dev, || {
            model
                .fused(&mut ctx, fp.clone(), fr.clone(), &vb)
                .expect(BENCH_OK)
        });
        let (o, f1) = time(&dev, || {
            model
                .fused(
                    &mut ctx,
                    fp.retaped::<OwnedTape<f32, D>>(),
                    fr.retaped(),
                    &vb,
                )
                .expect(BENCH_OK)
        });
        let (_, bw) = time(&dev, || o.sum::<(), _>().backward());
        let bn = (b * n) as f64;
        let dd = d.d as f64;
        let keys: usize = cfg.model.cgaf_keys.iter().sum();
        let cg = (cfg.model.cgaf_keys.len() as f64
            * 2.0
            * (8.0 * bn * dd * dd + 4.0 * bn * dd * d.cgaf_ffn as f64)
            + 2.0 * 2.0 * bn * dd * (d.cgaf_heads * keys) as f64
                / cfg.model.cgaf_keys.len().max(1) as f64
            + 2.0 * bn * (2.0 * dd * 4.0 * dd * 2.0 + 2.0 * dd * dd))
            / 1e9;
        modules.push(ModuleTime {
            module: "cgaf",
            fwd_notape_s: f0,
            fwd_tape_s: f1,
            bwd_s: bw,
            gflop_fwd: cg,
        });
        // Losses (from fixed tokens).
        let (_, f0) = time(&dev, || model.loss(&mut ctx, &batch).expect(BENCH_OK).1);
        let (lt, f1) = time(&dev, || model.loss(&mut ctx, &batch).expect(BENCH_OK));
        let (_, bw) = time(&dev, || {
            let l: T0<D, OwnedTape<f32, D>> = lt.0;
            l.backward()
        });
        let lg = (4.0 * 2.0 * bn * (b * l) as f64 * dd + 2.0 * bn * bn * dd) / 1e9;
        // The "losses" row times the whole objective forward/backward minus nothing: report as-is.
        modules.push(ModuleTime {
            module: "full-loss",
            fwd_notape_s: f0,
            fwd_tape_s: f1,
            bwd_s: bw,
            gflop_fwd: lg,
        });
        // Gallery scoring.
        let vt = model.video_tokens(&mut ctx, &vb).expect(BENCH_OK);
        let (w, wl) = model.text_tokens(&mut ctx, &tb, NoneTape);
        let reps = 3;
        let (_, gs) = time(&dev, || {
            for _ in 0..reps {
                let _ = model.score(&vt, &w, &wl, b);
            }
        });
        let fwd_total: f64 = modules
            .iter()
            .filter(|m| m.module != "full-loss")
            .map(|m| m.gflop_fwd)
            .sum::<f64>()
            + lg;
        BenchReport {
            preset: d.name,
            device: self.device,
            batch: b,
            frames: self.frames,
            clips: nm,
            steps: self.steps,
            steps_per_s: sps,
            samples_per_s: sps * b as f64,
            modules,
            gallery_pairs_per_s: (reps * b * b) as f64 / gs.max(1e-9),
            peak_mib: peak_mib(),
            gflop_per_step: 3.0 * fwd_total,
            gflops_achieved: 3.0 * fwd_total * sps,
            num_params: model.params.num_scalars(),
        }
    }
}

/// Benchmarks preset `size` on the CPU with `steps` timed training steps on random batches of
/// `batch` videos of `frames` frames and `clips` clips (window 16, stride spread).
pub fn bench(
    size: ModelSize,
    steps: usize,
    batch: usize,
    frames: usize,
    clips: usize,
) -> BenchReport {
    let dev = Cpu::seed_from_u64(RunConfig::default().seed);
    bench_on(dev, "cpu", size, steps, batch, frames, clips)
}

/// [`bench`] on the device named `device` (`"cpu"`, `"cuda"`, `"cuda:N"`), opened through
/// [`crate::device::with_device`]; errors when the device cannot be used.
pub fn bench_device(
    device: &str,
    size: ModelSize,
    steps: usize,
    batch: usize,
    frames: usize,
    clips: usize,
) -> Result<BenchReport, DeviceError> {
    struct OnDev<'a>(&'a str, ModelSize, [usize; 4]);
    impl DeviceFn for OnDev<'_> {
        type Out = BenchReport;
        fn run<D: ModelDevice>(self, dev: D) -> BenchReport {
            let [steps, batch, frames, clips] = self.2;
            bench_on(dev, self.0, self.1, steps, batch, frames, clips)
        }
    }
    let spec = crate::device::check_device(device)?;
    let name = spec.to_string();
    with_device(
        device,
        RunConfig::default().seed,
        OnDev(&name, size, [steps, batch, frames, clips]),
    )
}

/// [`bench`] on an opened device `dev` (`device` names it in the report).
pub fn bench_on<D: ModelDevice>(
    dev: D,
    device: &str,
    size: ModelSize,
    steps: usize,
    batch: usize,
    frames: usize,
    clips: usize,
) -> BenchReport {
    with_preset(
        size,
        Run {
            dev,
            device: device.to_string(),
            size,
            steps: steps.max(1),
            batch: batch.max(2),
            frames: frames.max(16),
            clips: clips.clamp(1, 64),
        },
    )
}
