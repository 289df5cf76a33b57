//! `seds-lab bench`: training and scoring speed of the model presets, as a table.

use crate::exit::{CliError, CmdResult, Code};
use crate::output::{num, Format, Table};
use clap::Args;
use seds_config::ModelSize;
use serde_json::Value;

/// Preset names on the command line.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum SizeArg {
    /// Test size.
    Tiny,
    /// CPU experiment size.
    Small,
    /// The release's dimensions (GPU work).
    Paper,
}

impl From<SizeArg> for ModelSize {
    fn from(s: SizeArg) -> Self {
        match s {
            SizeArg::Tiny => ModelSize::Tiny,
            SizeArg::Small => ModelSize::Small,
            SizeArg::Paper => ModelSize::Paper,
        }
    }
}

/// Arguments of `seds-lab bench`.
#[derive(Args, Debug)]
pub struct BenchArgs {
    /// Presets to measure (repeatable).
    #[arg(long = "size", value_enum, default_values_t = [SizeArg::Tiny, SizeArg::Small])]
    pub sizes: Vec<SizeArg>,
    /// Timed training steps per preset.
    #[arg(long, default_value_t = 5)]
    pub steps: usize,
    /// Batch size.
    #[arg(long, default_value_t = 16)]
    pub batch: usize,
    /// Frames per video.
    #[arg(long, default_value_t = 64)]
    pub frames: usize,
    /// Clips per video.
    #[arg(long, default_value_t = 48)]
    pub clips: usize,
    /// Device: "cpu" (CUDA builds are issue 9; see docs/gpu.md).
    #[arg(long, default_value = "cpu")]
    pub device: String,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Table)]
    pub format: Format,
}

/// Runs the benchmark for each preset and prints one summary table and one per-module table.
pub fn bench(a: BenchArgs) -> CmdResult {
    seds_model::train::check_device(&a.device).map_err(CliError::other)?;
    let mut summary = Table::new([
        "preset",
        "params",
        "batch",
        "frames",
        "clips",
        "steps_per_s",
        "samples_per_s",
        "gflop_per_step",
        "achieved_gflops",
        "gallery_pairs_per_s",
        "peak_mib",
    ]);
    let mut modules = Table::new([
        "preset",
        "module",
        "fwd_notape_ms",
        "fwd_tape_ms",
        "bwd_ms",
        "gflop_fwd",
    ]);
    for size in &a.sizes {
        if a.format == Format::Table {
            eprintln!(
                "measuring {size:?} ({} steps, batch {})...",
                a.steps, a.batch
            );
        }
        let r = seds_model::bench((*size).into(), a.steps, a.batch, a.frames, a.clips);
        summary.push(vec![
            Value::from(r.preset),
            Value::from(r.num_params),
            Value::from(r.batch),
            Value::from(r.frames),
            Value::from(r.clips),
            num(r.steps_per_s),
            num(r.samples_per_s),
            num(r.gflop_per_step),
            num(r.gflops_achieved),
            num(r.gallery_pairs_per_s.round()),
            num(r.peak_mib.round()),
        ]);
        for m in &r.modules {
            modules.push(vec![
                Value::from(r.preset),
                Value::from(m.module),
                num(m.fwd_notape_s * 1e3),
                num(m.fwd_tape_s * 1e3),
                num(m.bwd_s * 1e3),
                num(m.gflop_fwd),
            ]);
        }
    }
    match a.format {
        Format::Table => {
            print!("{}", summary.render(Format::Table));
            println!();
            print!("{}", modules.render(Format::Table));
        }
        Format::Json => {
            let s: Value =
                serde_json::from_str(&summary.render(Format::Json)).unwrap_or(Value::Null);
            let m: Value =
                serde_json::from_str(&modules.render(Format::Json)).unwrap_or(Value::Null);
            println!("{}", serde_json::json!({ "presets": s, "modules": m }));
        }
        Format::Csv => {
            print!("{}", summary.render(Format::Csv));
            println!();
            print!("{}", modules.render(Format::Csv));
        }
    }
    Ok(Code::Ok)
}
