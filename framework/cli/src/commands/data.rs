//! `seds-lab data synth|stats|show|check`: generate SynthSign, summarise a dataset, draw a
//! video's skeleton strip, validate a real dataset directory.

use crate::exit::{CliError, CmdResult, Code};
use crate::output::{num, Format, Table};
use clap::{Args, Subcommand};
use seds_config::{DataConfig, DataSource, SynthPreset, SynthSizes};
use serde_json::Value;
use std::path::{Path, PathBuf};

/// `seds-lab data` subcommands.
#[derive(Subcommand, Debug)]
pub enum DataCommand {
    /// Generate a SynthSign dataset into a cache directory (reused when it already exists).
    Synth(SynthArgs),
    /// Counts, length distributions, vocabulary and per-signer counts of a dataset.
    Stats(StatsArgs),
    /// Draw a strip of skeleton frames of one video as PNG (or SVG by extension).
    Show(ShowArgs),
    /// Validate a real dataset directory and list problems per video.
    Check(CheckArgs),
}

/// Preset names on the command line.
#[derive(Clone, Copy, Debug, clap::ValueEnum)]
pub enum PresetArg {
    /// A few hundred videos.
    Tiny,
    /// About 3,600 videos.
    Small,
    /// PHOENIX-2014T sizes from real captions (needs --captions).
    PhoenixLike,
}

impl From<PresetArg> for SynthPreset {
    fn from(p: PresetArg) -> Self {
        match p {
            PresetArg::Tiny => SynthPreset::Tiny,
            PresetArg::Small => SynthPreset::Small,
            PresetArg::PhoenixLike => SynthPreset::PhoenixLike,
        }
    }
}

/// Real-data source names on the command line.
#[derive(Clone, Copy, Debug, clap::ValueEnum)]
pub enum SourceArg {
    /// How2Sign layout.
    How2sign,
    /// PHOENIX-2014T layout.
    Phoenix14t,
    /// CSL-Daily layout.
    CslDaily,
    /// Per-video pose files with caption TSVs.
    PoseDir,
}

impl From<SourceArg> for DataSource {
    fn from(s: SourceArg) -> Self {
        match s {
            SourceArg::How2sign => DataSource::How2sign,
            SourceArg::Phoenix14t => DataSource::Phoenix14t,
            SourceArg::CslDaily => DataSource::CslDaily,
            SourceArg::PoseDir => DataSource::PoseDir,
        }
    }
}

/// Arguments of `data synth`.
#[derive(Args, Debug)]
pub struct SynthArgs {
    /// Size preset.
    #[arg(long, value_enum, default_value = "tiny")]
    pub preset: PresetArg,
    /// Generation seed.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Caption TSV directory (train/dev/test.tsv) for real-caption mode.
    #[arg(long)]
    pub captions: Option<PathBuf>,
    /// Test on signers never seen in training.
    #[arg(long)]
    pub unseen_signers: bool,
    /// Cache directory to write into.
    #[arg(long, default_value = "runs/cache")]
    pub out: PathBuf,
}

/// Arguments of `data stats`.
#[derive(Args, Debug)]
pub struct StatsArgs {
    /// A SynthSign cache directory (as printed by `data synth`), or a real dataset root with --source.
    pub dir: PathBuf,
    /// Source of a real dataset root.
    #[arg(long, value_enum)]
    pub source: Option<SourceArg>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Table)]
    pub format: Format,
}

/// Arguments of `data show`.
#[derive(Args, Debug)]
pub struct ShowArgs {
    /// A SynthSign cache directory, or a real dataset root with --source.
    pub dir: PathBuf,
    /// Video id (see the run's rows.tsv). How2Sign ids may start with '-'; they are accepted as is.
    #[arg(allow_hyphen_values = true)]
    pub video: String,
    /// Output image (.png or .svg).
    #[arg(long, default_value = "strip.png")]
    pub out: PathBuf,
    /// Split holding the video (searched in train, dev, test when omitted).
    #[arg(long)]
    pub split: Option<String>,
    /// Number of frames in the strip.
    #[arg(long, default_value_t = 8)]
    pub frames: usize,
    /// Source of a real dataset root.
    #[arg(long, value_enum)]
    pub source: Option<SourceArg>,
}

