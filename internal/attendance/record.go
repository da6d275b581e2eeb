package attendance

import "time"

// Record statuses.
const (
	StatusPresent    = "present"
	StatusLate       = "late"
	StatusEarlyLeave = "early_leave"
	StatusAbsent     = "absent"
	StatusIncomplete = "incomplete"
	StatusOff        = "off"
)

// Statuses lists the record statuses.
var Statuses = []string{StatusPresent, StatusLate, StatusEarlyLeave, StatusAbsent, StatusIncomplete, StatusOff}

// Record is a person's work day: first check-in, last check-out, time
// worked (check-in to check-out pairs, less the part of the shift's unpaid
// break not taken as a recorded break), breaks between them, and the day's
// status against the shift.
type Record struct {
	Date     Date
	FirstIn  time.Time // zero: no check-in
	LastOut  time.Time // zero: no check-out
	Worked   time.Duration
	Breaks   time.Duration
	Open     bool // the last check-in has no check-out yet
	Status   string
	Late     time.Duration
	Early    time.Duration
	Overtime time.Duration
	Logs     int
}

// BuildRecord computes the record of work date d from the person's logs of
// that day (any order; deleted logs already left out). s is the person's
// shift (nil: none). closed says the day is over (the day-close run): only
// then does a missing check-in make the day absent and a missing check-out
// make it incomplete; before, an open session is simply ongoing. BuildRecord
// returns false when there is nothing to record: no logs and either no
// shift that day or a day not yet closed.
func BuildRecord(d Date, logs []Log, s *Shift, closed bool) (Record, bool) {
	rec := Record{Date: d, Logs: len(logs)}
	scheduled := s != nil && s.ScheduledOn(d)
	if len(logs) == 0 {
		if !closed || s == nil {
			return rec, false
		}
		if scheduled {
			rec.Status = StatusAbsent
		} else {
			rec.Status = StatusOff
		}
		return rec, true
	}

	var openAt, lastOutAt time.Time
	for _, l := range sortLogs(logs) {
		switch l.Direction {
		case In:
			if rec.FirstIn.IsZero() {
				rec.FirstIn = l.At
			}
			if openAt.IsZero() {
				if !lastOutAt.IsZero() {
					rec.Breaks += l.At.Sub(lastOutAt)
				}
				openAt = l.At
			}
		case Out:
			rec.LastOut = l.At
			if !openAt.IsZero() {
				rec.Worked += l.At.Sub(openAt)
				openAt = time.Time{}
				lastOutAt = l.At
			}
		}
	}
	rec.Open = !openAt.IsZero()

	if !scheduled {
		rec.Status = StatusPresent
		if s != nil {
			rec.Status = StatusOff
		}
		rec.Overtime = rec.Worked
		if rec.FirstIn.IsZero() && closed {
			rec.Status = StatusIncomplete
		}
		return rec, true
	}

	// The shift's unpaid break is not work: whatever of it was not taken as
	// a recorded break (a check-out and back in) comes off the time present.
	if unpaid := s.Break - rec.Breaks; unpaid > 0 {
		rec.Worked = max(rec.Worked-unpaid, 0)
	}
	start, end := s.Window(d)
	if !rec.FirstIn.IsZero() && rec.FirstIn.After(start.Add(s.LateGrace)) {
		rec.Late = rec.FirstIn.Sub(start)
	}
	if !rec.LastOut.IsZero() && !rec.Open && rec.LastOut.Before(end.Add(-s.EarlyGrace)) {
		rec.Early = end.Sub(rec.LastOut)
	}
	if expected := end.Sub(start) - s.Break; rec.Worked > expected {
		rec.Overtime = rec.Worked - expected
	}
	switch {
	case rec.FirstIn.IsZero():
		// Check-outs only: the check-in was missed.
		rec.Status = StatusIncomplete
		if !closed {
			rec.Status = StatusPresent
		}
	case closed && rec.Open:
		rec.Status = StatusIncomplete
	case rec.Late > 0:
		rec.Status = StatusLate
	case rec.Early > 0:
		rec.Status = StatusEarlyLeave
	default:
		rec.Status = StatusPresent
	}
	return rec, true
}
