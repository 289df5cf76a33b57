//! One module per subcommand; each turns parsed arguments into calls on the framework crates.

pub mod bench;
pub mod data;
pub mod query;
pub mod report;
mod report_extras;
pub mod run;
pub mod runs;
pub mod slurm;
pub mod worker;

use crate::exit::CliError;

/// A single-threaded tokio runtime for a command's database work.
pub fn runtime() -> Result<tokio::runtime::Runtime, CliError> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(CliError::other)
}

/// Maps a stored run status to the planner's cell state.
pub fn cell_state(status: seds_store::RunStatus) -> seds_exec::CellState {
    use seds_exec::CellState as C;
    use seds_store::RunStatus as S;
    match status {
        S::Planned => C::Planned,
        S::Running => C::Running,
        S::Stale => C::Stale,
        S::Completed => C::Completed,
        S::Failed => C::Failed,
        S::Killed => C::Killed,
    }
}

/// Converts a config parameter value into the store's typed parameter value.
pub fn store_param(v: &seds_config::ParamValue) -> seds_store::ParamValue {
    use seds_config::ParamValue as C;
    use seds_store::ParamValue as S;
    match v {
        C::Bool(b) => S::Bool(*b),
        C::Int(i) => S::Int(*i),
        C::Float(f) => S::Float(*f),
        C::Str(s) => S::Str(s.clone()),
        C::List(j) => {
            S::Json(serde_json::from_str(j).unwrap_or(serde_json::Value::String(j.clone())))
        }
        C::Null => S::Json(serde_json::Value::Null),
    }
}