/// Arguments of `data check`.
#[derive(Args, Debug)]
pub struct CheckArgs {
    /// Dataset root directory.
    pub dir: PathBuf,
    /// Dataset layout.
    #[arg(long, value_enum)]
    pub source: SourceArg,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Table)]
    pub format: Format,
}

/// Dispatches a `data` subcommand.
pub fn dispatch(cmd: DataCommand) -> CmdResult {
    match cmd {
        DataCommand::Synth(a) => synth(a),
        DataCommand::Stats(a) => stats(a),
        DataCommand::Show(a) => show(a),
        DataCommand::Check(a) => check(a),
    }
}

fn synth(a: SynthArgs) -> CmdResult {
    let cfg = DataConfig {
        source: DataSource::Synth,
        preset: a.preset.into(),
        synth_seed: a.seed,
        captions: a.captions.map(|p| p.display().to_string()),
        unseen_signers: a.unseen_signers,
        cache_dir: a.out.display().to_string(),
        ..DataConfig::default()
    };
    let started = std::time::Instant::now();
    let (ds, status) = seds_data::cache::load_or_generate(&cfg).map_err(CliError::data)?;
    let dir = seds_data::cache::cache_path(&cfg).map_err(CliError::data)?;
    std::fs::write(
        dir.join("data-config.json"),
        serde_json::to_string_pretty(&cfg).map_err(CliError::other)?,
    )
    .map_err(|e| CliError::data(format!("{}: {e}", dir.display())))?;
    println!(
        "{}: {} ({:?}, {:.1} s): train {} / dev {} / test {} videos",
        ds.name,
        dir.display(),
        status,
        started.elapsed().as_secs_f64(),
        ds.train.videos.len(),
        ds.dev.videos.len(),
        ds.test.videos.len()
    );
    Ok(Code::Ok)
}

/// The data configuration behind a directory: `data-config.json` written by `data synth`,
/// else the SynthSign manifest's key inputs, else a real dataset root of `source`.
fn config_for_dir(dir: &Path, source: Option<SourceArg>) -> Result<DataConfig, CliError> {
    if let Some(src) = source {
        return Ok(DataConfig {
            source: src.into(),
            root: Some(dir.display().to_string()),
            ..DataConfig::default()
        });
    }
    let saved = dir.join("data-config.json");
    if saved.exists() {
        let text = std::fs::read_to_string(&saved)
            .map_err(|e| CliError::data(format!("{}: {e}", saved.display())))?;
        return serde_json::from_str(&text)
            .map_err(|e| CliError::data(format!("{}: {e}", saved.display())));
    }
    let mpath = dir.join("manifest.json");
    let text = std::fs::read_to_string(&mpath).map_err(|e| {
        CliError::data(format!(
            "{} is neither a SynthSign cache directory ({}: {e}) nor given with --source",
            dir.display(),
            mpath.display()
        ))
    })?;
    let m: seds_data::cache::Manifest = serde_json::from_str(&text)
        .map_err(|e| CliError::data(format!("{}: {e}", mpath.display())))?;
    let k = &m.key_inputs;
    let preset: SynthPreset = serde_json::from_value(k["preset"].clone())
        .map_err(|e| CliError::data(format!("{}: preset: {e}", mpath.display())))?;
    if k["captions"].as_object().is_some_and(|c| !c.is_empty()) {
        return Err(CliError::data(format!(
            "{} was generated from caption files; regenerate it with `seds-lab data synth --captions DIR` (which records them)",
            dir.display()
        )));
    }
    let sizes = &k["sizes"];
    let n = |v: &Value| v.as_u64().map(|x| x as usize);
    Ok(DataConfig {
        source: DataSource::Synth,
        preset,
        synth_seed: m.seed,
        unseen_signers: k["unseen_signers"].as_bool().unwrap_or(false),
        cache_dir: dir
            .parent()
            .map(|p| p.display().to_string())
            .unwrap_or_else(|| ".".into()),
        rgb_dim: n(&k["rgb_dim"]).unwrap_or(1024),
        clip_window: n(&k["clip_window"]).unwrap_or(16),
        clip_stride: n(&k["clip_stride"]).unwrap_or(1),
        max_clips: n(&k["max_clips"]).unwrap_or(64),
        sizes: SynthSizes {
            train_sentences: n(&sizes["sentences"][0]),
            dev_sentences: n(&sizes["sentences"][1]),
            test_sentences: n(&sizes["sentences"][2]),
            takes_per_sentence: n(&sizes["takes"]),
            signers: n(&sizes["signers"]),
            glosses: n(&sizes["glosses"]),
        },
        ..DataConfig::default()
    })
}

