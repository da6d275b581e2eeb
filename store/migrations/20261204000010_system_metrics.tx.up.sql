-- Samples of host and service figures, one row per metric (and label set)
-- per collection (the rollcall-system-metrics schedule, every minute). A
-- narrow table rather than one column per figure: new metrics need no
-- migration, and history reads one metric at a time.
CREATE TABLE system_metrics (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    recorded_at timestamptz NOT NULL,
    name        text NOT NULL,
    value       double precision NOT NULL,
    -- e.g. {"queue": "rollcall-default"}; {} for a metric without labels.
    labels      jsonb NOT NULL DEFAULT '{}'
);

--bun:split

-- History of one metric over a time range.
CREATE INDEX system_metrics_name_time_idx ON system_metrics (name, recorded_at);

--bun:split

-- The latest collection, and purging before a cutoff.
CREATE INDEX system_metrics_time_idx ON system_metrics (recorded_at);

--bun:split

-- The last check of each service (dependencies, the face provider, Odoo,
-- workers per task queue), written by the API's checks and the schedule.
CREATE TABLE system_services (
    name          text PRIMARY KEY,
    kind          text NOT NULL,
    status        text NOT NULL,
    latency_ms    double precision NOT NULL DEFAULT 0,
    checked_at    timestamptz NOT NULL,
    details       jsonb NOT NULL DEFAULT '{}',
    last_error    text NOT NULL DEFAULT '',
    last_error_at timestamptz
);
