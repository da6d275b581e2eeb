package config

import (
	"strconv"
	"time"
)

// AttendanceConfig tunes how recognitions become attendance and how long
// report files are kept.
type AttendanceConfig struct {
	// Timezone is the zone of a work day for people without a shift, and
	// of "today" in the overview and summary (IANA name, default UTC).
	Timezone string
	// Threshold is the lowest similarity that counts as a recognition
	// (0: whatever the provider recognised).
	Threshold float64
	// Cooldown makes one pass in front of the cameras one event.
	Cooldown time.Duration
	// MinSession is, for cameras facing both ways, the shortest stay
	// before a recognition counts as the check-out.
	MinSession time.Duration
	// ExportRetention is how long export files are kept.
	ExportRetention time.Duration
	// ExportPDFMaxRows caps a PDF report: fpdf assembles the document in
	// memory (about 3.5 KB a row), so long reports are CSV or XLSX.
	ExportPDFMaxRows int
}

func loadAttendance(e *env) AttendanceConfig {
	c := AttendanceConfig{
		Timezone:         e.str("ROLLCALL_TIMEZONE", "UTC"),
		Cooldown:         e.duration("ROLLCALL_ATTENDANCE_COOLDOWN", 5*time.Minute),
		MinSession:       e.duration("ROLLCALL_ATTENDANCE_MIN_SESSION", 30*time.Minute),
		ExportRetention:  e.duration("ROLLCALL_EXPORT_RETENTION", 7*24*time.Hour),
		ExportPDFMaxRows: e.int("ROLLCALL_EXPORT_PDF_MAX_ROWS", 25_000),
	}
	if _, err := time.LoadLocation(c.Timezone); err != nil {
		e.fail("ROLLCALL_TIMEZONE", "is not a known IANA time zone")
	}
	if v := e.str("ROLLCALL_ATTENDANCE_THRESHOLD", "0"); v != "" {
		f, err := strconv.ParseFloat(v, 64)
		if err != nil || f < 0 || f > 1 {
			e.fail("ROLLCALL_ATTENDANCE_THRESHOLD", "must be a number from 0 to 1")
		}
		c.Threshold = f
	}
	if c.Cooldown < 10*time.Second || c.Cooldown > 2*time.Hour {
		e.fail("ROLLCALL_ATTENDANCE_COOLDOWN", "must be from 10s to 2h")
	}
	if c.MinSession < time.Minute || c.MinSession > 12*time.Hour {
		e.fail("ROLLCALL_ATTENDANCE_MIN_SESSION", "must be from 1m to 12h")
	}
	if c.ExportRetention < time.Hour || c.ExportRetention > 365*24*time.Hour {
		e.fail("ROLLCALL_EXPORT_RETENTION", "must be from 1h to 8760h")
	}
	if c.ExportPDFMaxRows < 100 || c.ExportPDFMaxRows > 1_000_000 {
		e.fail("ROLLCALL_EXPORT_PDF_MAX_ROWS", "must be from 100 to 1000000")
	}
	return c
}

// Location returns the attendance zone (UTC if it cannot be loaded).
func (c AttendanceConfig) Location() *time.Location {
	if loc, err := time.LoadLocation(c.Timezone); err == nil {
		return loc
	}
	return time.UTC
}
