ALTER TABLE detections DROP COLUMN IF EXISTS reviewed_at;

--bun:split

ALTER TABLE detections DROP COLUMN IF EXISTS review;
