DROP TRIGGER IF EXISTS cameras_cache_version ON cameras;

--bun:split

DROP FUNCTION IF EXISTS bump_cache_version();

--bun:split

DROP TABLE IF EXISTS cache_versions;
