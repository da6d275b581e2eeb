package camera

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
)

// ParseJSON reads a camera list in JSON: an array of camera objects, or
// {"cameras": [...]}. Field names must match Record's exactly; an unknown
// or miscased name is an error, not ignored. It returns specs only when
// every camera is valid; otherwise it returns an *ImportError listing every
// problem. Any other error is a read failure.
func ParseJSON(r io.Reader) ([]Spec, error) {
	data, err := readImport(r, "json")
	if err != nil {
		return nil, err
	}
	v := newValidator()
	dec := json.NewDecoder(bytes.NewReader(data))
	tok, err := dec.Token()
	if errors.Is(err, io.EOF) {
		return nil, fileError("no cameras in file")
	}
	ok := true
	switch {
	case err != nil:
		v.fail(0, "", "%s", jsonSyntaxMessage(err))
		ok = false
	case tok == json.Delim('['):
		ok = readJSONArray(dec, v)
	case tok == json.Delim('{'):
		ok = readJSONObject(dec, v)
	default:
		v.fail(0, "", `file must hold a JSON array of cameras or {"cameras": [...]}`)
		ok = false
	}
	if ok {
		if _, err := dec.Token(); !errors.Is(err, io.EOF) {
			v.fail(0, "", "file has more data after the cameras")
		}
	}
	return v.result()
}

// readJSONObject reads {"cameras": [...]} after its '{'. It returns false
// when the file cannot be read further.
func readJSONObject(dec *json.Decoder, v *validator) bool {
	seen := false
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			v.fail(0, "", "%s", jsonSyntaxMessage(err))
			return false
		}
		key, _ := tok.(string)
		if key != "cameras" || seen {
			if key != "cameras" {
				v.fail(0, key, `is not a known field; the file must be {"cameras": [...]}`)
			} else {
				v.fail(0, key, "appears twice")
			}
			var skip json.RawMessage
			if err := dec.Decode(&skip); err != nil {
				v.fail(0, "", "%s", jsonSyntaxMessage(err))
				return false
			}
			continue
		}
		seen = true
		tok, err = dec.Token()
		if err != nil {
			v.fail(0, "", "%s", jsonSyntaxMessage(err))
			return false
		}
		if tok != json.Delim('[') {
			v.fail(0, "cameras", "must be an array")
			return false
		}
		if !readJSONArray(dec, v) {
			return false
		}
	}
	return closeJSON(dec, v)
}

// readJSONArray reads the cameras of an array after its '['. It returns
// false when the file cannot be read further.
func readJSONArray(dec *json.Decoder, v *validator) bool {
	for dec.More() {
		row, ok := v.next()
		if !ok {
			return false
		}
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			v.fail(row, "", "%s", jsonSyntaxMessage(err))
			return false
		}
		if rec, ok := jsonRecord(v, row, raw); ok {
			v.check(row, rec)
		}
	}
	return closeJSON(dec, v)
}

// closeJSON reads the ']' or '}' that ends an array or object.
func closeJSON(dec *json.Decoder, v *validator) bool {
	if _, err := dec.Token(); err != nil {
		v.fail(0, "", "%s", jsonSyntaxMessage(err))
		return false
	}
	return true
}

// jsonRecord decodes one camera object field by field, so that every wrong
// name or type in it is reported; ok is false when any was.
func jsonRecord(v *validator, row int, raw json.RawMessage) (rec Record, ok bool) {
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(raw, &fields); err != nil || fields == nil {
		v.fail(row, "", "must be a JSON object")
		return rec, false
	}
	targets := []struct {
		name string
		ptr  any
	}{
		{"name", &rec.Name}, {"site", &rec.Site}, {"location", &rec.Location},
		{"url", &rec.URL}, {"direction", &rec.Direction}, {"fps", &rec.FPS},
		{"timezone", &rec.Timezone}, {"tags", &rec.Tags}, {"state", &rec.State},
		{"username", &rec.Username}, {"password", &rec.Password},
	}
	ok = true
	for _, t := range targets {
		val, present := fields[t.name]
		if !present {
			continue
		}
		delete(fields, t.name)
		if err := json.Unmarshal(val, t.ptr); err != nil {
			v.fail(row, t.name, "%s", jsonTypeMessage(err, t.ptr))
			ok = false
		}
	}
	unknown := make([]string, 0, len(fields))
	for name := range fields {
		unknown = append(unknown, name)
	}
	slices.Sort(unknown)
	for _, name := range unknown {
		v.fail(row, name, "is not a known field (known: %s)", strings.Join(csvColumns, ", "))
		ok = false
	}
	return rec, ok
}

func jsonTypeMessage(err error, ptr any) string {
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) && strings.HasPrefix(te.Value, "number ") {
		return "is out of range"
	}
	switch ptr.(type) {
	case *float64:
		return "must be a number"
	case *[]string:
		return "must be an array of strings"
	default:
		return "must be a string"
	}
}

func jsonSyntaxMessage(err error) string {
	var se *json.SyntaxError
	switch {
	case errors.As(err, &se):
		return fmt.Sprintf("invalid JSON near byte %d: %v", se.Offset, se)
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return "invalid JSON: the file ends too early"
	default:
		return fmt.Sprintf("invalid JSON: %v", err)
	}
}

// WriteJSON writes recs as {"cameras": [...]}, indented by two spaces,
// without credentials.
func WriteJSON(w io.Writer, recs []Record) error {
	out := struct {
		Cameras []Record `json:"cameras"`
	}{Cameras: make([]Record, 0, len(recs))}
	for _, r := range recs {
		out.Cameras = append(out.Cameras, r.exported())
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	if err := enc.Encode(out); err != nil {
		return fmt.Errorf("camera: write json: %w", err)
	}
	return nil
}
