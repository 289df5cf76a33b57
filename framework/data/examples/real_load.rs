//! Measures real-dataset loading on a How2Sign-layout fixture (OpenPose JSON): uncached
//! load, cached load and `data check`. Usage:
//! `cargo run --release -p seds-data --example real_load -- [sentences] [takes] [frames]`.

use seds_config::{DataConfig, DataSource};
use std::time::Instant;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<usize> = std::env::args()
        .skip(1)
        .filter_map(|a| a.parse().ok())
        .collect();
    let (n, takes, frames) = (
        args.first().copied().unwrap_or(20),
        args.get(1).copied().unwrap_or(2),
        args.get(2).copied().unwrap_or(120),
    );
    let tmp = tempfile::tempdir()?;
    let root = tmp.path().join("h2s");
    let cfg = DataConfig {
        source: DataSource::How2sign,
        root: Some(root.display().to_string()),
        cache_dir: tmp.path().join("cache").display().to_string(),
        ..DataConfig::default()
    };
    let t = Instant::now();
    seds_data::fixtures::write_how2sign_fixture_with(&root, n, takes, frames, &cfg)?;
    println!(
        "write fixture: {:.2}s ({} videos x {frames} frames)",
        t.elapsed().as_secs_f64(),
        3 * n * takes
    );
    let t = Instant::now();
    let (ds, st) = seds_data::load_dataset_with_status(&cfg)?;
    println!(
        "load ({st:?}): {:.2}s, {} train videos",
        t.elapsed().as_secs_f64(),
        ds.train.videos.len()
    );
    let t = Instant::now();
    let (_, st) = seds_data::load_dataset_with_status(&cfg)?;
    println!("load ({st:?}): {:.3}s", t.elapsed().as_secs_f64());
    let t = Instant::now();
    let r = seds_data::check_dataset(&cfg)?;
    println!(
        "check: {:.2}s, {} ok of {}",
        t.elapsed().as_secs_f64(),
        r.ok_videos(),
        r.videos()
    );
    Ok(())
}
