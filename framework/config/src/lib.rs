//! seds-config: the experiment configuration language of seds-lab.
//!
//! - [`schema`]: the typed configuration of one run (the contract with data and model crates).
//! - [`experiment`]: experiment files (`extends`, `[grid]`, `[[variant]]`, `seeds`, `--set`)
//!   loaded, validated and expanded into [`Cell`]s.
//! - [`executor`]: the `[executor]` section.
//! - [`hash`]: canonical JSON, run identity hash, parameter rows, differing keys.
//! - [`validate`]: semantic checks of a resolved run ([`check_run`]).
//! - [`error`]: positioned errors ([`ConfigError`], [`ConfigErrors`]).
//! - [`suggest`]: "did you mean" (edit distance).
//!
//! User documentation: docs/config.md.

pub mod error;
pub mod executor;
pub mod experiment;
pub mod hash;
pub mod schema;
pub mod suggest;
mod tree;
pub mod validate;

pub use error::{ConfigError, ConfigErrors};
pub use executor::{ExecutorConfig, ExecutorKind};
pub use experiment::{
    load_experiment, load_experiment_str, render_plan, resolve_single, Cell, Experiment,
    RUN_SECTIONS, TOP_KEYS,
};
pub use hash::{canonical_json, config_hash, differing_keys, flatten, ParamValue};
pub use schema::*;
pub use validate::{check_run, run_keys, valid_device, Issue};
