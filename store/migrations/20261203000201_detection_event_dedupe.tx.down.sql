DROP INDEX IF EXISTS detection_event_logs_dedupe_key;

--bun:split

ALTER TABLE detection_event_logs DROP COLUMN IF EXISTS dedupe_key;
