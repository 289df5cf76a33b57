//! Trains the tiny model on SynthSign tiny (the real generator, `seds_data::load_dataset`) and
//! prints the test metrics of the selected epoch for each stream configuration:
//!
//! `cargo run -p seds-model --example synth_train -- [epochs] [seeds] [pose|rgb|dual|all]
//! [key=value ...]` with keys `lr`, `lr_towers`, `scale` (logit_scale_init), `bs`, `drop`,
//! `seed` (first seed; runs seeds `seed..seed + seeds`).
//! The dataset cache goes to `$TMPDIR/seds-synth-cache`.

use seds_config::{Fusion, ModelSize, RunConfig, Streams};
use seds_core::MemorySink;
use std::sync::atomic::AtomicBool;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let epochs: usize = args.first().and_then(|s| s.parse().ok()).unwrap_or(15);
    let seeds: u64 = args.get(1).and_then(|s| s.parse().ok()).unwrap_or(1);
    let which = args.get(2).cloned().unwrap_or_else(|| "all".into());
    let mut first_seed = 0u64;
    let mut base = RunConfig::default();
    base.model.size = ModelSize::Tiny;
    base.train.epochs = epochs;
    base.train.eval_every = epochs;
    base.data.cache_dir = std::env::temp_dir()
        .join("seds-synth-cache")
        .to_string_lossy()
        .into_owned();
    for kv in args.iter().skip(3) {
        let Some((k, v)) = kv.split_once('=') else {
            continue;
        };
        let Ok(x) = v.parse::<f64>() else {
            eprintln!("ignoring {kv}: not a number");
            continue;
        };
        match k {
            "lr" => base.train.lr = x,
            "lr_towers" => base.train.lr_towers = x,
            "scale" => base.loss.logit_scale_init = x,
            "bs" => base.train.batch_size = x as usize,
            "drop" => base.model.dropout = x,
            "seed" => first_seed = x as u64,
            _ => eprintln!("ignoring unknown key {k}"),
        }
    }
    let data = match seds_data::load_dataset(&base.data) {
        Ok(d) => d,
        Err(e) => return eprintln!("data: {e}"),
    };
    let kinds: Vec<(&str, Streams, Fusion)> = [
        ("pose", Streams::Pose, Fusion::None),
        ("rgb", Streams::Rgb, Fusion::None),
        ("dual", Streams::Dual, Fusion::Cgaf),
    ]
    .into_iter()
    .filter(|(n, _, _)| which == "all" || which == *n)
    .collect();
    for (name, st, fu) in kinds {
        for seed in first_seed..first_seed + seeds {
            let mut cfg = base.clone();
            cfg.seed = seed;
            cfg.model.streams = st;
            cfg.model.fusion = fu;
            let dir = std::env::temp_dir().join(format!("seds-synth-train-{name}-{seed}"));
            let _ = std::fs::remove_dir_all(&dir);
            let sink = MemorySink::default();
            let t0 = std::time::Instant::now();
            match seds_model::train_run(&cfg, &data, &dir, &sink, &AtomicBool::new(false)) {
                Ok(o) => {
                    let g = |n: &str| {
                        o.test
                            .iter()
                            .find(|(k, _)| k == n)
                            .map(|(_, v)| *v)
                            .unwrap_or(f64::NAN)
                    };
                    let curve: Vec<String> =
                        o.loss_curve.iter().map(|l| format!("{l:.2}")).collect();
                    println!(
                        "{name} seed {seed}: T2V R@1 {:.1} R@5 {:.1} R@10 {:.1} | V2T R@1 {:.1} R@5 {:.1} | rsum {:.1} | {:.0}s | loss {}",
                        g("t2v_r1"),
                        g("t2v_r5"),
                        g("t2v_r10"),
                        g("v2t_r1"),
                        g("v2t_r5"),
                        g("rsum"),
                        t0.elapsed().as_secs_f64(),
                        curve.join(" ")
                    );
                }
                Err(e) => println!("{name} seed {seed}: error {e}"),
            }
            let _ = std::fs::remove_dir_all(&dir);
        }
    }
}
