-- Odoo HR sync: the connection (one row), the runs and what each did to
-- each attendance log.
CREATE TABLE odoo_config (
    id               smallint PRIMARY KEY DEFAULT 1 CHECK (id = 1),
    url              text NOT NULL DEFAULT '',
    database         text NOT NULL DEFAULT '',
    login            text NOT NULL DEFAULT '',
    api_key          text NOT NULL DEFAULT '', -- sealed with the encryption key
    protocol         text NOT NULL DEFAULT '' CHECK (protocol IN ('', 'jsonrpc', 'json2')),
    match_field      text NOT NULL DEFAULT 'barcode' CHECK (match_field IN ('barcode', 'identification_id', 'work_email', 'odoo_id')),
    enabled          boolean NOT NULL DEFAULT false,
    interval_seconds integer NOT NULL DEFAULT 300 CHECK (interval_seconds BETWEEN 60 AND 86400),
    batch_size       integer NOT NULL DEFAULT 200 CHECK (batch_size BETWEEN 1 AND 1000),
    updated_at       timestamptz NOT NULL DEFAULT now()
);
INSERT INTO odoo_config (id) VALUES (1);

CREATE TABLE odoo_sync_runs (
    id           uuid PRIMARY KEY,
    trigger      text NOT NULL CHECK (trigger IN ('schedule', 'manual', 'retry')),
    requested_by uuid REFERENCES users (id) ON DELETE SET NULL,
    started_at   timestamptz NOT NULL,
    finished_at  timestamptz,
    status       text NOT NULL DEFAULT 'running' CHECK (status IN ('running', 'succeeded', 'partial', 'failed')),
    synced       integer NOT NULL DEFAULT 0,
    failed       integer NOT NULL DEFAULT 0,
    skipped      integer NOT NULL DEFAULT 0,
    error        text NOT NULL DEFAULT '',
    -- employees not found in Odoo, reported once per run
    missing      text[] NOT NULL DEFAULT '{}',
    workflow_id  text NOT NULL DEFAULT ''
);
CREATE INDEX odoo_sync_runs_started_idx ON odoo_sync_runs (started_at DESC, id DESC);

CREATE TABLE odoo_sync_items (
    run_id             uuid NOT NULL REFERENCES odoo_sync_runs (id) ON DELETE CASCADE,
    log_id             uuid NOT NULL REFERENCES attendance_logs (id) ON DELETE CASCADE,
    outcome            text NOT NULL CHECK (outcome IN ('synced', 'failed', 'skipped')),
    odoo_attendance_id bigint,
    reason             text NOT NULL DEFAULT '',
    at                 timestamptz NOT NULL,
    PRIMARY KEY (run_id, log_id)
);
CREATE INDEX odoo_sync_items_log_idx ON odoo_sync_items (log_id);
