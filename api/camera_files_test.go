package api_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/rollcall/rollcall/internal/auth"
)

// importFile posts a file to /cameras/import with the given content type.
func (h *harness) importFile(tok, query, contentType, body string) response {
	h.t.Helper()
	req := httptest.NewRequest(http.MethodPost, "/api/v1/cameras/import"+query, strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+tok)
	req.Header.Set("Content-Type", contentType)
	rec := httptest.NewRecorder()
	h.handler.ServeHTTP(rec, req)
	return response{rec}
}

const camerasCSV = "name,site,location,url,direction,fps,timezone,tags,state\n" +
	"Lobby,HQ,\"Ground floor, main door\",rtsp://10.0.0.1/s,entry,2,Europe/Paris,ground;main,inactive\n" +
	"Dock,Depot,Gate 4,rtsp://10.0.0.2:8554/live,exit,1,UTC,outdoor,maintenance\n" +
	"=Formula-looking,Annex,,rtsps://cams.example.com/x,both,0.5,Asia/Tokyo,,inactive\n"

func TestCameraImportExportRoundTrip(t *testing.T) {
	for _, format := range []string{"csv", "json"} {
		t.Run(format, func(t *testing.T) {
			src := newHarness(t)
			_, op := src.mustUserToken("oscar", auth.RoleOperator)
			res := src.importFile(op, "", "text/csv", camerasCSV)
			if res.Code != 200 || !strings.Contains(res.Body.String(), `"created":3`) {
				t.Fatalf("import: %d %s", res.Code, res.Body)
			}
			// A camera with credentials: they never leave in an export.
			src.mustCreateCamera(op, map[string]any{"name": "Secret cam", "url": "rtsp://u:Export-Secret-9@10.0.0.3/s"})

			exp := src.as(op, "GET", "/api/v1/cameras/export?format="+format, nil)
			if exp.Code != 200 || !strings.Contains(exp.Header().Get("Content-Disposition"), "cameras."+format) {
				t.Fatalf("export: %d %v", exp.Code, exp.Header())
			}
			exported := exp.Body.String()
			if strings.Contains(exported, "Export-Secret-9") || strings.Contains(exported, "u:") {
				t.Fatalf("export carries credentials:\n%s", exported)
			}

			dst := newHarness(t)
			_, op2 := dst.mustUserToken("oscar", auth.RoleOperator)
			ct := map[string]string{"csv": "text/csv", "json": "application/json"}[format]
			if res := dst.importFile(op2, "", ct, exported); res.Code != 200 || !strings.Contains(res.Body.String(), `"created":4`) {
				t.Fatalf("re-import: %d %s", res.Code, res.Body)
			}
			again := dst.as(op2, "GET", "/api/v1/cameras/export?format="+format, nil).Body.String()
			if again != exported {
				t.Fatalf("round trip changed the cameras:\nfirst:\n%s\nsecond:\n%s", exported, again)
			}
			var list struct {
				Items []cameraJSON `json:"items"`
			}
			_ = json.Unmarshal(dst.as(op2, "GET", "/api/v1/cameras?q=lobby", nil).Body.Bytes(), &list)
			if len(list.Items) != 1 || list.Items[0].Site != "HQ" || strings.Join(list.Items[0].Tags, ",") != "ground,main" {
				t.Fatalf("imported camera: %+v", list.Items)
			}
		})
	}
}

