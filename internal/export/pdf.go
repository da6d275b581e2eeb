package export

import (
	_ "embed"
	"fmt"
	"io"
	"strings"

	"codeberg.org/go-pdf/fpdf"
)

// DejaVu Sans Condensed covers Latin with every Vietnamese and European
// accent, Greek, Cyrillic, Arabic and Hebrew letters (Bitstream Vera
// licence, fonts/LICENSE).
var (
	//go:embed fonts/DejaVuSansCondensed.ttf
	fontRegular []byte
	//go:embed fonts/DejaVuSansCondensed-Bold.ttf
	fontBold []byte
)

const (
	pdfFont     = "dejavu"
	pdfFontSize = 8.0
	pdfLineH    = 5.0
	pdfMargin   = 10.0
)

type pdfWriter struct {
	out    io.Writer
	pdf    *fpdf.Fpdf
	meta   Meta
	cols   []Column
	widths []float64
	rows   int
}

// NewPDF returns a PDF writer: an A4 landscape table with the title and
// the filter summary on the first page, the column titles repeated at the
// top of every page, a bold totals line, and "page N of M" at the foot.
// The font is embedded, so every name renders (scripts that need shaping,
// such as Arabic, show their letters unjoined). A PDF is assembled in
// memory (about 60 bytes a row, compressed when written): for very long
// reports CSV and XLSX are the formats that stream.
func NewPDF(w io.Writer, cols []Column, m Meta) (Writer, error) {
	pdf := fpdf.New("L", "mm", "A4", "")
	pdf.SetCompression(true)
	pdf.SetCreator("Rollcall", true)
	pdf.SetTitle(m.Title, true)
	pdf.AddUTF8FontFromBytes(pdfFont, "", fontRegular)
	pdf.AddUTF8FontFromBytes(pdfFont, "B", fontBold)
	if err := pdf.Error(); err != nil {
		return nil, fmt.Errorf("export: pdf: font: %w", err)
	}
	pdf.SetMargins(pdfMargin, pdfMargin, pdfMargin)
	pdf.SetAutoPageBreak(true, pdfMargin+5)
	pdf.AliasNbPages("{nb}")
	p := &pdfWriter{out: w, pdf: pdf, meta: m, cols: cols}
	pageW, _ := pdf.GetPageSize()
	usable := pageW - 2*pdfMargin
	var total float64
	for _, c := range cols {
		total += max(c.Width, 1)
	}
	for _, c := range cols {
		p.widths = append(p.widths, usable*max(c.Width, 1)/total)
	}
	pdf.SetHeaderFunc(p.header)
	pdf.SetFooterFunc(func() {
		pdf.SetY(-pdfMargin - 2)
		pdf.SetFont(pdfFont, "", 7)
		pdf.CellFormat(0, 4, fmt.Sprintf("%s · page %d of {nb}", m.Title, pdf.PageNo()), "", 0, "C", false, 0, "")
	})
	pdf.AddPage()
	return p, nil
}

// header writes, on the first page, the title and filters, and on every
// page the column titles.
func (p *pdfWriter) header() {
	pdf := p.pdf
	if pdf.PageNo() == 1 {
		pdf.SetFont(pdfFont, "B", 14)
		pdf.CellFormat(0, 8, p.meta.Title, "", 1, "L", false, 0, "")
		pdf.SetFont(pdfFont, "", 8)
		line := "Generated " + p.meta.Created.In(p.meta.Location).Format("2006-01-02 15:04 MST")
		pdf.CellFormat(0, 4.5, line, "", 1, "L", false, 0, "")
		for _, f := range p.meta.Filters {
			pdf.CellFormat(0, 4.5, f, "", 1, "L", false, 0, "")
		}
		pdf.Ln(2)
	}
	pdf.SetFont(pdfFont, "B", pdfFontSize)
	pdf.SetFillColor(230, 230, 230)
	for i, c := range p.cols {
		pdf.CellFormat(p.widths[i], pdfLineH+1, p.fit(c.Title, p.widths[i]), "1", 0, "L", true, 0, "")
	}
	pdf.Ln(-1)
	pdf.SetFont(pdfFont, "", pdfFontSize)
}

// fit shortens s with an ellipsis to fit a column of width w.
func (p *pdfWriter) fit(s string, w float64) string {
	s = strings.ReplaceAll(s, "\n", " ")
	limit := w - 2*p.pdf.GetCellMargin()
	if p.pdf.GetStringWidth(s) <= limit {
		return s
	}
	r := []rune(s)
	for len(r) > 0 && p.pdf.GetStringWidth(string(r)+"…") > limit {
		r = r[:len(r)-1]
	}
	return string(r) + "…"
}

func (p *pdfWriter) line(cells []any, style string) {
	p.pdf.SetFont(pdfFont, style, pdfFontSize)
	for i := range p.cols {
		var v any
		if i < len(cells) {
			v = cells[i]
		}
		align := "L"
		switch v.(type) {
		case int, int64, float64:
			align = "R"
		}
		p.pdf.CellFormat(p.widths[i], pdfLineH, p.fit(text(v, p.meta.Location), p.widths[i]), "1", 0, align, false, 0, "")
	}
	p.pdf.Ln(-1)
}

func (p *pdfWriter) Row(cells []any) error {
	p.line(cells, "")
	p.rows++
	if p.rows%1000 == 0 {
		if err := p.pdf.Error(); err != nil {
			return fmt.Errorf("export: pdf: %w", err)
		}
	}
	return nil
}

func (p *pdfWriter) Close(totals []any) error {
	if totals != nil {
		p.line(totals, "B")
	}
	if err := p.pdf.Output(p.out); err != nil {
		return fmt.Errorf("export: pdf: %w", err)
	}
	return nil
}
