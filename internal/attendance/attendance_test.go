package attendance

import (
	"testing"
	"time"
	_ "time/tzdata"
)

func mustLoad(tb testing.TB, name string) *time.Location {
	tb.Helper()
	loc, err := time.LoadLocation(name)
	if err != nil {
		tb.Fatal(err)
	}
	return loc
}

var t0 = time.Date(2026, 12, 3, 8, 0, 0, 0, time.UTC)

func at(min int) time.Time { return t0.Add(time.Duration(min) * time.Minute) }

func rec(dir string, min int, sim float64) Recognition {
	return Recognition{DetectionID: "d", PersonID: "p1", CameraID: "c1", CameraDirection: dir, At: at(min), Similarity: sim}
}

func TestDecide(t *testing.T) {
	r := DefaultRules()
	r.Threshold = 0.6
	in := func(min int) Log { return Log{PersonID: "p1", At: at(min), Direction: In} }
	out := func(min int) Log { return Log{PersonID: "p1", At: at(min), Direction: Out} }
	cases := []struct {
		name   string
		rec    Recognition
		nearby []Log
		want   Decision
	}{
		{"unknown face never logs", Recognition{CameraDirection: CameraEntry, At: at(0), Similarity: 0.99}, nil, Decision{Skip: SkipUnknown}},
		{"below threshold", rec(CameraEntry, 0, 0.59), nil, Decision{Skip: SkipThreshold}},
		{"at threshold counts", rec(CameraEntry, 0, 0.6), nil, Decision{Direction: In}},
		{"entry camera checks in", rec(CameraEntry, 0, 0.9), nil, Decision{Direction: In}},
		{"exit camera checks out", rec(CameraExit, 0, 0.9), []Log{in(-120)}, Decision{Direction: Out}},
		{"exit camera without check-in still checks out", rec(CameraExit, 0, 0.9), nil, Decision{Direction: Out}},
		{"same pass within cooldown", rec(CameraEntry, 4, 0.9), []Log{in(0)}, Decision{Skip: SkipCooldown}},
		{"another camera sees the same pass", rec(CameraExit, 1, 0.9), []Log{in(0)}, Decision{Skip: SkipCooldown}},
		{"after the cooldown a new event", rec(CameraEntry, 5, 0.9), []Log{in(0)}, Decision{Direction: In}},
		{"a late detection before a logged pass is absorbed", rec(CameraEntry, -3, 0.9), []Log{in(0)}, Decision{Skip: SkipCooldown}},
		{"duplicate of the logged detection", rec(CameraEntry, 0, 0.9), []Log{in(0)}, Decision{Skip: SkipCooldown}},
		{"both: no session opens one", rec(CameraBoth, 0, 0.9), nil, Decision{Direction: In}},
		{"both: open session, too soon", rec(CameraBoth, 20, 0.9), []Log{in(0)}, Decision{Skip: SkipTooSoon}},
		{"both: open session after min interval closes it", rec(CameraBoth, 30, 0.9), []Log{in(0)}, Decision{Direction: Out}},
		{"both: closed session opens a new one", rec(CameraBoth, 90, 0.9), []Log{in(0), out(60)}, Decision{Direction: In}},
		{"both: out of order, only earlier logs decide", rec(CameraBoth, 40, 0.9), []Log{in(0), out(240)}, Decision{Direction: Out}},
		{"both: before the first log of the day", rec(CameraBoth, -60, 0.9), []Log{in(0)}, Decision{Direction: In}},
		{"unknown direction", rec("sideways", 0, 0.9), nil, Decision{Skip: SkipDirection}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := Decide(r, c.rec, c.nearby); got.Direction != c.want.Direction || got.Skip != c.want.Skip {
				t.Fatalf("Decide = %+v, want %+v", got, c.want)
			}
		})
	}
}

// TestDecideTwoCamerasAtOnce feeds the recognitions of one person seen by
// an entry and a "both" camera every second for two minutes, in an order
// shuffled by arrival, as the pipeline would: one log results.
func TestDecideCooldownNamesTheLog(t *testing.T) {
	d := Decide(DefaultRules(), rec(CameraEntry, 2, 0.9), []Log{{At: at(-60), Direction: In}, {At: at(0), Direction: In}})
	if d.Skip != SkipCooldown || !d.Near.Equal(at(0)) {
		t.Fatalf("Decide = %+v, want a cooldown skip near %v", d, at(0))
	}
}

func TestDecideTwoCamerasAtOnce(t *testing.T) {
	r := DefaultRules()
	var logs []Log
	for s := 119; s >= 0; s-- { // arriving newest first: the worst order
		for _, dir := range []string{CameraBoth, CameraEntry} {
			rc := Recognition{PersonID: "p1", CameraDirection: dir, At: t0.Add(time.Duration(s) * time.Second), Similarity: 0.8}
			if d := Decide(r, rc, logs); d.Logged() {
				logs = append(logs, Log{PersonID: "p1", At: rc.At, Direction: d.Direction})
			}
		}
	}
	if len(logs) != 1 || logs[0].Direction != In {
		t.Fatalf("two cameras for two minutes gave %d logs (%+v), want one check-in", len(logs), logs)
	}
}

func TestWorkDate(t *testing.T) {
	hcm := mustLoad(t, "Asia/Ho_Chi_Minh")
	day := &Shift{Start: 9 * 60, End: 17 * 60, Days: weekdays(), Location: hcm}
	night := &Shift{Start: 22 * 60, End: 6 * 60, Days: weekdays(), Location: hcm}
	local := func(d, h, m int) time.Time { return time.Date(2026, 12, d, h, m, 0, 0, hcm) }
	cases := []struct {
		name  string
		t     time.Time
		shift *Shift
		want  string
	}{
		{"no shift: calendar date in the site's zone", time.Date(2026, 12, 3, 20, 0, 0, 0, time.UTC), nil, "2026-12-04"},
		{"no shift: just before midnight", local(3, 23, 59), nil, "2026-12-03"},
		{"day shift: morning", local(3, 8, 55), day, "2026-12-03"},
		{"day shift: overtime past midnight", local(4, 0, 30), day, "2026-12-03"},
		{"night shift: check-in", local(3, 21, 50), night, "2026-12-03"},
		{"night shift: check-out after midnight", local(4, 6, 10), night, "2026-12-03"},
		{"night shift: next evening", local(4, 14, 0), night, "2026-12-04"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := WorkDate(c.t, hcm, c.shift).String(); got != c.want {
				t.Fatalf("WorkDate(%v) = %s, want %s", c.t, got, c.want)
			}
			from, to := DayBounds(WorkDate(c.t, hcm, c.shift), hcm, c.shift)
			if c.t.Before(from) || !c.t.Before(to) {
				t.Fatalf("%v is outside its day's bounds [%v, %v)", c.t, from, to)
			}
		})
	}
}

func weekdays() []time.Weekday {
	return []time.Weekday{time.Monday, time.Tuesday, time.Wednesday, time.Thursday, time.Friday, time.Saturday, time.Sunday}
}
