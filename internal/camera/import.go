package camera

import (
	"bytes"
	"fmt"
	"io"
	"strconv"
	"strings"
)

// Limits of an import file.
const (
	MaxImportRows   = 1000
	MaxImportBytes  = 1 << 20
	MaxImportErrors = 100 // ImportError lists at most this many problems
)

// RowError is one problem in an import file. Row is the 1-based data row
// (the CSV header is not counted; a JSON element at index i is row i+1);
// row 0 is the file as a whole, or the CSV header. Field is the column or
// JSON name at fault, empty when the whole row is.
type RowError struct {
	Row     int    `json:"row"`
	Field   string `json:"field,omitempty"`
	Message string `json:"message"`
}

func (e RowError) Error() string {
	var b strings.Builder
	if e.Row > 0 {
		b.WriteString("row " + strconv.Itoa(e.Row) + ": ")
	}
	if e.Field != "" {
		b.WriteString(e.Field + " ")
	}
	b.WriteString(e.Message)
	return b.String()
}

// ImportError lists the problems of a rejected import file, in row order.
// Errors holds at most MaxImportErrors of them; Omitted counts the rest.
type ImportError struct {
	Errors  []RowError
	Omitted int
}

func (e *ImportError) Error() string {
	msgs := make([]string, len(e.Errors))
	for i, re := range e.Errors {
		msgs[i] = re.Error()
	}
	s := "camera import: " + strings.Join(msgs, "; ")
	if e.Omitted > 0 {
		s += fmt.Sprintf("; and %d more", e.Omitted)
	}
	return s
}

// fileError is an ImportError about the file as a whole.
func fileError(format string, args ...any) *ImportError {
	return &ImportError{Errors: []RowError{{Message: fmt.Sprintf(format, args...)}}}
}

// readImport reads a whole import file, at most MaxImportBytes of it, and
// drops a leading UTF-8 byte order mark. A file too large is an
// *ImportError; a read failure is returned wrapped.
func readImport(r io.Reader, format string) ([]byte, error) {
	data, err := io.ReadAll(io.LimitReader(r, MaxImportBytes+1))
	if err != nil {
		return nil, fmt.Errorf("camera: read %s import: %w", format, err)
	}
	if len(data) > MaxImportBytes {
		return nil, fileError("file is larger than %d bytes", MaxImportBytes)
	}
	return bytes.TrimPrefix(data, []byte("\uFEFF")), nil
}

// validator normalizes rows as a parser reads them and gathers every problem.
type validator struct {
	specs    []Spec
	errs     []RowError
	rows     int
	tooMany  bool
	firstRow map[string]int // case-folded name → first row that used it
}

func newValidator() *validator {
	return &validator{firstRow: map[string]int{}}
}

// next counts a data row and returns its number; ok is false once the file
// has more than MaxImportRows rows, and reading should stop.
func (v *validator) next() (row int, ok bool) {
	v.rows++
	if v.rows > MaxImportRows {
		v.tooMany = true
		return v.rows, false
	}
	return v.rows, true
}

func (v *validator) fail(row int, field, format string, args ...any) {
	v.errs = append(v.errs, RowError{Row: row, Field: field, Message: fmt.Sprintf(format, args...)})
}

// check normalizes rec, read from row, and records its problems.
func (v *validator) check(row int, rec Record) {
	s := rec.Spec()
	for _, fe := range s.Normalize() {
		v.fail(row, fe.Field, "%s", fe.Message)
	}
	if s.Name != "" {
		// Upper then lower folds the likes of "ſ" and "S" together, as strings.EqualFold does.
		key := strings.ToLower(strings.ToUpper(s.Name))
		if first, ok := v.firstRow[key]; ok {
			v.fail(row, "name", "duplicates the name in row %d", first)
		} else {
			v.firstRow[key] = row
		}
	}
	v.specs = append(v.specs, s)
}

// result returns the specs when no row had a problem, else an *ImportError.
func (v *validator) result() ([]Spec, error) {
	if v.tooMany {
		return nil, fileError("file has more than %d cameras; split it into several files", MaxImportRows)
	}
	if len(v.errs) > 0 {
		ie := &ImportError{Errors: v.errs}
		if len(ie.Errors) > MaxImportErrors {
			ie.Omitted = len(ie.Errors) - MaxImportErrors
			ie.Errors = ie.Errors[:MaxImportErrors:MaxImportErrors]
		}
		return nil, ie
	}
	if v.rows == 0 {
		return nil, fileError("no cameras in file")
	}
	return v.specs, nil
}
