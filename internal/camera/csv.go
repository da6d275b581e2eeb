package camera

import (
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
)

// csvColumns are the columns an import may carry; WriteCSV writes all but
// the credentials, in this order.
var csvColumns = []string{
	"name", "site", "location", "url", "direction", "fps", "timezone", "tags", "state",
	"username", "password",
}

const exportedCSVColumns = 9

// ParseCSV reads a camera list in CSV: a header row naming the columns (any
// case, any order; name and url required), then one camera per row, tags
// separated by ';' or '|'. It returns specs only when every row is valid;
// otherwise it returns an *ImportError listing every problem. Any other
// error is a read failure.
func ParseCSV(r io.Reader) ([]Spec, error) {
	data, err := readImport(r, "csv")
	if err != nil {
		return nil, err
	}
	cr := csv.NewReader(bytes.NewReader(data))
	header, err := cr.Read()
	if errors.Is(err, io.EOF) {
		return nil, fileError("no cameras in file")
	}
	if err != nil {
		return nil, fileError("invalid CSV header: %v", err)
	}
	cols, herr := csvHeader(header)
	if herr != nil {
		return nil, herr
	}

	v := newValidator()
	for {
		fields, err := cr.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if blankRow(fields) && (err == nil || errors.Is(err, csv.ErrFieldCount)) {
			continue // blank lines and spreadsheets' trailing ",,," rows
		}
		row, ok := v.next()
		if !ok {
			break
		}
		var pe *csv.ParseError
		switch {
		case errors.As(err, &pe) && errors.Is(err, csv.ErrFieldCount):
			v.fail(row, "", "has %d fields but the header has %d", len(fields), len(header))
		case errors.As(err, &pe):
			v.fail(row, "", "invalid CSV at line %d, column %d: %v", pe.Line, pe.Column, pe.Err)
		case err != nil:
			return nil, fmt.Errorf("camera: read csv import: %w", err)
		default:
			v.check(row, csvRecord(v, row, cols, fields))
		}
	}
	return v.result()
}

// csvHeader maps each known column to its index in header.
func csvHeader(header []string) (map[string]int, *ImportError) {
	v := newValidator()
	cols := make(map[string]int, len(header))
	for i, h := range header {
		name := strings.ToLower(strings.TrimSpace(h))
		_, seen := cols[name]
		switch {
		case name == "":
			v.fail(0, "", "header column %d has no name", i+1)
		case !isCSVColumn(name):
			v.fail(0, strings.TrimSpace(h), "is not a known column (known: %s)", strings.Join(csvColumns, ", "))
		case seen:
			v.fail(0, name, "column appears twice")
		default:
			cols[name] = i
		}
	}
	for _, required := range []string{"name", "url"} {
		if _, ok := cols[required]; !ok {
			v.fail(0, required, "column is missing")
		}
	}
	if len(v.errs) > 0 {
		return nil, &ImportError{Errors: v.errs}
	}
	return cols, nil
}

func isCSVColumn(name string) bool {
	for _, c := range csvColumns {
		if c == name {
			return true
		}
	}
	return false
}

// csvRecord builds the record of one row; an unreadable fps is reported to v
// and left to default.
func csvRecord(v *validator, row int, cols map[string]int, fields []string) Record {
	cell := func(col string) string {
		if i, ok := cols[col]; ok {
			return fields[i]
		}
		return ""
	}
	text := func(col string) string { return unescapeCell(cell(col)) }
	rec := Record{
		Name:      text("name"),
		Site:      text("site"),
		Location:  text("location"),
		URL:       text("url"),
		Direction: text("direction"),
		Timezone:  text("timezone"),
		State:     text("state"),
		Tags: strings.FieldsFunc(text("tags"), func(r rune) bool {
			return r == ';' || r == '|'
		}),
		// Credentials are never exported, so never escaped: take them as written.
		Username: cell("username"),
		Password: cell("password"),
	}
	if fps := strings.TrimSpace(text("fps")); fps != "" {
		f, err := strconv.ParseFloat(fps, 64)
		if err != nil {
			v.fail(row, "fps", "must be a number, such as 1 or 2.5")
		} else {
			rec.FPS = f
		}
	}
	return rec
}

func blankRow(fields []string) bool {
	for _, f := range fields {
		if strings.TrimSpace(f) != "" {
			return false
		}
	}
	return true
}

// WriteCSV writes recs as CSV with a header row, without credentials. A cell
// that a spreadsheet would run as a formula is prefixed with a quote, which
// ParseCSV removes.
func WriteCSV(w io.Writer, recs []Record) error {
	cw := csv.NewWriter(w)
	if err := cw.Write(csvColumns[:exportedCSVColumns]); err != nil {
		return fmt.Errorf("camera: write csv: %w", err)
	}
	for _, r := range recs {
		e := r.exported()
		row := []string{
			e.Name, e.Site, e.Location, e.URL, e.Direction,
			strconv.FormatFloat(e.FPS, 'f', -1, 64),
			e.Timezone, strings.Join(e.Tags, ";"), e.State,
		}
		for i := range row {
			row[i] = escapeCell(row[i])
		}
		if err := cw.Write(row); err != nil {
			return fmt.Errorf("camera: write csv: %w", err)
		}
	}
	cw.Flush()
	if err := cw.Error(); err != nil {
		return fmt.Errorf("camera: write csv: %w", err)
	}
	return nil
}

// startsFormula reports whether a spreadsheet would treat s as a formula.
func startsFormula(s string) bool {
	return s != "" && strings.IndexByte("=+-@\t\r", s[0]) >= 0
}

// escapeCell prefixes s with a quote when, past any quotes it already starts
// with, it would start a formula; the extra case keeps "'=x" round-tripping.
func escapeCell(s string) string {
	if startsFormula(strings.TrimLeft(s, "'")) {
		return "'" + s
	}
	return s
}

// unescapeCell undoes escapeCell.
func unescapeCell(s string) string {
	if strings.HasPrefix(s, "'") && startsFormula(strings.TrimLeft(s, "'")) {
		return s[1:]
	}
	return s
}
