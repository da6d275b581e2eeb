-- A pipeline event written by a retried activity carries the same key on
-- every attempt, so a retry after a committed write adds nothing.
ALTER TABLE detection_event_logs ADD COLUMN dedupe_key text;

--bun:split

CREATE UNIQUE INDEX detection_event_logs_dedupe_key ON detection_event_logs (dedupe_key) WHERE dedupe_key IS NOT NULL;
