package contract

import "time"

// SystemMetricsInput configures one run of the system metrics schedule.
type SystemMetricsInput struct {
	// Retention is how long samples are kept; zero keeps them all.
	Retention time.Duration
}

// SystemMetricsResult says what one run did.
type SystemMetricsResult struct {
	// Samples were stored; Services checked; Purged samples deleted.
	Samples  int
	Services int
	Purged   int64
}
