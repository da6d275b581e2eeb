DELETE FROM camera_events WHERE kind = 'config';

--bun:split

ALTER TABLE camera_events DROP CONSTRAINT camera_events_kind_check;

--bun:split

ALTER TABLE camera_events ADD CONSTRAINT camera_events_kind_check CHECK (kind IN ('health', 'state'));
