package provider

import (
	"bytes"
	"fmt"
	"mime/multipart"
	"net/textproto"
	"strings"
)

// formField is one text field of a multipart form.
type formField struct{ name, value string }

// formFile is one image of a multipart form.
type formFile struct {
	field string
	data  []byte
}

// multipartForm builds a multipart/form-data body in memory (images are at
// most a few MiB) and returns it with its content type. Each file is named
// "image.<ext>" by its content, as some providers check the extension.
func multipartForm(fields []formField, files []formFile) ([]byte, string) {
	var buf bytes.Buffer
	w := multipart.NewWriter(&buf)
	for _, f := range fields {
		// Writing to a bytes.Buffer cannot fail.
		_ = w.WriteField(f.name, f.value)
	}
	for _, f := range files {
		ct, ext := imageType(f.data)
		h := make(textproto.MIMEHeader)
		h.Set("Content-Disposition", fmt.Sprintf(`form-data; name="%s"; filename="image.%s"`, quoteEscaper.Replace(f.field), ext))
		h.Set("Content-Type", ct)
		part, _ := w.CreatePart(h)
		_, _ = part.Write(f.data)
	}
	_ = w.Close()
	return buf.Bytes(), w.FormDataContentType()
}

var quoteEscaper = strings.NewReplacer("\\", "\\\\", `"`, "\\\"")
