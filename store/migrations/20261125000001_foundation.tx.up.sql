CREATE EXTENSION IF NOT EXISTS pgcrypto;

--bun:split

CREATE TABLE roles (
    name        text PRIMARY KEY,
    description text NOT NULL DEFAULT '',
    permissions text[] NOT NULL DEFAULT '{}',
    updated_at  timestamptz NOT NULL DEFAULT now()
);

--bun:split

INSERT INTO roles (name) VALUES ('admin'), ('operator'), ('hr'), ('viewer') ON CONFLICT DO NOTHING;

--bun:split

CREATE TABLE users (
    id                  uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    username            text NOT NULL,
    email               text NOT NULL DEFAULT '',
    full_name           text NOT NULL DEFAULT '',
    password_hash       text NOT NULL,
    role                text NOT NULL REFERENCES roles (name),
    is_active           boolean NOT NULL DEFAULT true,
    last_login_at       timestamptz,
    password_changed_at timestamptz NOT NULL DEFAULT now(),
    created_at          timestamptz NOT NULL DEFAULT now(),
    updated_at          timestamptz NOT NULL DEFAULT now()
);

--bun:split

CREATE UNIQUE INDEX users_username_key ON users (lower(username));

--bun:split

CREATE UNIQUE INDEX users_email_key ON users (lower(email)) WHERE email <> '';

--bun:split

CREATE INDEX users_created_idx ON users (created_at, id);

--bun:split

-- One row per refresh token. A family is one login; every refresh rotates to a
-- new row of the same family. Presenting a used or revoked token revokes the family.
CREATE TABLE user_sessions (
    id             uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    family_id      uuid NOT NULL,
    user_id        uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    token_hash     text NOT NULL UNIQUE,
    ip             text NOT NULL DEFAULT '',
    user_agent     text NOT NULL DEFAULT '',
    created_at     timestamptz NOT NULL DEFAULT now(),
    expires_at     timestamptz NOT NULL,
    used_at        timestamptz,
    revoked_at     timestamptz,
    revoked_reason text NOT NULL DEFAULT ''
);

--bun:split

CREATE INDEX user_sessions_family_idx ON user_sessions (family_id);

--bun:split

CREATE INDEX user_sessions_user_idx ON user_sessions (user_id) WHERE revoked_at IS NULL;

--bun:split

CREATE INDEX user_sessions_expires_idx ON user_sessions (expires_at);

--bun:split

CREATE TABLE user_preferences (
    user_id    uuid PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    language   text NOT NULL DEFAULT 'en',
    timezone   text NOT NULL DEFAULT 'UTC',
    theme      text NOT NULL DEFAULT 'system',
    settings   jsonb NOT NULL DEFAULT '{}',
    updated_at timestamptz NOT NULL DEFAULT now()
);

--bun:split

-- The audit log outlives the users it names: user_id is not a foreign key and
-- the username is copied.
CREATE TABLE audit_logs (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    occurred_at  timestamptz NOT NULL DEFAULT now(),
    user_id      uuid,
    username     text NOT NULL DEFAULT '',
    action       text NOT NULL,
    method       text NOT NULL,
    path         text NOT NULL,
    resource     text NOT NULL DEFAULT '',
    resource_id  text NOT NULL DEFAULT '',
    status       integer NOT NULL,
    ip           text NOT NULL DEFAULT '',
    user_agent   text NOT NULL DEFAULT '',
    request_id   text NOT NULL DEFAULT '',
    changes      jsonb
);

--bun:split

CREATE INDEX audit_logs_time_idx ON audit_logs (occurred_at DESC, id DESC);

--bun:split

CREATE INDEX audit_logs_user_idx ON audit_logs (user_id, occurred_at DESC, id DESC);

--bun:split

CREATE INDEX audit_logs_resource_idx ON audit_logs (resource, occurred_at DESC, id DESC);

--bun:split

CREATE INDEX audit_logs_action_idx ON audit_logs (action, occurred_at DESC, id DESC);
