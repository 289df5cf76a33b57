//! `seds-lab query "SQL"`: read-only SQL over the run database.

use crate::exit::{CmdResult, Code};
use crate::output::{Format, Table};
use clap::Args;
use seds_store::{OpenMode, Store};

/// Arguments of `seds-lab query`.
#[derive(Args, Debug)]
pub struct QueryArgs {
    /// The SQL statement (read-only: writes are refused). Schema: docs/schema.md.
    pub sql: String,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Table)]
    pub format: Format,
}

/// Runs the query on a read-only connection and prints the result.
pub fn query(db: &str, a: QueryArgs) -> CmdResult {
    let rt = super::runtime()?;
    let result = rt.block_on(async {
        let store = Store::open(db, OpenMode::ReadOnly).await?;
        store.query_readonly(&a.sql).await
    })?;
    let mut t = Table::new(result.columns);
    for r in result.rows {
        t.push(r);
    }
    print!("{}", t.render(a.format));
    Ok(Code::Ok)
}
