package export

import (
	"bufio"
	"encoding/csv"
	"fmt"
	"io"
	"strings"
)

type csvWriter struct {
	buf  *bufio.Writer
	w    *csv.Writer
	meta Meta
	row  []string
}

// NewCSV returns a CSV writer (RFC 4180, UTF-8 with a byte-order mark so
// spreadsheet programs read names right). Text cells that a spreadsheet
// would run as a formula are neutralised (see SafeCell).
func NewCSV(w io.Writer, cols []Column, m Meta) (Writer, error) {
	buf := bufio.NewWriterSize(w, 64<<10)
	if _, err := buf.WriteString("\ufeff"); err != nil {
		return nil, fmt.Errorf("export: csv: %w", err)
	}
	c := &csvWriter{buf: buf, w: csv.NewWriter(buf), meta: m}
	head := make([]string, len(cols))
	for i, col := range cols {
		head[i] = SafeCell(col.Title)
	}
	if err := c.w.Write(head); err != nil {
		return nil, fmt.Errorf("export: csv: %w", err)
	}
	return c, nil
}

func (c *csvWriter) Row(cells []any) error {
	c.row = c.row[:0]
	for _, v := range cells {
		s := text(v, c.meta.Location)
		if _, isText := v.(string); isText {
			s = SafeCell(s)
		}
		c.row = append(c.row, s)
	}
	if err := c.w.Write(c.row); err != nil {
		return fmt.Errorf("export: csv: %w", err)
	}
	return nil
}

func (c *csvWriter) Close(totals []any) error {
	if totals != nil {
		if err := c.Row(totals); err != nil {
			return err
		}
	}
	c.w.Flush()
	if err := c.w.Error(); err != nil {
		return fmt.Errorf("export: csv: %w", err)
	}
	if err := c.buf.Flush(); err != nil {
		return fmt.Errorf("export: csv: %w", err)
	}
	return nil
}

// SafeCell neutralises a text cell a spreadsheet would evaluate (CSV
// injection): one starting with =, +, -, @, a tab or a carriage return gets
// a leading apostrophe, as OWASP recommends. Numbers are written as numbers
// by the writers and never pass here.
func SafeCell(s string) string {
	if s == "" {
		return s
	}
	if strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}
