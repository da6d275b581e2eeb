-- Unknown faces an operator has reviewed: dismissed, or assigned to a
-- person (their frames became that person's registration photos).
ALTER TABLE detections ADD COLUMN review text NOT NULL DEFAULT '' CHECK (review IN ('', 'dismissed', 'assigned'));

--bun:split

ALTER TABLE detections ADD COLUMN reviewed_at timestamptz;
