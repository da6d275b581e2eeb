DROP TABLE IF EXISTS camera_events;

--bun:split

DROP TABLE IF EXISTS cameras;
