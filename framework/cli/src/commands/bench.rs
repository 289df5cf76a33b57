//! `seds-lab bench`: training and scoring speed of the model presets, as a table, on the CPU
//! or (in `cuda` builds) a CUDA device; `--check-cuda` instead runs the CPU-vs-CUDA forward
//! agreement check and exits non-zero when the two disagree.

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
    /// Device: "cpu", "cuda" or "cuda:N" (CUDA needs a build with `--features cuda`;
    /// docs/gpu.md).
    #[arg(long, default_value = "cpu")]
    pub device: String,
    /// Instead of benchmarking, check that CUDA computes what the CPU computes: same weights
    /// (seed 1) and batch on both, compares video/text tokens, every loss component and all
    /// gradients; exits 1 when a relative difference exceeds --tolerance. Uses --device when
    /// it names a CUDA device, else "cuda" (ordinal 0).
    #[arg(long)]
    pub check_cuda: bool,
    /// Relative tolerance of --check-cuda (difference / largest CPU magnitude, per quantity).
    #[arg(long, default_value_t = seds_model::check::DEFAULT_TOLERANCE)]
    pub tolerance: f64,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Table)]
    pub format: Format,
}

/// Runs the benchmark for each preset and prints one summary table and one per-module table
/// (or, with `--check-cuda`, the agreement check).
pub fn bench(a: BenchArgs) -> CmdResult {
    if a.check_cuda {
        return check_cuda(&a);
    }
    seds_model::device::check_device(&a.device).map_err(CliError::other)?;
    let mut summary = Table::new([
        "preset",
        "device",
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
        let r = seds_model::bench_device(
            &a.device,
            (*size).into(),
            a.steps,
            a.batch,
            a.frames,
            a.clips,
        )
        .map_err(CliError::other)?;
        summary.push(vec![
            Value::from(r.preset),
            Value::from(r.device.clone()),
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

/// `bench --check-cuda`: the CPU-vs-CUDA agreement of each `--size` (a report per preset, or
/// one row per preset and quantity in JSON/CSV); exit 1 when any preset disagrees beyond
/// `--tolerance`.
fn check_cuda(a: &BenchArgs) -> CmdResult {
    use seds_model::device::{check_device, DeviceSpec};
    let device = match check_device(&a.device).map_err(CliError::other)? {
        DeviceSpec::Cpu => "cuda".to_string(),
        DeviceSpec::Cuda(_) => a.device.clone(),
    };
    // Refuse a CUDA check in a build without CUDA before announcing any work.
    check_device(&device).map_err(CliError::other)?;
    let mut table = Table::new([
        "preset",
        "device",
        "quantity",
        "values",
        "max_abs",
        "max_rel",
        "tolerance",
        "passed",
    ]);
    let mut failed = Vec::new();
    for size in &a.sizes {
        if a.format == Format::Table {
            eprintln!("checking {size:?} on the CPU and on {device}...");
        }
        let r = seds_model::forward_agreement(
            &device,
            (*size).into(),
            1,
            seds_model::CheckShape::default(),
            a.tolerance,
        )
        .map_err(CliError::other)?;
        if a.format == Format::Table {
            println!("{r}\n");
        }
        for x in &r.rows {
            table.push(vec![
                Value::from(r.preset),
                Value::from(r.device.clone()),
                Value::from(x.quantity.clone()),
                Value::from(x.values),
                num(x.max_abs),
                num(x.max_rel),
                num(r.tolerance),
                Value::from(x.max_rel <= r.tolerance),
            ]);
        }
        if !r.passed() {
            failed.push(format!("{} (max rel {:.3e})", r.preset, r.max_rel()));
        }
    }
    if a.format != Format::Table {
        print!("{}", table.render(a.format));
    }
    if failed.is_empty() {
        Ok(Code::Ok)
    } else {
        Err(CliError::other(format!(
            "CPU and {device} disagree beyond relative tolerance {:e}: {}",
            a.tolerance,
            failed.join(", ")
        )))
    }
}
