package contract

import "time"

// CloseDaysInput lists the work dates (YYYY-MM-DD) to close.
type CloseDaysInput struct {
	Dates []string `json:"dates"`
	// Now is the time "ended" is judged against: a person's day closes
	// only once it has ended in their shift's zone.
	Now time.Time `json:"now"`
}

// CloseDaysResult counts the days closed and the ones not over yet.
type CloseDaysResult struct {
	Closed  int `json:"closed"`
	Pending int `json:"pending"`
}

// AttendanceCloseInput optionally names one date (YYYY-MM-DD) to close
// again; empty closes the last AttendanceCloseLookback days and today.
type AttendanceCloseInput struct {
	Date string `json:"date,omitempty"`
}
