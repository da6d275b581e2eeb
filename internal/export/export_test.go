package export

import (
	"bytes"
	"encoding/csv"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"
)

var (
	testCols = []Column{{Title: "Employee", Width: 14}, {Title: "Name", Width: 30}, {Title: "Check-in", Width: 20}, {Title: "Worked (h)", Width: 10}}
	names    = []string{"Nguyễn Thị Hương", "محمد عبد الله", "François Müller-Øster", "=HYPERLINK(\"http://evil\")", "Đặng Văn Lâm"}
	hcm, _   = time.LoadLocation("Asia/Ho_Chi_Minh")
	testMeta = Meta{Title: "Attendance records", Filters: []string{"Dates: 2026-12-01 to 2026-12-03", "Department: Ops"},
		Created: time.Date(2026, 12, 3, 9, 0, 0, 0, time.UTC), Location: hcm}
)

// testRows returns n rows cycling through names that need Unicode and one
// that a spreadsheet would run as a formula.
func testRows(n int) [][]any {
	rows := make([][]any, n)
	for i := range rows {
		rows[i] = []any{fmt.Sprintf("E-%05d", i), names[i%len(names)],
			time.Date(2026, 12, 3, 1, i%60, 0, 0, time.UTC), float64(i%9) + 0.5}
	}
	return rows
}

func mustWrite(t *testing.T, format string, rows [][]any, totals []any) []byte {
	t.Helper()
	var buf bytes.Buffer
	w, err := New(format, &buf, testCols, testMeta)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range rows {
		if err := w.Row(r); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(totals); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestCSVReadsBackSafely(t *testing.T) {
	rows := testRows(10)
	out := mustWrite(t, FormatCSV, rows, []any{"Total", "", nil, 45.0})
	if !bytes.HasPrefix(out, []byte("\ufeff")) {
		t.Fatal("no byte-order mark: spreadsheet programs would misread the names")
	}
	got, err := csv.NewReader(bytes.NewReader(bytes.TrimPrefix(out, []byte("\ufeff")))).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1+len(rows)+1 || strings.Join(got[0], ",") != "Employee,Name,Check-in,Worked (h)" {
		t.Fatalf("got %d lines, header %v", len(got), got[0])
	}
	for i, r := range rows {
		line := got[i+1]
		want := r[1].(string)
		if strings.HasPrefix(want, "=") {
			want = "'" + want
		}
		if line[0] != r[0] || line[1] != want || line[2] != r[2].(time.Time).In(hcm).Format("2006-01-02 15:04:05") {
			t.Fatalf("row %d = %q, want %v (name %q)", i, line, r, want)
		}
	}
	if last := got[len(got)-1]; last[0] != "Total" || last[3] != "45.00" {
		t.Fatalf("totals line %q", last)
	}
}

func TestSafeCell(t *testing.T) {
	for in, want := range map[string]string{"=1+1": "'=1+1", "+1": "'+1", "-2": "'-2", "@SUM(A1)": "'@SUM(A1)", "\tx": "'\tx", "Hương": "Hương", "": ""} {
		if got := SafeCell(in); got != want {
			t.Errorf("SafeCell(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestXLSXReadsBack(t *testing.T) {
	rows := testRows(300)
	out := mustWrite(t, FormatXLSX, rows, []any{"Total", "", nil, 1234.5})
	f, err := excelize.OpenReader(bytes.NewReader(out))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	got, err := f.GetRows(xlsxSheet)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1+len(rows)+1 || got[0][1] != "Name" {
		t.Fatalf("got %d rows, header %v", len(got), got[0])
	}
	for i, r := range rows {
		if got[i+1][0] != r[0] || got[i+1][1] != r[1] {
			t.Fatalf("row %d = %q, want %v", i, got[i+1], r)
		}
	}
	// Times are dates in the report's zone, numbers are numbers.
	v, err := f.GetCellValue(xlsxSheet, "C2", excelize.Options{RawCellValue: true})
	if err != nil || v == "" || strings.Contains(v, "-") {
		t.Fatalf("C2 raw value %q (%v), want an Excel date serial", v, err)
	}
	typ, _ := f.GetCellType(xlsxSheet, "D2")
	if typ != excelize.CellTypeNumber && typ != excelize.CellTypeUnset {
		t.Fatalf("D2 is %v, want a number", typ)
	}
	c2 := rows[0][2].(time.Time).In(hcm)
	if shown, _ := f.GetCellValue(xlsxSheet, "C2"); !strings.Contains(shown, fmt.Sprintf("%d:%02d", c2.Hour(), c2.Minute())) {
		t.Fatalf("C2 shows %q, want the Ho Chi Minh City wall clock %s", shown, c2.Format("15:04"))
	}
	props, _ := f.GetDocProps()
	if props.Title != testMeta.Title || !strings.Contains(props.Description, "Department: Ops") {
		t.Fatalf("properties %+v", props)
	}
}

// TestPDFText extracts the text of a several-page PDF with pdftotext (a
// real reader) and finds every name, the column titles on every page, the
// filter summary, the totals and the page numbers.
func TestPDFText(t *testing.T) {
	if _, err := exec.LookPath("pdftotext"); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("pdftotext (poppler-utils) is missing: deploy/stack.sh install adds it")
		}
		t.Skip("pdftotext (poppler-utils) is not installed")
	}
	rows := testRows(120)
	out := mustWrite(t, FormatPDF, rows, []any{"Total", "", nil, 540.0})
	path := filepath.Join(t.TempDir(), "r.pdf")
	if err := os.WriteFile(path, out, 0o600); err != nil {
		t.Fatal(err)
	}
	page := func(n int) string {
		b, err := exec.Command("pdftotext", "-enc", "UTF-8", "-f", fmt.Sprint(n), "-l", fmt.Sprint(n), path, "-").Output()
		if err != nil {
			t.Fatalf("pdftotext page %d: %v", n, err)
		}
		return string(b)
	}
	all, err := exec.Command("pdftotext", "-enc", "UTF-8", path, "-").Output()
	if err != nil {
		t.Fatal(err)
	}
	text := string(all)
	pages := strings.Count(text, "\f")
	if pages < 3 {
		t.Fatalf("120 rows on %d pages, want several", pages)
	}
	for _, want := range []string{"Attendance records", "Department: Ops", "Nguyễn Thị Hương", "François Müller-Øster", "Đặng Văn Lâm", "Total", "540.00", "E-00119"} {
		if !strings.Contains(text, want) {
			t.Errorf("PDF text lacks %q", want)
		}
	}
	for _, r := range "محمدعبدالله" {
		if !strings.ContainsRune(text, r) && !strings.ContainsRune(text, arabicIsolated[r]) {
			t.Errorf("PDF text lacks the Arabic letter %q", r)
		}
	}
	if strings.ContainsAny(text, "?\ufffd") {
		t.Error("PDF text has question marks or replacement characters: a name did not render")
	}
	for n := 1; n <= pages; n++ {
		p := page(n)
		if !strings.Contains(p, "Employee") || !strings.Contains(p, fmt.Sprintf("page %d of %d", n, pages)) {
			t.Fatalf("page %d lacks the column titles or its number:\n%s", n, p)
		}
	}
}

// arabicIsolated maps the letters used above to their isolated
// presentation forms, which a reader may report instead.
var arabicIsolated = map[rune]rune{'م': 'ﻡ', 'ح': 'ﺡ', 'د': 'ﺩ', 'ع': 'ﻉ', 'ب': 'ﺏ', 'ا': 'ﺍ', 'ل': 'ﻝ', 'ه': 'ﻩ'}
