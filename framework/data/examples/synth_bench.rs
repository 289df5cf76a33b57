//! SynthSign generation benchmark: throughput (videos/s) and peak memory (VmHWM) for the
//! small and phoenix-like presets (phoenix-like needs the real captions under ../shared).
//!
//! `cargo run --release -p seds-data --example synth_bench [-- small|phoenix-like|tiny ...]`

use seds_config::{DataConfig, SynthPreset};
use seds_data::synth::plan;
use std::time::Instant;

fn vm_hwm_mib() -> Option<f64> {
    let s = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = s.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kb: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb / 1024.0)
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let which: Vec<&str> = if args.is_empty() {
        vec!["small", "phoenix-like"]
    } else {
        args.iter().map(|s| s.as_str()).collect()
    };
    let captions = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/data/captions/phoenix14t");
    for w in which {
        let cfg = match w {
            "tiny" => DataConfig::default(),
            "small" => DataConfig {
                preset: SynthPreset::Small,
                ..DataConfig::default()
            },
            "phoenix-like" => {
                if !captions.join("train.tsv").exists() {
                    eprintln!("SKIP phoenix-like: {} not found", captions.display());
                    continue;
                }
                DataConfig {
                    preset: SynthPreset::PhoenixLike,
                    captions: Some(captions.to_string_lossy().into_owned()),
                    ..DataConfig::default()
                }
            }
            other => {
                eprintln!("unknown preset {other}");
                continue;
            }
        };
        let t0 = Instant::now();
        let p = match plan(&cfg) {
            Ok(p) => p,
            Err(e) => {
                eprintln!("{w}: {e}");
                continue;
            }
        };
        let t_plan = t0.elapsed().as_secs_f64();
        let ds = match p.generate(&cfg, 0) {
            Ok(d) => d,
            Err(e) => {
                eprintln!("{w}: {e}");
                continue;
            }
        };
        let secs = t0.elapsed().as_secs_f64();
        let n = ds.train.videos.len() + ds.dev.videos.len() + ds.test.videos.len();
        let frames: usize = [&ds.train, &ds.dev, &ds.test]
            .iter()
            .flat_map(|s| s.videos.iter().map(|v| v.frames))
            .sum();
        let clips: usize = [&ds.train, &ds.dev, &ds.test]
            .iter()
            .flat_map(|s| s.videos.iter().map(|v| v.clip_starts.len()))
            .sum();
        let t1 = Instant::now();
        let bytes = seds_data::cache::encode(&ds);
        let t_enc = t1.elapsed().as_secs_f64();
        println!(
            "{w}: videos {} / {} / {} ({n} total, {frames} kept frames, {clips} clips, {} glosses), plan {t_plan:.2}s, generate {secs:.2}s = {:.0} videos/s, encode {t_enc:.2}s, cache {:.1} MiB, peak RSS (VmHWM) {:.0} MiB, threads {}",
            ds.train.videos.len(),
            ds.dev.videos.len(),
            ds.test.videos.len(),
            p.lexicon.glosses.len(),
            n as f64 / secs,
            bytes.len() as f64 / 1048576.0,
            vm_hwm_mib().unwrap_or(f64::NAN),
            std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1),
        );
    }
}
