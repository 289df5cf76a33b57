//! Diagnostic of the pose stream at initialisation on SynthSign tiny: for each stage (input
//! frames, frame features, clip features, tower tokens) the mean cosine similarity of the
//! per-video mean vectors across videos, and of the per-video centred vectors (how much of
//! the representation is common to every video), plus the RMS.
//!
//! `cargo run -p seds-model --example pose_diag`

use dfdx::prelude::*;
use seds_config::{Fusion, ModelSize, RunConfig, Streams};
use seds_model::model::Ctx;

fn stats(name: &str, rows: &[Vec<f32>]) {
    let d = rows[0].len();
    let n = rows.len();
    let mean: Vec<f32> = (0..d)
        .map(|k| rows.iter().map(|r| r[k]).sum::<f32>() / n as f32)
        .collect();
    let cos = |a: &[f32], b: &[f32]| {
        let (mut ab, mut aa, mut bb) = (0f32, 0f32, 0f32);
        for k in 0..a.len() {
            ab += a[k] * b[k];
            aa += a[k] * a[k];
            bb += b[k] * b[k];
        }
        ab / (aa.sqrt() * bb.sqrt() + 1e-12)
    };
    let (mut c, mut cc, mut m) = (0f32, 0f32, 0);
    let centred: Vec<Vec<f32>> = rows
        .iter()
        .map(|r| r.iter().zip(&mean).map(|(x, y)| x - y).collect())
        .collect();
    for i in 0..n {
        for j in i + 1..n {
            c += cos(&rows[i], &rows[j]);
            cc += cos(&centred[i], &centred[j]);
            m += 1;
        }
    }
    let rms = (rows.iter().flatten().map(|x| x * x).sum::<f32>() / (n * d) as f32).sqrt();
    let spread = (centred.iter().flatten().map(|x| x * x).sum::<f32>() / (n * d) as f32).sqrt();
    println!(
        "{name:<16} mean cos {:.4}  centred cos {:+.4}  rms {rms:.3}  between-video rms {spread:.4}",
        c / m as f32,
        cc / m as f32
    );
}

fn per_video(v: &[f32], b: usize, n: usize, lens: &[usize], d: usize) -> Vec<Vec<f32>> {
    (0..b)
        .map(|i| {
            let mut acc = vec![0f32; d];
            let l = lens[i].max(1);
            for t in 0..l {
                for k in 0..d {
                    acc[k] += v[(i * n + t) * d + k] / l as f32;
                }
            }
            acc
        })
        .collect()
}

fn main() {
    let mut cfg = RunConfig::default();
    cfg.model.size = ModelSize::Tiny;
    cfg.model.streams = Streams::Pose;
    cfg.model.fusion = Fusion::None;
    cfg.data.cache_dir = std::env::temp_dir()
        .join("seds-synth-cache")
        .to_string_lossy()
        .into_owned();
    let data = match seds_data::load_dataset(&cfg.data) {
        Ok(d) => d,
        Err(e) => return eprintln!("data: {e}"),
    };
    let (model, _) = match seds_model::build_model(&cfg, &data) {
        Ok(m) => m,
        Err(e) => return eprintln!("{e}"),
    };
    let idx: Vec<usize> = (0..32).collect();
    let vb = seds_data::video_batch(&data.test, &idx);
    let (b, tm, nm) = (vb.len(), vb.max_frames, vb.max_clips);
    let fj = seds_data::NUM_JOINTS * seds_data::COORDS;
    stats(
        "input frames",
        &per_video(&vb.pose, b, tm, &vb.frame_len, fj),
    );
    let (enc, tower) = model.pose_parts();
    let p = &model.params;
    let x = enc.frames(p, &vb, NoneTape);
    stats(
        "frame features",
        &per_video(&x.as_vec(), b, tm, &vb.frame_len, enc.f),
    );
    let c = enc.clips(p, &vb, x, model.window);
    stats(
        "clip features",
        &per_video(&c.as_vec(), b, nm, &vb.clip_len, enc.f),
    );
    let t = tower.fwd_public(p, &mut Ctx::eval(), c, b, nm, &vb.clip_len);
    let lens: Vec<usize> = vb.clip_len.iter().map(|l| l + 1).collect();
    stats(
        "tower tokens",
        &per_video(&t.as_vec(), b, nm + 1, &lens, model.dims.d),
    );
}