fn stats(a: StatsArgs) -> CmdResult {
    let cfg = config_for_dir(&a.dir, a.source)?;
    let ds = seds_data::load_dataset(&cfg).map_err(CliError::data)?;
    let st = seds_data::stats(&ds);
    if a.format == Format::Json {
        println!(
            "{}",
            serde_json::to_string_pretty(&st).map_err(CliError::other)?
        );
        return Ok(Code::Ok);
    }
    let v = serde_json::to_value(&st).map_err(CliError::other)?;
    println!("dataset {}", ds.name);
    let mut t = Table::new(["split", "quantity", "n", "min", "mean", "p50", "p90", "max"]);
    if let Some(splits) = v["splits"].as_array() {
        for s in splits {
            let split = s["name"].as_str().unwrap_or("?").to_string();
            if let Some(obj) = s.as_object() {
                for (q, d) in obj {
                    if d.get("mean").is_some() {
                        t.push(vec![
                            Value::from(split.clone()),
                            Value::from(q.clone()),
                            d["n"].clone(),
                            d["min"].clone(),
                            d["mean"].as_f64().map(num).unwrap_or(Value::Null),
                            d["p50"].clone(),
                            d["p90"].clone(),
                            d["max"].clone(),
                        ]);
                    }
                }
            }
        }
    }
    print!("{}", t.render(a.format));
    if a.format == Format::Table {
        if let Some(obj) = v.as_object() {
            for (k, val) in obj.iter().filter(|(k, _)| k.as_str() != "splits") {
                let text = val.to_string();
                let short: String = text.chars().take(200).collect();
                println!("{k}: {short}{}", if text.len() > 200 { " ..." } else { "" });
            }
        }
    }
    Ok(Code::Ok)
}

fn show(a: ShowArgs) -> CmdResult {
    let cfg = config_for_dir(&a.dir, a.source)?;
    let splits: Vec<String> = match &a.split {
        Some(s) => vec![s.clone()],
        None => vec!["train".into(), "dev".into(), "test".into()],
    };
    let mut last_err = None;
    for split in &splits {
        match seds_data::raw_frames(&cfg, split, &a.video) {
            Ok(raw) => {
                let frames = raw.frames.len();
                if frames == 0 {
                    return Err(CliError::data(format!("video {} has no frames", a.video)));
                }
                let k = a.frames.clamp(1, frames);
                let idx: Vec<usize> = (0..k).map(|i| i * (frames - 1) / (k - 1).max(1)).collect();
                seds_report::draw_skeleton_strip(&raw.frames, &idx, &a.out)
                    .map_err(CliError::other)?;
                println!(
                    "wrote {} ({} of {} frames of {} in {split})",
                    a.out.display(),
                    k,
                    frames,
                    a.video
                );
                return Ok(Code::Ok);
            }
            Err(e) => last_err = Some(e),
        }
    }
    Err(CliError::data(format!(
        "video {} not found: {}",
        a.video,
        last_err.map(|e| e.to_string()).unwrap_or_default()
    )))
}

fn check(a: CheckArgs) -> CmdResult {
    let cfg = DataConfig {
        source: a.source.into(),
        root: Some(a.dir.display().to_string()),
        ..DataConfig::default()
    };
    let report = seds_data::check_dataset(&cfg).map_err(CliError::data)?;
    match a.format {
        Format::Json => println!(
            "{}",
            serde_json::to_string_pretty(&report).map_err(CliError::other)?
        ),
        f => {
            let mut t = Table::new(["split", "video", "problem", "detail"]);
            for p in &report.problems {
                t.push(vec![
                    p.split.clone().map(Value::from).unwrap_or(Value::Null),
                    p.video.clone().map(Value::from).unwrap_or(Value::Null),
                    serde_json::to_value(p.kind).unwrap_or(Value::Null),
                    Value::from(p.detail.clone()),
                ]);
            }
            if f == Format::Table {
                println!(
                    "{} ({}): {} of {} videos ok, {} problems",
                    report.root,
                    report.source,
                    report.ok_videos(),
                    report.videos(),
                    report.problems.len()
                );
            }
            print!("{}", t.render(f));
        }
    }
    Ok(if report.is_ok() { Code::Ok } else { Code::Data })
}
