DROP TABLE IF EXISTS attendance_records;

--bun:split

DROP TABLE IF EXISTS attendance_logs;

--bun:split

DROP TABLE IF EXISTS shift_assignments;

--bun:split

DROP TABLE IF EXISTS shift_schedules;
