package sysmetrics

import "github.com/rollcall/rollcall/store"

// Rows are checks as system_services rows: a failed check sets the
// last error and its time, a passing one leaves the stored ones.
func Rows(checked []ServiceStatus) []store.SystemService {
	rows := make([]store.SystemService, len(checked))
	for i, c := range checked {
		r := store.SystemService{Name: c.Name, Kind: c.Kind, Status: c.Status,
			LatencyMs: float64(c.Latency.Microseconds()) / 1000, CheckedAt: c.CheckedAt}
		if c.Queue != nil {
			r.Details = map[string]any{"pollers": c.Queue.Pollers, "backlog": c.Queue.Backlog}
			if c.Queue.LastAccess != nil {
				r.Details["lastAccessAt"] = c.Queue.LastAccess.UTC()
			}
		}
		if c.Status != StatusUp {
			at := c.CheckedAt
			r.LastError, r.LastErrorAt = c.Error, &at
		}
		rows[i] = r
	}
	return rows
}
