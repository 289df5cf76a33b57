-- seds-lab run database, schema version 1. Timestamps are UTC unix seconds (REAL).
-- Documented column by column in docs/schema.md.

CREATE TABLE experiments (
    id              INTEGER PRIMARY KEY,
    name            TEXT    NOT NULL UNIQUE,
    file            TEXT    NOT NULL,
    content         TEXT    NOT NULL,
    content_sha256  TEXT    NOT NULL,
    created_at      REAL    NOT NULL,
    updated_at      REAL    NOT NULL
);

CREATE TABLE runs (
    id                  INTEGER PRIMARY KEY,
    experiment_id       INTEGER NOT NULL REFERENCES experiments(id),
    cell                TEXT    NOT NULL,
    config_hash         TEXT    NOT NULL,
    config_json         TEXT    NOT NULL,
    seed                INTEGER NOT NULL,
    status              TEXT    NOT NULL DEFAULT 'PLANNED'
                        CHECK (status IN ('PLANNED', 'RUNNING', 'COMPLETED', 'FAILED', 'KILLED')),
    attempt             INTEGER NOT NULL DEFAULT 0,
    created_at          REAL    NOT NULL,
    started_at          REAL,
    heartbeat_at        REAL,
    finished_at         REAL,
    message             TEXT,
    run_dir             TEXT,
    git_commit          TEXT,
    git_dirty           INTEGER,
    git_diff            TEXT,
    version             TEXT,
    cargo_lock_sha256   TEXT,
    host                TEXT,
    cpu_model           TEXT,
    cores               INTEGER,
    memory_bytes        INTEGER,
    gpu                 TEXT,
    pid                 INTEGER,
    slurm_job           TEXT,
    UNIQUE (experiment_id, config_hash)
);
CREATE INDEX runs_status ON runs (status);

CREATE TABLE params (
    run_id      INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
    key         TEXT    NOT NULL,
    value_type  TEXT    NOT NULL CHECK (value_type IN ('bool', 'int', 'float', 'str', 'json')),
    value_text  TEXT    NOT NULL,
    value_num   REAL,
    PRIMARY KEY (run_id, key)
);
CREATE INDEX params_key ON params (key, value_num);

CREATE TABLE metrics (
    id          INTEGER PRIMARY KEY,
    run_id      INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
    name        TEXT    NOT NULL,
    split       TEXT    NOT NULL,
    step        INTEGER NOT NULL,
    epoch       INTEGER NOT NULL,
    value       REAL    NOT NULL,
    wall_time   REAL    NOT NULL,
    attempt     INTEGER NOT NULL,
    UNIQUE (run_id, name, split, step)
);

CREATE TABLE metric_finals (
    run_id      INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
    name        TEXT    NOT NULL,
    split       TEXT    NOT NULL,
    step        INTEGER NOT NULL,
    epoch       INTEGER NOT NULL,
    value       REAL    NOT NULL,
    attempt     INTEGER NOT NULL,
    PRIMARY KEY (run_id, split, name)
);

CREATE TABLE artifacts (
    id          INTEGER PRIMARY KEY,
    run_id      INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
    kind        TEXT    NOT NULL,
    path        TEXT    NOT NULL,
    sha256      TEXT    NOT NULL,
    bytes       INTEGER NOT NULL,
    created_at  REAL    NOT NULL,
    UNIQUE (run_id, kind, path)
);
