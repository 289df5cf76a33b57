//! Times `clcl_gallery_scores` on a random gallery: `cargo run --release -p seds-nn --example
//! gallery_bench -- VIDEOS TEXTS` (defaults 300 x 300, 65 video tokens, 32 text tokens, d 256).

use seds_core::Rng;
use seds_nn::{clcl_gallery_scores, ClclOptions, TokenMatrix};

fn main() {
    let args: Vec<usize> = std::env::args()
        .skip(1)
        .filter_map(|a| a.parse().ok())
        .collect();
    let nv = args.first().copied().unwrap_or(300);
    let nt = args.get(1).copied().unwrap_or(300);
    let (tv, tt, d) = (65, 32, 256);
    let mut rng = Rng::new(1);
    let mut mk = |rows: usize| {
        let data: Vec<f32> = (0..rows * d).map(|_| rng.normal() as f32).collect();
        TokenMatrix::all_valid(data, d).expect("valid matrix")
    };
    let videos: Vec<_> = (0..nv).map(|_| mk(tv)).collect();
    let texts: Vec<_> = (0..nt).map(|_| mk(tt)).collect();
    let t0 = std::time::Instant::now();
    let s =
        clcl_gallery_scores(&videos, &texts, &ClclOptions::default(), 100.0, 64).expect("scores");
    let dt = t0.elapsed().as_secs_f64();
    let flops = 2.0 * (nv * nt * tv * tt * d) as f64;
    println!(
        "{nv} x {nt} pairs ({tv} x {tt} tokens, d {d}): {dt:.2} s, {:.1} GFLOP/s, checksum {:.4}",
        flops / dt / 1e9,
        s.iter().sum::<f32>() / s.len() as f32
    );
    let dt = tile_matmul_seconds();
    let tile = 2.0 * (64.0 * 65.0 * 64.0 * 32.0 * 256.0);
    println!(
        "one 64 x 64 tile matmul: {:.3} s, {:.1} GFLOP/s",
        dt,
        tile / dt / 1e9
    );
}

/// Reference point: one tile-sized dfdx Cpu matmul (64 videos x 64 texts).
fn tile_matmul_seconds() -> f64 {
    use dfdx::prelude::*;
    let dev = Cpu::default();
    let a: Tensor<(usize, usize), f32, Cpu> = dev.sample_normal_like(&(64 * 65, 256));
    let b: Tensor<(usize, usize), f32, Cpu> = dev.sample_normal_like(&(64 * 32, 256));
    let t0 = std::time::Instant::now();
    let s = a
        .matmul(b.permute::<(usize, usize), Axes2<1, 0>>())
        .as_vec();
    let dt = t0.elapsed().as_secs_f64();
    assert!(!s.is_empty());
    dt
}
