//! The `seds-lab` command line: a thin layer over the framework crates.
//!
//! Every subcommand lives in [`commands`]; this file only parses arguments, dispatches and
//! turns errors into the documented exit codes of [`exit`].

mod commands;
mod exit;
mod output;

use clap::{Parser, Subcommand};
use commands::{bench, data, query, report, run, runs, worker};
use std::process::ExitCode;

/// seds-lab: SEDS sign-language retrieval experiments, tracked in a run database.
///
/// Exit codes: 0 success (every cell completed), 2 usage error, 3 invalid configuration,
/// 4 some cells failed, 5 interrupted, 6 database error, 7 data error, 1 any other error.
#[derive(Parser, Debug)]
#[command(name = "seds-lab", version, about, long_about = None, propagate_version = true)]
struct Cli {
    /// Run database URL (`sqlite://path.db` or a plain path). Default: runs/seds-lab.db.
    #[arg(long, global = true, env = "SEDS_LAB_DB")]
    db: Option<String>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Run every cell of an experiment that is not completed yet (resumes after interruption).
    Run(run::RunArgs),
    /// Show the cells an experiment expands to and their status, without running anything.
    Plan(run::PlanArgs),
    /// Inspect runs in the database.
    #[command(subcommand)]
    Runs(runs::RunsCommand),
    /// Run a read-only SQL query on the run database.
    Query(query::QueryArgs),
    /// Write an HTML/PNG/SVG report of an experiment.
    Report(report::ReportArgs),
    /// Generate, inspect and check datasets.
    #[command(subcommand)]
    Data(data::DataCommand),
    /// Measure training and scoring speed of the model presets.
    Bench(bench::BenchArgs),
    /// Train one recorded run (started by the executors; not for interactive use).
    #[command(hide = true)]
    Worker(worker::WorkerArgs),
}

fn main() -> ExitCode {
    // Behave like other command-line tools when the reader of stdout goes away (`| head`):
    // end quietly instead of panicking on a broken pipe.
    // SAFETY: restoring the default disposition of SIGPIPE before any other thread exists.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
    let cli = Cli::parse();
    let db = seds_store::resolve_db_url(cli.db.as_deref());
    let result = match cli.command {
        Command::Run(a) => run::run(&db, a),
        Command::Plan(a) => run::plan(&db, a),
        Command::Runs(c) => runs::dispatch(&db, c),
        Command::Query(a) => query::query(&db, a),
        Command::Report(a) => report::report(&db, a),
        Command::Data(c) => data::dispatch(c),
        Command::Bench(a) => bench::bench(a),
        Command::Worker(a) => return worker::worker(&db, a),
    };
    match result {
        Ok(code) => code.into(),
        Err(e) => {
            eprintln!("error: {e}");
            e.exit_code().into()
        }
    }
}
