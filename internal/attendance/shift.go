package attendance

import (
	"fmt"
	"slices"
	"time"
)

// Date is a calendar date in a site's timezone: the work date of a record.
type Date struct {
	Year  int
	Month time.Month
	Day   int
}

// DateOf returns the calendar date of t in loc.
func DateOf(t time.Time, loc *time.Location) Date {
	y, m, d := t.In(loc).Date()
	return Date{y, m, d}
}

// ParseDate reads a date written as YYYY-MM-DD.
func ParseDate(s string) (Date, error) {
	t, err := time.Parse(time.DateOnly, s)
	if err != nil {
		return Date{}, fmt.Errorf("attendance: %q is not a date (YYYY-MM-DD)", s)
	}
	return Date{t.Year(), t.Month(), t.Day()}, nil
}

// String writes the date as YYYY-MM-DD.
func (d Date) String() string { return fmt.Sprintf("%04d-%02d-%02d", d.Year, d.Month, d.Day) }

// AddDays returns the date n days later (earlier for negative n).
func (d Date) AddDays(n int) Date {
	t := time.Date(d.Year, d.Month, d.Day+n, 12, 0, 0, 0, time.UTC)
	return Date{t.Year(), t.Month(), t.Day()}
}

// Weekday returns the date's day of the week.
func (d Date) Weekday() time.Weekday {
	return time.Date(d.Year, d.Month, d.Day, 12, 0, 0, 0, time.UTC).Weekday()
}

// Before reports whether d is earlier than e.
func (d Date) Before(e Date) bool { return d.Compare(e) < 0 }

// Compare returns -1, 0 or +1 as d is before, equal to or after e.
func (d Date) Compare(e Date) int {
	switch {
	case d.Year != e.Year:
		return cmpInt(d.Year, e.Year)
	case d.Month != e.Month:
		return cmpInt(int(d.Month), int(e.Month))
	}
	return cmpInt(d.Day, e.Day)
}

// At returns the moment the wall clock in loc shows minutes past midnight
// on d. A wall time skipped by a DST change resolves as time.Date does
// (after the gap); days are counted on the calendar, not as 24 hours.
func (d Date) At(minutes int, loc *time.Location) time.Time {
	return time.Date(d.Year, d.Month, d.Day, 0, minutes, 0, 0, loc)
}

func cmpInt(a, b int) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// Shift is a schedule of work: the wall-clock start and end in its
// timezone, the days of the week it starts on, grace for lateness and early
// leave, and an unpaid break. A shift whose end is not after its start
// crosses midnight (a night shift) and ends the next day.
type Shift struct {
	Name string
	// Start and End are minutes past midnight (0..1439).
	Start, End int
	Days       []time.Weekday
	LateGrace  time.Duration
	EarlyGrace time.Duration
	Break      time.Duration
	Location   *time.Location
}

// Validate checks a shift's fields, naming the first one that is wrong.
func (s Shift) Validate() error {
	switch {
	case s.Start < 0 || s.Start >= 24*60:
		return fmt.Errorf("start: must be a time of day")
	case s.End < 0 || s.End >= 24*60:
		return fmt.Errorf("end: must be a time of day")
	case s.Start == s.End:
		return fmt.Errorf("end: must differ from start")
	case len(s.Days) == 0:
		return fmt.Errorf("days: at least one day of the week")
	case s.LateGrace < 0 || s.EarlyGrace < 0 || s.Break < 0:
		return fmt.Errorf("graceMinutes/breakMinutes: must not be negative")
	case s.Break >= s.Length():
		return fmt.Errorf("breakMinutes: must be shorter than the shift")
	case s.Location == nil:
		return fmt.Errorf("timezone: required")
	}
	return nil
}

// Overnight reports whether the shift crosses midnight.
func (s Shift) Overnight() bool { return s.End <= s.Start }

// Length is the shift's nominal length on the wall clock.
func (s Shift) Length() time.Duration {
	m := s.End - s.Start
	if m <= 0 {
		m += 24 * 60
	}
	return time.Duration(m) * time.Minute
}

// ScheduledOn reports whether the shift starts on date d.
func (s Shift) ScheduledOn(d Date) bool { return slices.Contains(s.Days, d.Weekday()) }

// Window returns when the shift of work date d starts and ends. Both are
// wall-clock times in the shift's timezone, so a DST change during the
// night makes the shift an hour shorter or longer, as the clock on the wall
// says.
func (s Shift) Window(d Date) (start, end time.Time) {
	start = d.At(s.Start, s.Location)
	if s.Overnight() {
		end = d.AddDays(1).At(s.End, s.Location)
	} else {
		end = d.At(s.End, s.Location)
	}
	return start, end
}

// dayStart returns the minute of the wall clock at which a work day
// begins: midnight without a shift, otherwise the middle of the time off
// before the shift, so a night shift's early-morning check-out and a day
// shift's late overtime count toward the day the shift started. It may be
// negative (the previous evening) or past 24h never.
func dayStart(s *Shift) int {
	if s == nil {
		return 0
	}
	off := 24*60 - int(s.Length()/time.Minute)
	return s.Start - off/2
}

// WorkDate returns the work date a moment belongs to, in loc, for a person
// on shift s (nil: the calendar date).
func WorkDate(t time.Time, loc *time.Location, s *Shift) Date {
	if s != nil && s.Location != nil {
		loc = s.Location
	}
	lt := t.In(loc)
	d := Date{lt.Year(), lt.Month(), lt.Day()}
	minute := lt.Hour()*60 + lt.Minute()
	ds := dayStart(s)
	switch {
	case ds > 0 && minute < ds:
		return d.AddDays(-1)
	case ds < 0 && minute >= 24*60+ds:
		return d.AddDays(1)
	}
	return d
}

// DayBounds returns the moments a work day d spans for shift s in loc
// (nil shift: midnight to midnight): the store reads a person's logs of
// [from, to) to build the day's record.
func DayBounds(d Date, loc *time.Location, s *Shift) (from, to time.Time) {
	if s != nil && s.Location != nil {
		loc = s.Location
	}
	ds := dayStart(s)
	return d.At(ds, loc), d.AddDays(1).At(ds, loc)
}
