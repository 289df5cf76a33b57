//! Pure planning: which cells of an experiment run, given what the database already knows.
//!
//! A cell is identified by its config hash. COMPLETED cells are skipped (unless forced);
//! PLANNED, FAILED, KILLED and STALE cells, and cells never seen, run. A cell that is RUNNING
//! with a fresh heartbeat belongs to another live process and is left alone.

use serde::Serialize;
use std::collections::BTreeMap;

/// What the database says about a cell's run (the executor maps store rows to this).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum CellState {
    /// Not in the database yet.
    New,
    /// Recorded but never started.
    Planned,
    /// Running with a fresh heartbeat.
    Running,
    /// Running according to the database, but its heartbeat is old: its process is gone.
    Stale,
    /// Finished successfully.
    Completed,
    /// Finished with an error.
    Failed,
    /// Interrupted (signal, cancellation, time limit).
    Killed,
}

impl CellState {
    /// Lower-case name used in tables and JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            CellState::New => "new",
            CellState::Planned => "planned",
            CellState::Running => "running",
            CellState::Stale => "stale",
            CellState::Completed => "completed",
            CellState::Failed => "failed",
            CellState::Killed => "killed",
        }
    }
}

/// What the executor will do with a cell.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Action {
    /// Train it.
    Run,
    /// Already completed: skip.
    Skip,
    /// Another live process is running it: leave it alone.
    Busy,
}

/// One planned cell.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct PlanItem {
    /// Position of the cell in the experiment's expansion.
    pub index: usize,
    /// The cell's config hash.
    pub hash: String,
    /// Its current state.
    pub state: CellState,
    /// What will happen to it.
    pub action: Action,
}

/// Decides the action for every cell. `known` maps config hash to the state in the database.
pub fn plan_cells(
    hashes: &[String],
    known: &BTreeMap<String, CellState>,
    force: bool,
) -> Vec<PlanItem> {
    hashes
        .iter()
        .enumerate()
        .map(|(index, hash)| {
            let state = known.get(hash).copied().unwrap_or(CellState::New);
            let action = match state {
                CellState::Running => Action::Busy,
                CellState::Completed if !force => Action::Skip,
                _ => Action::Run,
            };
            PlanItem {
                index,
                hash: hash.clone(),
                state,
                action,
            }
        })
        .collect()
}

/// Counts of plan items per action: (run, skip, busy).
pub fn action_counts(items: &[PlanItem]) -> (usize, usize, usize) {
    let count = |a: Action| items.iter().filter(|i| i.action == a).count();
    (count(Action::Run), count(Action::Skip), count(Action::Busy))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hashes(n: usize) -> Vec<String> {
        (0..n).map(|i| format!("h{i}")).collect()
    }

    #[test]
    fn completed_cells_are_skipped_and_unfinished_ones_rerun() {
        let mut known = BTreeMap::new();
        known.insert("h0".to_string(), CellState::Completed);
        known.insert("h1".to_string(), CellState::Failed);
        known.insert("h2".to_string(), CellState::Killed);
        known.insert("h3".to_string(), CellState::Stale);
        known.insert("h4".to_string(), CellState::Running);
        known.insert("h5".to_string(), CellState::Planned);
        let plan = plan_cells(&hashes(7), &known, false);
        let actions: Vec<Action> = plan.iter().map(|p| p.action).collect();
        assert_eq!(
            actions,
            vec![
                Action::Skip,
                Action::Run,
                Action::Run,
                Action::Run,
                Action::Busy,
                Action::Run,
                Action::Run
            ]
        );
        assert_eq!(plan[6].state, CellState::New);
        assert_eq!(action_counts(&plan), (5, 1, 1));
    }

    #[test]
    fn force_reruns_completed_but_never_steals_a_live_run() {
        let mut known = BTreeMap::new();
        known.insert("h0".to_string(), CellState::Completed);
        known.insert("h1".to_string(), CellState::Running);
        let plan = plan_cells(&hashes(2), &known, true);
        assert_eq!(plan[0].action, Action::Run);
        assert_eq!(plan[1].action, Action::Busy);
    }
}