func TestCameraImportRefusesBadFiles(t *testing.T) {
	header := "name,url,direction,fps\n"
	many := &strings.Builder{}
	many.WriteString(header)
	for i := range 1001 {
		fmt.Fprintf(many, "cam %d,rtsp://10.1.%d.%d/s,both,1\n", i, i/250, i%250)
	}
	for _, tc := range []struct {
		name, contentType, body string
		wantStatus              int
		wantContains            []string
	}{
		{"bad URL names row and field", "text/csv", header + "A,rtsp://10.0.0.1/s,entry,1\nB,file:///etc/passwd,exit,1\n",
			422, []string{`"location":"body.rows[2].url"`}},
		{"several problems all reported", "text/csv", header + "A,concat:/etc/passwd,up,1\nB,rtsp://h/s,exit,fast\n",
			422, []string{"body.rows[1].url", "body.rows[1].direction", "body.rows[2].fps"}},
		{"duplicate names in the file", "text/csv", header + "Gate,rtsp://h/1,entry,1\ngate,rtsp://h/2,exit,1\n",
			422, []string{"body.rows[2].name"}},
		{"missing url column", "text/csv", "name,site\nA,HQ\n", 422, []string{"url"}},
		{"unknown column", "text/csv", "name,url,colour\nA,rtsp://h/s,red\n", 422, []string{"colour"}},
		{"malformed CSV quoting", "text/csv", header + "\"A,rtsp://h/s,entry,1\n", 422, []string{"body"}},
		{"empty file", "text/csv", "", 400, []string{"required"}},
		{"header only", "text/csv", header, 422, []string{"no cameras"}},
		{"malformed JSON", "application/json", `[{"name":"A","url":"rtsp://h/s"},`, 422, []string{"JSON"}},
		{"unknown JSON field", "application/json", `[{"name":"A","url":"rtsp://h/s","colour":"red"}]`, 422, []string{"body.rows[1].colour"}},
		{"wrong JSON type", "application/json", `[{"name":"A","url":"rtsp://h/s","fps":"fast"}]`, 422, []string{"body.rows[1].fps"}},
		{"too many rows", "text/csv", many.String(), 422, []string{"1000"}},
		{"oversized file", "text/csv", header + strings.Repeat("x", 2<<20), 413, nil},
		{"unknown content type", "application/octet-stream", header, 422, []string{"query.format"}},
		{"name already registered", "text/csv", header + "New,rtsp://h/1,entry,1\nexisting,rtsp://h/2,exit,1\n", 409, []string{"upsert"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t)
			_, op := h.mustUserToken("oscar", auth.RoleOperator)
			h.mustCreateCamera(op, map[string]any{"name": "Existing", "url": "rtsp://10.9.9.9/s"})
			res := h.importFile(op, "", tc.contentType, tc.body)
			h.check(t, scenario{Method: "POST", URL: "import", WantStatus: tc.wantStatus, WantContains: tc.wantContains}, res)
			if n := h.countCameras(); n != 1 {
				t.Fatalf("%d cameras stored after a refused import, want 1 (nothing written)", n)
			}
		})
	}
}

func TestCameraImportUpsert(t *testing.T) {
	h := newHarness(t)
	h.startWorker()
	_, op := h.mustUserToken("oscar", auth.RoleOperator)
	existing := h.mustCreateCamera(op, map[string]any{"name": "Gate", "url": "rtsp://u:Keep-Me-5@10.0.0.5/s", "site": "Old"})
	body := "name,site,url,state\ngate,New,rtsp://10.0.0.6/s,active\nYard,Depot,rtsp://10.0.0.7/s,inactive\n"

	res := h.importFile(op, "?mode=upsert&format=csv", "text/plain", body)
	if res.Code != 200 || !strings.Contains(res.Body.String(), `"created":1`) || !strings.Contains(res.Body.String(), `"updated":1`) {
		t.Fatalf("upsert: %d %s", res.Code, res.Body)
	}
	got := h.mustGetCamera(op, existing.ID)
	// The URL moved to another host: the stored credentials stay behind.
	if got.Site != "New" || got.URL != "rtsp://10.0.0.6/s" || got.State != "active" || got.HasCredentials {
		t.Fatalf("updated camera: %+v", got)
	}
	h.waitStream(existing.ID, 1) // WORKFLOW_EXECUTION_STATUS_RUNNING: the import activated it

	// Same host, another path: credentials given again are kept by a later
	// row that sends none.
	h.importFile(op, "?mode=upsert&format=csv", "text/plain", "name,url,username,password\ngate,rtsp://10.0.0.6/s,u,Keep-Me-6\n")
	res = h.importFile(op, "?mode=upsert&format=csv", "text/plain", "name,url\ngate,rtsp://10.0.0.6:554/main\n")
	if res.Code != 200 || !h.mustGetCamera(op, existing.ID).HasCredentials {
		t.Fatalf("same endpoint: credentials lost: %d %s", res.Code, res.Body)
	}
}
