// Package export writes tabular reports - attendance records and logs - as
// CSV, XLSX or PDF, row by row, so a report of any length streams from the
// database to the object store without being held in memory (PDF excepted:
// see NewPDF).
package export

import (
	"fmt"
	"io"
	"time"
)

// Formats of a report.
const (
	FormatCSV  = "csv"
	FormatXLSX = "xlsx"
	FormatPDF  = "pdf"
)

// Formats lists the accepted formats.
var Formats = []string{FormatCSV, FormatXLSX, FormatPDF}

// ContentType returns the media type of a format.
func ContentType(format string) string {
	switch format {
	case FormatCSV:
		return "text/csv; charset=utf-8"
	case FormatXLSX:
		return "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
	case FormatPDF:
		return "application/pdf"
	}
	return "application/octet-stream"
}

// Column describes one column of a report.
type Column struct {
	Title string
	// Width is the column's share of a PDF page's width (any unit; the
	// shares are scaled to fit) and, in XLSX, its width in characters.
	Width float64
}

// Meta is what a report says about itself: a title, the filters it was made
// with (one line each, shown in PDF and as XLSX document properties), and
// when it was made.
type Meta struct {
	Title   string
	Filters []string
	Created time.Time
	// Location is the zone times are shown in (default UTC).
	Location *time.Location
}

// Writer writes a report: the columns once, then rows, then Close, which
// adds the totals (a closing line of the report) and completes the file. A
// row's cells are string, int, int64, float64, bool, time.Time or nil;
// other types are written with fmt's %v.
type Writer interface {
	Row(cells []any) error
	// Close finishes the report with totals (nil: none) and flushes it to
	// the underlying writer; the caller closes that.
	Close(totals []any) error
}

// New returns a writer of format to w.
func New(format string, w io.Writer, cols []Column, m Meta) (Writer, error) {
	if m.Location == nil {
		m.Location = time.UTC
	}
	switch format {
	case FormatCSV:
		return NewCSV(w, cols, m)
	case FormatXLSX:
		return NewXLSX(w, cols, m)
	case FormatPDF:
		return NewPDF(w, cols, m)
	}
	return nil, fmt.Errorf("export: unknown format %q", format)
}

// text is a cell as report text.
func text(v any, loc *time.Location) string {
	switch x := v.(type) {
	case nil:
		return ""
	case string:
		return x
	case time.Time:
		if x.IsZero() {
			return ""
		}
		return x.In(loc).Format("2006-01-02 15:04:05")
	case float64:
		return fmt.Sprintf("%.2f", x)
	case bool:
		if x {
			return "yes"
		}
		return "no"
	}
	return fmt.Sprint(v)
}
