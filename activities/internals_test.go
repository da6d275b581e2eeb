package activities

// AttendanceCounts are a feeder's counters: recognitions dropped for a
// full queue, logs written, and recognitions settled in memory.
type AttendanceCounts struct{ Dropped, Logged, Settled int64 }

// Counts returns the feeder's counters.
func (f *AttendanceFeeder) Counts() AttendanceCounts {
	return AttendanceCounts{Dropped: f.dropped.Load(), Logged: f.logged.Load(), Settled: f.settled.Load()}
}
