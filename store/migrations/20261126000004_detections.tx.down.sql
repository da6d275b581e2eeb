DROP TABLE IF EXISTS detection_event_logs;

--bun:split

DROP TABLE IF EXISTS detections;
