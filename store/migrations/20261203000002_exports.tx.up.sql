-- Report exports: one row per requested file, written by the Export workflow.
CREATE TABLE export_jobs (
    id           uuid PRIMARY KEY,
    owner_id     uuid REFERENCES users (id) ON DELETE CASCADE,
    kind         text NOT NULL CHECK (kind IN ('records', 'logs')),
    format       text NOT NULL CHECK (format IN ('csv', 'xlsx', 'pdf')),
    filters      jsonb NOT NULL DEFAULT '{}',
    status       text NOT NULL DEFAULT 'queued' CHECK (status IN ('queued', 'running', 'completed', 'failed', 'cancelled')),
    rows_total   integer,
    rows_written integer NOT NULL DEFAULT 0,
    size_bytes   bigint,
    object_key   text NOT NULL DEFAULT '',
    error        text NOT NULL DEFAULT '',
    created_at   timestamptz NOT NULL DEFAULT now(),
    started_at   timestamptz,
    finished_at  timestamptz,
    expires_at   timestamptz NOT NULL
);

--bun:split

CREATE INDEX export_jobs_owner_idx ON export_jobs (owner_id, created_at DESC, id DESC);

--bun:split

CREATE INDEX export_jobs_expiry_idx ON export_jobs (expires_at);
