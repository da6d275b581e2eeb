package export

import (
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/xuri/excelize/v2"
)

const xlsxSheet = "Report"

type xlsxWriter struct {
	out       io.Writer
	f         *excelize.File
	sw        *excelize.StreamWriter
	meta      Meta
	row       int
	cells     []any
	dateStyle int
	boldStyle int
}

// NewXLSX returns an XLSX writer: one sheet with the column titles in a
// frozen first row, typed cells (numbers as numbers, times as dates in the
// report's zone) and the title and filters as document properties. Rows go
// through excelize's StreamWriter, which spills to a temporary file past a
// few megabytes, so memory stays flat whatever the row count.
func NewXLSX(w io.Writer, cols []Column, m Meta) (Writer, error) {
	f := excelize.NewFile()
	if err := f.SetSheetName("Sheet1", xlsxSheet); err != nil {
		return nil, fmt.Errorf("export: xlsx: %w", err)
	}
	x := &xlsxWriter{out: w, f: f, meta: m, row: 1}
	var err error
	if x.dateStyle, err = f.NewStyle(&excelize.Style{NumFmt: 22}); err != nil { // m/d/yy h:mm
		return nil, fmt.Errorf("export: xlsx: %w", err)
	}
	if x.boldStyle, err = f.NewStyle(&excelize.Style{Font: &excelize.Font{Bold: true}}); err != nil {
		return nil, fmt.Errorf("export: xlsx: %w", err)
	}
	if err := f.SetDocProps(&excelize.DocProperties{
		Title: m.Title, Description: strings.Join(m.Filters, "; "), Creator: "Rollcall",
		Created: m.Created.UTC().Format(time.RFC3339),
	}); err != nil {
		return nil, fmt.Errorf("export: xlsx: %w", err)
	}
	if x.sw, err = f.NewStreamWriter(xlsxSheet); err != nil {
		return nil, fmt.Errorf("export: xlsx: %w", err)
	}
	for i, c := range cols {
		if c.Width > 0 {
			if err := x.sw.SetColWidth(i+1, i+1, c.Width); err != nil {
				return nil, fmt.Errorf("export: xlsx: %w", err)
			}
		}
	}
	if err := x.sw.SetPanes(&excelize.Panes{Freeze: true, YSplit: 1, TopLeftCell: "A2", ActivePane: "bottomLeft"}); err != nil {
		return nil, fmt.Errorf("export: xlsx: %w", err)
	}
	head := make([]any, len(cols))
	for i, c := range cols {
		head[i] = excelize.Cell{StyleID: x.boldStyle, Value: c.Title}
	}
	if err := x.write(head); err != nil {
		return nil, err
	}
	return x, nil
}

func (x *xlsxWriter) write(cells []any) error {
	cell, err := excelize.CoordinatesToCellName(1, x.row)
	if err != nil {
		return fmt.Errorf("export: xlsx: %w", err)
	}
	if err := x.sw.SetRow(cell, cells); err != nil {
		return fmt.Errorf("export: xlsx: row %d: %w", x.row, err)
	}
	x.row++
	return nil
}

func (x *xlsxWriter) Row(cells []any) error {
	x.cells = x.cells[:0]
	for _, v := range cells {
		switch t := v.(type) {
		case time.Time:
			if t.IsZero() {
				x.cells = append(x.cells, nil)
				continue
			}
			// Excel has no zones: write the wall clock of the report's zone.
			lt := t.In(x.meta.Location)
			wall := time.Date(lt.Year(), lt.Month(), lt.Day(), lt.Hour(), lt.Minute(), lt.Second(), 0, time.UTC)
			x.cells = append(x.cells, excelize.Cell{StyleID: x.dateStyle, Value: wall})
		case string, int, int64, float64, bool, nil:
			x.cells = append(x.cells, v)
		default:
			x.cells = append(x.cells, text(v, x.meta.Location))
		}
	}
	return x.write(x.cells)
}

func (x *xlsxWriter) Close(totals []any) error {
	defer x.f.Close()
	if totals != nil {
		row := make([]any, len(totals))
		for i, v := range totals {
			row[i] = excelize.Cell{StyleID: x.boldStyle, Value: v}
		}
		if err := x.write(row); err != nil {
			return err
		}
	}
	if err := x.sw.Flush(); err != nil {
		return fmt.Errorf("export: xlsx: %w", err)
	}
	if err := x.f.Write(x.out); err != nil {
		return fmt.Errorf("export: xlsx: %w", err)
	}
	return nil
}
