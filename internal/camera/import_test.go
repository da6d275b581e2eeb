package camera

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"reflect"
	"slices"
	"strings"
	"testing"
	"testing/iotest"
)

type codec struct {
	name  string
	write func(io.Writer, []Record) error
	parse func(io.Reader) ([]Spec, error)
}

// codecs lets a scenario run against both formats.
func codecs() []codec {
	return []codec{{"csv", WriteCSV, ParseCSV}, {"json", WriteJSON, ParseJSON}}
}

func TestRoundTrip(t *testing.T) {
	specs := []Spec{
		{Name: "Front door", URL: "rtsp://10.0.0.5:554/live"},
		{
			Name: "Caméra 入口 🚪", Site: "Zürich HQ", Location: `Hall, "B" wing; 2nd floor`,
			URL: "rtsps://cam-2.example.com/stream?channel=1&subtype=0", Direction: "entry",
			FPS: 2.5, Timezone: "Europe/Zurich", Tags: []string{"Lobby", "night shift", "入口"}, State: "active",
		},
		{Name: `=HYPERLINK("http://evil.example","click")`, URL: "rtsp://h/a", FPS: 0.1, State: "maintenance"},
		{Name: "+1 desk", Site: "-basement", Location: "@reception", URL: "rtsp://h/b", Tags: []string{"-x", "=y"}, FPS: 30},
		{Name: "'=already quoted", Location: "'plain quote", URL: "rtsp://h/c", Direction: "exit"},
		{Name: "With secret", URL: "rtsp://admin:hunter2@h/d", Timezone: "America/New_York"},
	}
	want := make([]Spec, len(specs))
	recs := make([]Record, len(specs))
	for i, s := range specs {
		if errs := s.Normalize(); len(errs) > 0 {
			t.Fatalf("spec %d: %v", i, errs)
		}
		recs[i] = RecordOf(s)
		s.Username, s.Password = "", ""
		want[i] = s
	}
	for _, f := range codecs() {
		t.Run(f.name, func(t *testing.T) {
			var buf bytes.Buffer
			if err := f.write(&buf, recs); err != nil {
				t.Fatalf("write: %v", err)
			}
			if strings.Contains(buf.String(), "hunter2") || strings.Contains(buf.String(), "admin") {
				t.Errorf("export holds credentials:\n%s", buf.String())
			}
			got, err := f.parse(&buf)
			if err != nil {
				t.Fatalf("parse: %v", err)
			}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("round trip:\ngot  %+v\nwant %+v", got, want)
			}
		})
	}
}

func TestExportNeverWritesCredentials(t *testing.T) {
	recs := []Record{{
		Name: "a", URL: "rtsp://admin:s3cr3t@h/x", Username: "admin", Password: "s3cr3t",
		Direction: "both", FPS: 1, Timezone: "UTC", State: "active",
	}}
	for _, f := range codecs() {
		t.Run(f.name, func(t *testing.T) {
			var buf bytes.Buffer
			if err := f.write(&buf, recs); err != nil {
				t.Fatalf("write: %v", err)
			}
			out := buf.String()
			if strings.Contains(out, "s3cr3t") || strings.Contains(out, "admin") || strings.Contains(out, "password") {
				t.Errorf("export holds credentials:\n%s", out)
			}
			if !strings.Contains(out, "rtsp://h/x") {
				t.Errorf("export lost the URL:\n%s", out)
			}
		})
	}
}

func TestExportReportsWriteFailure(t *testing.T) {
	cause := errors.New("disk full")
	for _, f := range codecs() {
		t.Run(f.name, func(t *testing.T) {
			err := f.write(failingWriter{cause}, []Record{{Name: "a", URL: "rtsp://h/a"}})
			if !errors.Is(err, cause) {
				t.Errorf("got %v: want the write error, wrapped", err)
			}
		})
	}
}

type failingWriter struct{ err error }

func (w failingWriter) Write([]byte) (int, error) { return 0, w.err }

func TestImportEmpty(t *testing.T) {
	tests := []struct {
		format, in string
	}{
		{"csv", ""},
		{"csv", "\n\n"},
		{"csv", "name,url\n"},
		{"csv", "\uFEFFName,URL\r\n\r\n,\r\n"},
		{"json", ""},
		{"json", "  \n"},
		{"json", "[]"},
		{"json", `{"cameras": []}`},
		{"json", `{}`},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%s %q", tt.format, tt.in), func(t *testing.T) {
			parse := ParseCSV
			if tt.format == "json" {
				parse = ParseJSON
			}
			specs, err := parse(strings.NewReader(tt.in))
			errs := mustImportErrors(t, specs, err)
			if len(errs) != 1 || errs[0].Row != 0 || errs[0].Message != "no cameras in file" {
				t.Errorf("errors %v: want only %q", errs, "no cameras in file")
			}
		})
	}
}

