-- Alerts raised by the system, per-user notifications and outbound webhooks.

CREATE TABLE alerts (
    id              uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    type            text NOT NULL,
    severity        text NOT NULL CHECK (severity IN ('info', 'warning', 'critical')),
    source_type     text NOT NULL,
    source_id       text NOT NULL DEFAULT '',
    message         text NOT NULL,
    -- One open (or acknowledged) alert per cause: raising the same cause
    -- again counts an occurrence on it.
    dedupe_key      text NOT NULL,
    status          text NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'acknowledged', 'resolved')),
    occurrences     integer NOT NULL DEFAULT 1,
    details         jsonb NOT NULL DEFAULT '{}',
    first_seen_at   timestamptz NOT NULL,
    last_seen_at    timestamptz NOT NULL,
    acknowledged_by uuid REFERENCES users (id) ON DELETE SET NULL,
    acknowledged_at timestamptz,
    -- resolved_by is null for an alert the system resolved when its cause cleared.
    resolved_by     uuid REFERENCES users (id) ON DELETE SET NULL,
    resolved_at     timestamptz,
    resolution      text NOT NULL DEFAULT ''
);

--bun:split

CREATE UNIQUE INDEX alerts_open_dedupe ON alerts (dedupe_key) WHERE status <> 'resolved';

--bun:split

CREATE INDEX alerts_by_time ON alerts (last_seen_at DESC, id DESC);

--bun:split

CREATE INDEX alerts_by_status_time ON alerts (status, last_seen_at DESC, id DESC);

--bun:split

CREATE TABLE notifications (
    id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    user_id     uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    alert_id    uuid REFERENCES alerts (id) ON DELETE SET NULL,
    kind        text NOT NULL CHECK (kind IN ('alert', 'direct')),
    severity    text NOT NULL DEFAULT 'info' CHECK (severity IN ('info', 'warning', 'critical')),
    title       text NOT NULL,
    body        text NOT NULL DEFAULT '',
    sender_id   uuid REFERENCES users (id) ON DELETE SET NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    read_at     timestamptz
);

--bun:split

CREATE INDEX notifications_by_user ON notifications (user_id, created_at DESC, id DESC);

--bun:split

CREATE INDEX notifications_unread ON notifications (user_id) WHERE read_at IS NULL;

--bun:split

CREATE TABLE alert_webhooks (
    id            uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    name          text NOT NULL UNIQUE,
    url           text NOT NULL,
    -- HMAC secret, sealed with the credential key (internal/secrets).
    secret        text NOT NULL,
    alert_types   text[] NOT NULL DEFAULT '{}',
    min_severity  text NOT NULL DEFAULT 'info' CHECK (min_severity IN ('info', 'warning', 'critical')),
    enabled       boolean NOT NULL DEFAULT true,
    created_by    uuid REFERENCES users (id) ON DELETE SET NULL,
    created_at    timestamptz NOT NULL DEFAULT now(),
    updated_at    timestamptz NOT NULL DEFAULT now()
);

--bun:split

CREATE TABLE webhook_deliveries (
    id            uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    webhook_id    uuid NOT NULL REFERENCES alert_webhooks (id) ON DELETE CASCADE,
    alert_id      uuid REFERENCES alerts (id) ON DELETE SET NULL,
    event         text NOT NULL,
    status        text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'delivered', 'failed')),
    attempts      integer NOT NULL DEFAULT 0,
    last_status   integer NOT NULL DEFAULT 0,
    last_error    text NOT NULL DEFAULT '',
    created_at    timestamptz NOT NULL DEFAULT now(),
    delivered_at  timestamptz
);

--bun:split

CREATE INDEX webhook_deliveries_by_hook ON webhook_deliveries (webhook_id, created_at DESC, id DESC);
