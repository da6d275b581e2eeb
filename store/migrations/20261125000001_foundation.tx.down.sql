DROP TABLE IF EXISTS audit_logs;

--bun:split

DROP TABLE IF EXISTS user_preferences;

--bun:split

DROP TABLE IF EXISTS user_sessions;

--bun:split

DROP TABLE IF EXISTS users;

--bun:split

DROP TABLE IF EXISTS roles;
