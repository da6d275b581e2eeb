package camera

import (
	"bytes"
	"reflect"
	"strings"
	"testing"
)

func TestParseJSONShapes(t *testing.T) {
	camera := `{"name": "Front door", "site": "HQ", "location": "Hall, \"B\"", "url": "rtsp://admin:p%40ss@10.0.0.5/live",
		"direction": "Entry", "fps": 2.5, "timezone": "Europe/Paris", "tags": ["Lobby", "entrance"], "state": "active"}`
	want := []Spec{{
		Name: "Front door", Site: "HQ", Location: `Hall, "B"`, URL: "rtsp://10.0.0.5/live",
		Username: "admin", Password: "p@ss", Direction: "entry", FPS: 2.5, Timezone: "Europe/Paris",
		Tags: []string{"entrance", "lobby"}, State: "active",
	}}
	for name, in := range map[string]string{
		"array":             "[" + camera + "]",
		"object":            `{"cameras": [` + camera + `]}`,
		"with BOM":          "\uFEFF[" + camera + "]\n",
		"credential fields": `[{"name": "Front door", "site": "HQ", "location": "Hall, \"B\"", "url": "rtsp://10.0.0.5/live", "username": "admin", "password": "p@ss", "direction": "entry", "fps": 2.5, "timezone": "Europe/Paris", "tags": ["lobby", "entrance"], "state": "active"}]`,
	} {
		t.Run(name, func(t *testing.T) {
			got, err := ParseJSON(strings.NewReader(in))
			if err != nil {
				t.Fatalf("ParseJSON: %v", err)
			}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("got  %+v\nwant %+v", got, want)
			}
		})
	}
}

func TestParseJSONRejects(t *testing.T) {
	const ok = `{"name": "A", "url": "rtsp://h/a"}`
	tests := []struct {
		name string
		in   string
		want []at
	}{
		{"not JSON", "name,url\n", []at{{0, ""}}},
		{"syntax error in row 2", `[` + ok + `, {"name": "B" "url": "rtsp://h/b"}, {"name": "C"}]`, []at{{2, ""}}},
		{"rows before a syntax error still checked", `[{"name": "A", "url": "http://h/a"}, {"name": }]`, []at{{1, "url"}, {2, ""}}},
		{"truncated", `[` + ok + `,`, []at{{2, ""}}},
		{"truncated inside the array", `[` + ok, []at{{0, ""}}},
		{"unknown field", `[` + ok + `, {"nmae": "B", "url": "rtsp://h/b"}]`, []at{{2, "nmae"}}},
		{"field in the wrong case", `[{"Name": "A", "url": "rtsp://h/a"}]`, []at{{1, "Name"}}},
		{"fps as a string", `[{"name": "A", "url": "rtsp://h/a", "fps": "2"}]`, []at{{1, "fps"}}},
		{"fps out of range", `[{"name": "A", "url": "rtsp://h/a", "fps": 1e999}]`, []at{{1, "fps"}}},
		{"tags as a string", `[{"name": "A", "url": "rtsp://h/a", "tags": "a;b"}]`, []at{{1, "tags"}}},
		{"every wrong type in a row", `[{"name": 1, "url": "rtsp://h/a", "fps": "x", "extra": 0}]`,
			[]at{{1, "name"}, {1, "fps"}, {1, "extra"}}},
		{"row not an object", `[` + ok + `, 42, null]`, []at{{2, ""}, {3, ""}}},
		{"bad url, direction, timezone, state", `[` + ok + `, {"name": "B", "url": "concat:/etc/passwd", "direction": "up", "timezone": "Local", "state": "gone"}]`,
			[]at{{2, "url"}, {2, "direction"}, {2, "timezone"}, {2, "state"}}},
		{"duplicate names", `[` + ok + `, {"name": "b", "url": "rtsp://h/b"}, {"name": " a ", "url": "rtsp://h/c"}]`, []at{{3, "name"}}},
		{"duplicate names under case folding", `[{"name": "ſide door", "url": "rtsp://h/a"}, {"name": "SIDE DOOR", "url": "rtsp://h/b"}]`, []at{{2, "name"}}},
		{"unknown top-level field", `{"cameras": [` + ok + `], "version": 2}`, []at{{0, "version"}}},
		{"cameras twice", `{"cameras": [` + ok + `], "cameras": []}`, []at{{0, "cameras"}}},
		{"cameras not an array", `{"cameras": {"name": "A"}}`, []at{{0, "cameras"}}},
		{"a single camera object", ok, []at{{0, "name"}, {0, "url"}}},
		{"top level a string", `"cameras"`, []at{{0, ""}}},
		{"data after the cameras", `[` + ok + `] []`, []at{{0, ""}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			specs, err := ParseJSON(strings.NewReader(tt.in))
			mustErrorsAt(t, specs, err, tt.want)
		})
	}
}

func TestParseJSONSyntaxErrorGivesOffset(t *testing.T) {
	_, err := ParseJSON(strings.NewReader(`[{"name": "A", "url": "rtsp://h/a"}, {"name" "B"}]`))
	if err == nil || !strings.Contains(err.Error(), "row 2: invalid JSON near byte 44:") {
		t.Errorf("error %v: want row 2 and the byte offset", err)
	}
}

func TestWriteJSON(t *testing.T) {
	recs := []Record{
		{Name: "=1+2 <door>", URL: "rtsp://h/a", Direction: "entry", FPS: 2.5, Timezone: "UTC", Tags: []string{"a", "b"}, State: "active"},
		{Name: "B", URL: "rtsp://h/b", Direction: "both", FPS: 1, Timezone: "UTC", State: "inactive"},
	}
	var buf bytes.Buffer
	if err := WriteJSON(&buf, recs); err != nil {
		t.Fatalf("WriteJSON: %v", err)
	}
	want := `{
  "cameras": [
    {
      "name": "=1+2 <door>",
      "site": "",
      "location": "",
      "url": "rtsp://h/a",
      "direction": "entry",
      "fps": 2.5,
      "timezone": "UTC",
      "tags": [
        "a",
        "b"
      ],
      "state": "active"
    },
    {
      "name": "B",
      "site": "",
      "location": "",
      "url": "rtsp://h/b",
      "direction": "both",
      "fps": 1,
      "timezone": "UTC",
      "tags": [],
      "state": "inactive"
    }
  ]
}
`
	if buf.String() != want {
		t.Errorf("got\n%s\nwant\n%s", buf.String(), want)
	}
}
