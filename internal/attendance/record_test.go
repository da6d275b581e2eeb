package attendance

import (
	"testing"
	"time"
)

func TestBuildRecord(t *testing.T) {
	hcm := mustLoad(t, "Asia/Ho_Chi_Minh")
	shift := &Shift{Start: 9 * 60, End: 17 * 60, Days: []time.Weekday{time.Monday, time.Tuesday, time.Wednesday, time.Thursday, time.Friday},
		LateGrace: 5 * time.Minute, EarlyGrace: 10 * time.Minute, Break: time.Hour, Location: hcm}
	thu := Date{2026, 12, 3}
	sat := Date{2026, 12, 5}
	l := func(dir string, d Date, h, m int) Log {
		return Log{At: time.Date(d.Year, d.Month, d.Day, h, m, 0, 0, hcm), Direction: dir}
	}
	cases := []struct {
		name     string
		date     Date
		logs     []Log
		shift    *Shift
		closed   bool
		want     string
		worked   time.Duration
		breaks   time.Duration
		late     time.Duration
		early    time.Duration
		overtime time.Duration
		none     bool
	}{
		{name: "on time", date: thu, logs: []Log{l(In, thu, 8, 58), l(Out, thu, 17, 2)}, shift: shift, closed: true, want: StatusPresent, worked: 7*time.Hour + 4*time.Minute, overtime: 4 * time.Minute},
		{name: "within the late grace", date: thu, logs: []Log{l(In, thu, 9, 5), l(Out, thu, 17, 0)}, shift: shift, closed: true, want: StatusPresent, worked: 6*time.Hour + 55*time.Minute},
		{name: "late", date: thu, logs: []Log{l(In, thu, 9, 20), l(Out, thu, 17, 0)}, shift: shift, closed: true, want: StatusLate, worked: 6*time.Hour + 40*time.Minute, late: 20 * time.Minute},
		{name: "early leave", date: thu, logs: []Log{l(In, thu, 9, 0), l(Out, thu, 16, 0)}, shift: shift, closed: true, want: StatusEarlyLeave, worked: 6 * time.Hour, early: time.Hour},
		{name: "never checked out, day closed", date: thu, logs: []Log{l(In, thu, 9, 0)}, shift: shift, closed: true, want: StatusIncomplete},
		{name: "still at work, day open", date: thu, logs: []Log{l(In, thu, 9, 0)}, shift: shift, want: StatusPresent},
		{name: "absent at close", date: thu, shift: shift, closed: true, want: StatusAbsent},
		{name: "nothing yet before close", date: thu, shift: shift, none: true},
		{name: "not scheduled, no logs", date: sat, shift: shift, closed: true, want: StatusOff},
		{name: "worked a day off: all overtime", date: sat, logs: []Log{l(In, sat, 10, 0), l(Out, sat, 12, 0)}, shift: shift, closed: true, want: StatusOff, worked: 2 * time.Hour, overtime: 2 * time.Hour},
		{name: "no shift", date: thu, logs: []Log{l(In, thu, 10, 0), l(Out, thu, 11, 0)}, want: StatusPresent, worked: time.Hour, overtime: time.Hour},
		{name: "lunch break", date: thu, logs: []Log{l(In, thu, 9, 0), l(Out, thu, 12, 0), l(In, thu, 13, 0), l(Out, thu, 17, 0)}, shift: shift, closed: true, want: StatusPresent, worked: 7 * time.Hour, breaks: time.Hour},
		{name: "logs out of order", date: thu, logs: []Log{l(Out, thu, 17, 0), l(In, thu, 13, 0), l(Out, thu, 12, 0), l(In, thu, 9, 0)}, shift: shift, closed: true, want: StatusPresent, worked: 7 * time.Hour, breaks: time.Hour},
		{name: "duplicate check-in counts once", date: thu, logs: []Log{l(In, thu, 9, 0), l(In, thu, 9, 30), l(Out, thu, 17, 0)}, shift: shift, closed: true, want: StatusPresent, worked: 7 * time.Hour},
		{name: "check-out only", date: thu, logs: []Log{l(Out, thu, 17, 0)}, shift: shift, closed: true, want: StatusIncomplete},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, ok := BuildRecord(c.date, c.logs, c.shift, c.closed)
			if c.none {
				if ok {
					t.Fatalf("BuildRecord made %+v, want no record", got)
				}
				return
			}
			if !ok {
				t.Fatal("BuildRecord made no record")
			}
			if got.Status != c.want || got.Worked != c.worked || got.Breaks != c.breaks || got.Late != c.late || got.Early != c.early || got.Overtime != c.overtime {
				t.Fatalf("got status %s worked %v breaks %v late %v early %v overtime %v; want %s %v %v %v %v %v",
					got.Status, got.Worked, got.Breaks, got.Late, got.Early, got.Overtime, c.want, c.worked, c.breaks, c.late, c.early, c.overtime)
			}
		})
	}
}

// TestNightShiftAcrossDST checks a night shift on the nights the clocks
// change: the shift is as long as the wall clock says (9 h when they go
// back, 7 h when they go forward), so a full shift has no overtime or early
// leave, and both logs belong to the evening's work date.
func TestNightShiftAcrossDST(t *testing.T) {
	cases := []struct {
		zone   string
		date   Date
		length time.Duration
	}{
		{"America/New_York", Date{2026, 10, 31}, 9 * time.Hour}, // clocks back 1 Nov 02:00
		{"Europe/Berlin", Date{2026, 3, 28}, 7 * time.Hour},     // clocks forward 29 Mar 02:00
		{"Asia/Ho_Chi_Minh", Date{2026, 3, 28}, 8 * time.Hour},  // no DST
	}
	for _, c := range cases {
		t.Run(c.zone, func(t *testing.T) {
			loc := mustLoad(t, c.zone)
			night := &Shift{Start: 22 * 60, End: 6 * 60, Days: weekdays(), Location: loc}
			in := time.Date(c.date.Year, c.date.Month, c.date.Day, 22, 0, 0, 0, loc)
			next := c.date.AddDays(1)
			out := time.Date(next.Year, next.Month, next.Day, 6, 0, 0, 0, loc)
			for _, m := range []time.Time{in, out} {
				if wd := WorkDate(m, time.UTC, night); wd != c.date {
					t.Fatalf("%v belongs to %s, want %s", m, wd, c.date)
				}
			}
			r, ok := BuildRecord(c.date, []Log{{At: out, Direction: Out}, {At: in, Direction: In}}, night, true)
			if !ok || r.Status != StatusPresent || r.Worked != c.length || r.Overtime != 0 || r.Early != 0 {
				t.Fatalf("record %+v, want present with %v worked and no overtime", r, c.length)
			}
		})
	}
}

func TestShiftValidate(t *testing.T) {
	utc := time.UTC
	ok := Shift{Start: 540, End: 1020, Days: []time.Weekday{time.Monday}, Location: utc}
	if err := ok.Validate(); err != nil {
		t.Fatal(err)
	}
	bad := []Shift{
		{Start: -1, End: 10, Days: ok.Days, Location: utc},
		{Start: 540, End: 1440, Days: ok.Days, Location: utc},
		{Start: 540, End: 540, Days: ok.Days, Location: utc},
		{Start: 540, End: 1020, Location: utc},
		{Start: 540, End: 1020, Days: ok.Days, Break: 8 * time.Hour, Location: utc},
		{Start: 540, End: 1020, Days: ok.Days},
	}
	for i, s := range bad {
		if s.Validate() == nil {
			t.Errorf("shift %d (%+v) passed validation", i, s)
		}
	}
}