func TestImportRowLimit(t *testing.T) {
	for _, f := range codecs() {
		t.Run(f.name, func(t *testing.T) {
			if specs, err := f.parse(cameraFile(t, f.write, MaxImportRows)); err != nil || len(specs) != MaxImportRows {
				t.Fatalf("%d rows: got %d specs, error %v", MaxImportRows, len(specs), err)
			}
			specs, err := f.parse(cameraFile(t, f.write, MaxImportRows+1))
			errs := mustImportErrors(t, specs, err)
			if len(errs) != 1 || !strings.Contains(errs[0].Message, "more than 1000 cameras") {
				t.Errorf("errors %v: want one saying the file has too many cameras", errs)
			}
		})
	}
}

func TestImportSizeLimit(t *testing.T) {
	for _, f := range codecs() {
		t.Run(f.name, func(t *testing.T) {
			data := cameraFile(t, f.write, 1).Bytes()
			// Trailing blank lines (CSV) and white space (JSON) are ignored,
			// so padding reaches the limit without changing the content.
			padded := append(data, bytes.Repeat([]byte("\n"), MaxImportBytes-len(data))...)
			if specs, err := f.parse(bytes.NewReader(padded)); err != nil || len(specs) != 1 {
				t.Fatalf("file of exactly %d bytes: got %d specs, error %v", MaxImportBytes, len(specs), err)
			}
			specs, err := f.parse(bytes.NewReader(append(padded, '\n')))
			errs := mustImportErrors(t, specs, err)
			if len(errs) != 1 || !strings.Contains(errs[0].Message, "larger than") {
				t.Errorf("errors %v: want one saying the file is too large", errs)
			}
		})
	}
}

func TestImportReadFailureIsNotAnImportError(t *testing.T) {
	cause := errors.New("connection reset")
	for _, f := range codecs() {
		t.Run(f.name, func(t *testing.T) {
			specs, err := f.parse(iotest.ErrReader(cause))
			var ie *ImportError
			if specs != nil || !errors.Is(err, cause) || errors.As(err, &ie) {
				t.Errorf("got %v, %v: want the read error, wrapped", specs, err)
			}
		})
	}
}

func TestImportErrorListIsCapped(t *testing.T) {
	var b strings.Builder
	b.WriteString("name,url\n")
	for i := range 150 {
		fmt.Fprintf(&b, "cam %d,http://h/%d\n", i, i)
	}
	specs, err := ParseCSV(strings.NewReader(b.String()))
	errs := mustImportErrors(t, specs, err)
	var ie *ImportError
	errors.As(err, &ie)
	if len(errs) != MaxImportErrors || ie.Omitted != 150-MaxImportErrors {
		t.Errorf("got %d errors, %d omitted: want %d and %d", len(errs), ie.Omitted, MaxImportErrors, 150-MaxImportErrors)
	}
	if errs[99].Row != 100 || !strings.HasSuffix(err.Error(), "and 50 more") {
		t.Errorf("last listed %v, message ends %q", errs[99], err.Error()[len(err.Error())-20:])
	}
}

// cameraFile writes n valid cameras with distinct names.
func cameraFile(tb testing.TB, write func(io.Writer, []Record) error, n int) *bytes.Buffer {
	tb.Helper()
	recs := make([]Record, n)
	for i := range recs {
		recs[i] = Record{Name: fmt.Sprintf("cam %04d", i), URL: fmt.Sprintf("rtsp://10.0.%d.%d/live", i/250, i%250+1)}
	}
	var buf bytes.Buffer
	if err := write(&buf, recs); err != nil {
		tb.Fatalf("write: %v", err)
	}
	return &buf
}

// mustImportErrors checks that a parse returned no specs and an
// *ImportError, and returns its errors.
func mustImportErrors(tb testing.TB, specs []Spec, err error) []RowError {
	tb.Helper()
	if specs != nil {
		tb.Errorf("got %d specs alongside errors: want none", len(specs))
	}
	var ie *ImportError
	if !errors.As(err, &ie) {
		tb.Fatalf("error %v (%T): want *ImportError", err, err)
	}
	return ie.Errors
}

// at is where a RowError points.
type at struct {
	Row   int
	Field string
}

// mustErrorsAt checks that a parse failed with errors at exactly want.
func mustErrorsAt(tb testing.TB, specs []Spec, err error, want []at) []RowError {
	tb.Helper()
	errs := mustImportErrors(tb, specs, err)
	got := make([]at, len(errs))
	for i, e := range errs {
		got[i] = at{e.Row, e.Field}
	}
	if !reflect.DeepEqual(got, want) {
		tb.Errorf("errors at %v: want %v\n%v", got, want, err)
	}
	return errs
}

// RecordOf returns the export record of s, without its credentials.
func RecordOf(s Spec) Record {
	return Record{
		Name:      s.Name,
		Site:      s.Site,
		Location:  s.Location,
		URL:       s.URL,
		Direction: s.Direction,
		FPS:       s.FPS,
		Timezone:  s.Timezone,
		Tags:      slices.Clone(s.Tags),
		State:     s.State,
	}
}
