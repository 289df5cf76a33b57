//! seds-exec: deciding what to run and running it.
//!
//! - [`plan`]: pure planning - which cells of an experiment run, skip or are busy elsewhere.
//! - [`local`]: the local executor - one worker process per cell, `--jobs` in parallel,
//!   crash isolation, logs, progress events, SIGTERM forwarding on cancellation.
//!
//! - [`slurm`]: the Slurm executor - one `sbatch --array` job per run command, one array task
//!   per cell, each running `seds-lab worker --array-map MAP` (same [`local::WorkItem`]s).

pub mod local;
pub mod plan;
pub mod slurm;

pub use local::{
    run_local, threads_per_worker, Event, LocalOptions, Progress, WorkItem, WorkerExit,
    PROGRESS_PREFIX,
};
pub use plan::{action_counts, plan_cells, Action, CellState, PlanItem};
