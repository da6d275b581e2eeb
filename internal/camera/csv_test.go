package camera

import (
	"bytes"
	"reflect"
	"strings"
	"testing"
)

func TestParseCSV(t *testing.T) {
	in := "\uFEFF" + // a BOM, as spreadsheets write
		"URL , Name,TAGS,fps,Direction,state,timezone,site,location,username,password\r\n" +
		"rtsp://10.0.0.5/live,Front door,lobby;Entrance|lobby,2.5,ENTRY,active,Europe/Paris,HQ,\"Hall, \"\"B\"\"\",admin,p@ss\r\n" +
		"\r\n" +
		"rtsp://h/b,'=SUM(A1),,,,,,,,,\r\n" +
		",,,,,,,,,,\r\n"
	got, err := ParseCSV(strings.NewReader(in))
	if err != nil {
		t.Fatalf("ParseCSV: %v", err)
	}
	want := []Spec{
		{
			Name: "Front door", Site: "HQ", Location: `Hall, "B"`, URL: "rtsp://10.0.0.5/live",
			Username: "admin", Password: "p@ss", Direction: "entry", FPS: 2.5, Timezone: "Europe/Paris",
			Tags: []string{"entrance", "lobby"}, State: "active",
		},
		{
			Name: "=SUM(A1)", URL: "rtsp://h/b", Direction: "both", FPS: 1, Timezone: "UTC",
			Tags: []string{}, State: "inactive",
		},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got  %+v\nwant %+v", got, want)
	}
}

func TestParseCSVRejects(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want []at
	}{
		{"broken header", "name,\"url\nA,rtsp://h/a\n", []at{{0, ""}}},
		{"name column missing", "url\nrtsp://h/a\n", []at{{0, "name"}}},
		{"url column missing", "Name,site\nA,HQ\n", []at{{0, "url"}}},
		{"unknown columns", "name,url,lcoation,notes\nA,rtsp://h/a,x,y\n", []at{{0, "lcoation"}, {0, "notes"}}},
		{"column twice", "name,url,Name\nA,rtsp://h/a,B\n", []at{{0, "name"}}},
		{"unnamed column", "name,url,\nA,rtsp://h/a,\n", []at{{0, ""}}},
		{"wrong field count", "name,url,site\nA,rtsp://h/a,HQ\nB,rtsp://h/b\nC,rtsp://h/c,HQ,extra\nD,http://h/d,HQ\n",
			[]at{{2, ""}, {3, ""}, {4, "url"}}},
		{"bare quote, later rows still checked", "name,url\nA,rtsp://h/a\nB\"x,rtsp://h/b\nC,rtsp://h/c\nD,file:///etc/passwd\n",
			[]at{{2, ""}, {4, "url"}}},
		{"unterminated quote", "name,url\nA,rtsp://h/a\n\"B,rtsp://h/b\nC,rtsp://h/c\n", []at{{2, ""}}},
		{"blank lines are not rows", "name,url\nA,rtsp://h/a\n\n,\nB,concat:/etc/passwd|x\n", []at{{2, "url"}}},
		{"bad fps", "name,url,fps\nA,rtsp://h/a,fast\nB,rtsp://h/b,\"2,5\"\nC,rtsp://h/c,NaN\nD,rtsp://h/d,99\n",
			[]at{{1, "fps"}, {2, "fps"}, {3, "fps"}, {4, "fps"}}},
		{"local file url", "name,url\nA,file:///etc/passwd\n", []at{{1, "url"}}},
		{"http url", "name,url\nA,http://cam.local/video\n", []at{{1, "url"}}},
		{"ffmpeg concat url", "name,url\nA,concat:/etc/passwd|/etc/shadow\n", []at{{1, "url"}}},
		{"bad direction, timezone and state", "name,url,direction,timezone,state\nA,rtsp://h/a,up,Mars/Base,gone\n",
			[]at{{1, "direction"}, {1, "timezone"}, {1, "state"}}},
		{"name and url empty", "name,url,site\n , ,HQ\n", []at{{1, "name"}, {1, "url"}}},
		{"credentials twice", "name,url,username\nA,rtsp://u:p@h/a,u\n", []at{{1, "url"}}},
		{"tag with a comma", "name,url,tags\nA,rtsp://h/a,\"x,y\"\n", []at{{1, "tags"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			specs, err := ParseCSV(strings.NewReader(tt.in))
			mustErrorsAt(t, specs, err, tt.want)
		})
	}
}

func TestParseCSVDuplicateNames(t *testing.T) {
	in := "name,url\nFront door,rtsp://h/a\nBack,rtsp://h/b\n  FRONT DOOR ,rtsp://h/c\nback,rtsp://h/d\n"
	specs, err := ParseCSV(strings.NewReader(in))
	errs := mustErrorsAt(t, specs, err, []at{{3, "name"}, {4, "name"}})
	if len(errs) == 2 && (!strings.Contains(errs[0].Message, "row 1") || !strings.Contains(errs[1].Message, "row 2")) {
		t.Errorf("messages %q, %q: want them to name rows 1 and 2", errs[0].Message, errs[1].Message)
	}
}

func TestParseCSVUnknownColumnMessage(t *testing.T) {
	_, err := ParseCSV(strings.NewReader("name,url,lcoation\nA,rtsp://h/a,x\n"))
	if err == nil || !strings.Contains(err.Error(), "lcoation is not a known column") {
		t.Errorf("error %v: want it to name the unknown column", err)
	}
}

func TestWriteCSV(t *testing.T) {
	recs := []Record{
		{Name: "Front door", Site: "HQ", Location: `Hall, "B"`, URL: "rtsp://h/a", Direction: "entry",
			FPS: 1, Timezone: "UTC", Tags: []string{"entrance", "lobby"}, State: "active"},
		{Name: "=1+2", Site: "+x", Location: "-y", URL: "rtsp://h/b", Direction: "both",
			FPS: 2.5, Timezone: "UTC", Tags: []string{"@z"}, State: "inactive"},
	}
	var buf bytes.Buffer
	if err := WriteCSV(&buf, recs); err != nil {
		t.Fatalf("WriteCSV: %v", err)
	}
	want := "name,site,location,url,direction,fps,timezone,tags,state\n" +
		"Front door,HQ,\"Hall, \"\"B\"\"\",rtsp://h/a,entry,1,UTC,entrance;lobby,active\n" +
		"'=1+2,'+x,'-y,rtsp://h/b,both,2.5,UTC,'@z,inactive\n"
	if buf.String() != want {
		t.Errorf("got\n%s\nwant\n%s", buf.String(), want)
	}
}

func TestCellEscaping(t *testing.T) {
	tests := []struct{ value, cell string }{
		{"plain", "plain"},
		{"", ""},
		{"=cmd", "'=cmd"},
		{"+1", "'+1"},
		{"-1", "'-1"},
		{"@x", "'@x"},
		{"\tx", "'\tx"},
		{"\rx", "'\rx"},
		{"'quoted", "'quoted"},
		{"'=x", "''=x"},
		{"a=b", "a=b"},
	}
	for _, tt := range tests {
		if got := escapeCell(tt.value); got != tt.cell {
			t.Errorf("escapeCell(%q) = %q, want %q", tt.value, got, tt.cell)
		}
		if got := unescapeCell(tt.cell); got != tt.value {
			t.Errorf("unescapeCell(%q) = %q, want %q", tt.cell, got, tt.value)
		}
	}
}
