-- A version per cached resource, bumped in the same transaction as any
-- change to it, so an API replica can cache encoded responses and know
-- exactly when they are stale. The bump is also announced on the
-- cache_versions channel (delivered at commit) as "name:version", so
-- replicas can follow versions without a query per request.
CREATE TABLE cache_versions (
    name    text PRIMARY KEY,
    version bigint NOT NULL DEFAULT 0
);

--bun:split

INSERT INTO cache_versions (name) VALUES ('cameras');

--bun:split

CREATE FUNCTION bump_cache_version() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    v bigint;
BEGIN
    UPDATE cache_versions SET version = version + 1 WHERE name = TG_ARGV[0] RETURNING version INTO v;
    PERFORM pg_notify('cache_versions', TG_ARGV[0] || ':' || v);
    RETURN NULL;
END;
$$;

--bun:split

CREATE TRIGGER cameras_cache_version
    AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON cameras
    FOR EACH STATEMENT EXECUTE FUNCTION bump_cache_version('cameras');
