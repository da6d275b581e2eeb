package api_test

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"hash/crc32"
	"image"
	"image/color"
	"image/png"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"net/textproto"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"go.temporal.io/sdk/client"

	"github.com/rollcall/rollcall/api"
	"github.com/rollcall/rollcall/internal/auth"
	"github.com/rollcall/rollcall/internal/config"
	"github.com/rollcall/rollcall/internal/facegen"
	rctemporal "github.com/rollcall/rollcall/temporal"
	"github.com/rollcall/rollcall/workflows"
)

// photo renders a person in a frame of their own; variant moves, scales
// and relights them so no two photos are alike.
func photo(seed int64, variant int) []byte {
	v := float64(variant)
	img := facegen.NewPerson(seed).Render(facegen.Scene{
		Width: 640, Height: 480, X: 0.35 + 0.08*v, Y: 0.45 + 0.02*v, Scale: 0.4 + 0.04*v,
		Brightness: 0.92 + 0.04*v, Noise: 0.02, NoiseSeed: int64(variant + 1),
	})
	return facegen.JPEG(img, 90)
}

type formFile struct {
	name, contentType string
	data              []byte
}

// multipartBody builds a multipart form with fields and files under "images".
func multipartBody(t *testing.T, fields map[string]string, files []formFile) (string, []byte) {
	t.Helper()
	var buf bytes.Buffer
	w := multipart.NewWriter(&buf)
	for k, v := range fields {
		_ = w.WriteField(k, v)
	}
	for _, f := range files {
		hdr := textproto.MIMEHeader{}
		hdr.Set("Content-Disposition", fmt.Sprintf(`form-data; name="images"; filename=%q`, f.name))
		hdr.Set("Content-Type", f.contentType)
		part, err := w.CreatePart(hdr)
		if err != nil {
			t.Fatal(err)
		}
		_, _ = part.Write(f.data)
	}
	_ = w.Close()
	return w.FormDataContentType(), buf.Bytes()
}

func (h *harness) postForm(tok, url, contentType string, body []byte) response {
	h.t.Helper()
	req := httptest.NewRequest(http.MethodPost, url, bytes.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+tok)
	req.Header.Set("Content-Type", contentType)
	rec := httptest.NewRecorder()
	h.handler.ServeHTTP(rec, req)
	return response{rec}
}

type faceJSON struct {
	ID            string `json:"id"`
	Status        string `json:"status"`
	StatusMessage string `json:"statusMessage"`
	Images        []struct {
		ID            string `json:"id"`
		URL           string `json:"url"`
		Status        string `json:"status"`
		FailureReason string `json:"failureReason"`
	} `json:"images"`
}

func (h *harness) mustGetFace(tok, id string) faceJSON {
	h.t.Helper()
	res := h.as(tok, "GET", "/api/v1/faces/"+id, nil)
	if res.Code != 200 {
		h.t.Fatalf("get face: %d %s", res.Code, res.Body)
	}
	var f faceJSON
	_ = json.Unmarshal(res.Body.Bytes(), &f)
	return f
}

func (h *harness) waitFaceStatus(tok, id string, want ...string) faceJSON {
	h.t.Helper()
	// Usually a second or two; the bound outlasts the enrolment's one-minute
	// heartbeat timeout, after which Temporal retries a task it handed to a
	// worker that was going away (the previous test's).
	deadline := time.Now().Add(90 * time.Second)
	for {
		f := h.mustGetFace(tok, id)
		for _, w := range want {
			if f.Status == w {
				return f
			}
		}
		if time.Now().After(deadline) {
			h.t.Fatalf("face %s is %q (%s), want %v", id, f.Status, f.StatusMessage, want)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func (h *harness) recognize(data []byte) (subject string, similarity float64, faces int) {
	h.t.Helper()
	prov, _, err := h.faces.Current(context.Background())
	if err != nil {
		h.t.Fatal(err)
	}
	res, err := prov.Recognize(context.Background(), data)
	if err != nil {
		h.t.Fatal(err)
	}
	if len(res.Faces) == 0 {
		return "", 0, 0
	}
	return res.Faces[0].Subject, res.Faces[0].Similarity, len(res.Faces)
}

// The whole life of a person: registered through the API by workflow,
// recognised in a new frame by the built-in provider, erased again.
func TestFaceRegistrationEndToEnd(t *testing.T) {
	h := newHarness(t)
	h.startWorker()
	_, op := h.mustUserToken("oscar", auth.RoleOperator)
	ct, body := multipartBody(t, map[string]string{"employeeCode": "EMP-001", "name": "Ada Lovelace", "department": "R&D", "email": "ada@example.com"},
		[]formFile{{"a.jpg", "image/jpeg", photo(101, 0)}, {"b.jpg", "image/jpeg", photo(101, 1)}, {"c.jpg", "image/jpeg", photo(101, 2)}})
	res := h.postForm(op, "/api/v1/faces", ct, body)
	if res.Code != http.StatusAccepted {
		t.Fatalf("create: %d %s", res.Code, res.Body)
	}
	var created faceJSON
	_ = json.Unmarshal(res.Body.Bytes(), &created)
	f := h.waitFaceStatus(op, created.ID, "active", "failed")
	if f.Status != "active" {
		t.Fatalf("registration: %+v", f)
	}
	for _, img := range f.Images {
		if img.Status != "enrolled" {
			t.Fatalf("image %s: %s %s", img.ID, img.Status, img.FailureReason)
		}
	}
	// A frame not used at registration, and someone never registered.
	if subject, sim, _ := h.recognize(photo(101, 4)); subject != created.ID {
		t.Fatalf("new frame of the person: subject %q (similarity %.3f), want %s", subject, sim, created.ID)
	}
	if subject, sim, n := h.recognize(photo(999, 1)); n != 1 || subject != "" {
		t.Fatalf("someone else: %d faces, subject %q (similarity %.3f), want one unknown face", n, subject, sim)
	}

	// Right to erasure: provider subject, objects and rows go.
	if res := h.as(op, "DELETE", "/api/v1/faces/"+created.ID, nil); res.Code != http.StatusAccepted {
		t.Fatalf("delete: %d %s", res.Code, res.Body)
	}
	deadline := time.Now().Add(30 * time.Second)
	for h.as(op, "GET", "/api/v1/faces/"+created.ID, nil).Code != 404 {
		if time.Now().After(deadline) {
			t.Fatal("profile rows still there")
		}
		time.Sleep(100 * time.Millisecond)
	}
	if subject, _, _ := h.recognize(photo(101, 4)); subject != "" {
		t.Fatalf("provider still knows the erased person as %q", subject)
	}
	if n, err := h.blobs.DeletePrefix(context.Background(), "faces/"+created.ID+"/"); err != nil || n != 0 {
		t.Fatalf("%d objects left in the object store (%v)", n, err)
	}
	var images int
	_ = h.db.QueryRowContext(context.Background(), "SELECT count(*) FROM face_images WHERE profile_id = ?", created.ID).Scan(&images)
	if images != 0 {
		t.Fatalf("%d image rows left", images)
	}
}

func TestFaceRegistrationReasons(t *testing.T) {
	h := newHarness(t)
	h.startWorker()
	_, op := h.mustUserToken("oscar", auth.RoleOperator)
	two := facegen.JPEG(facegen.RenderMany(facegen.Scene{Width: 640, Height: 480, Scale: 0.4, Brightness: 1},
		[]facegen.Person{facegen.NewPerson(7), facegen.NewPerson(8)}, [][2]float64{{0.3, 0.5}, {0.7, 0.5}}), 90)
	blank := image.NewRGBA(image.Rect(0, 0, 320, 240))
	for i := range blank.Pix {
		blank.Pix[i] = 200
	}
	var blankPNG bytes.Buffer
	_ = png.Encode(&blankPNG, blank)

	// Only unusable photos: the profile fails with each photo's reason.
	ct, body := multipartBody(t, map[string]string{"employeeCode": "EMP-002", "name": "Two Faces"},
		[]formFile{{"two.jpg", "image/jpeg", two}, {"blank.png", "image/png", blankPNG.Bytes()}})
	res := h.postForm(op, "/api/v1/faces", ct, body)
	if res.Code != http.StatusAccepted {
		t.Fatalf("create: %d %s", res.Code, res.Body)
	}
	var created faceJSON
	_ = json.Unmarshal(res.Body.Bytes(), &created)
	f := h.waitFaceStatus(op, created.ID, "active", "failed")
	if f.Status != "failed" || !strings.Contains(f.StatusMessage, "2 faces") || !strings.Contains(f.StatusMessage, "no face") {
		t.Fatalf("want failed with both reasons: %+v", f)
	}

	// Adding a good photo later registers the person incrementally.
	ct, body = multipartBody(t, nil, []formFile{{"good.jpg", "image/jpeg", photo(9, 0)}})
	if res := h.postForm(op, "/api/v1/faces/"+created.ID+"/images", ct, body); res.Code != http.StatusAccepted {
		t.Fatalf("add images: %d %s", res.Code, res.Body)
	}
	f = h.waitFaceStatus(op, created.ID, "active")
	var good string
	for _, img := range f.Images {
		if img.Status == "enrolled" {
			good = img.ID
		}
	}
	if good == "" {
		t.Fatalf("no enrolled image: %+v", f)
	}
	// Removing it takes it off the provider and the store.
	if res := h.as(op, "DELETE", "/api/v1/faces/"+created.ID+"/images/"+good, nil); res.Code != http.StatusAccepted {
		t.Fatalf("delete image: %d %s", res.Code, res.Body)
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		f = h.mustGetFace(op, created.ID)
		if len(f.Images) == 2 && f.Status == "failed" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("image not removed: %+v", f)
		}
		time.Sleep(100 * time.Millisecond)
	}
	if subject, _, _ := h.recognize(photo(9, 3)); subject != "" {
		t.Fatalf("removed photo still recognised as %q", subject)
	}
}

// Abuse of the upload: each is a clear 4xx and nothing is stored.
func TestFaceUploadAbuse(t *testing.T) {
	bomb := pngHeader(100000, 100000)
	many := make([]formFile, 11)
	for i := range many {
		many[i] = formFile{fmt.Sprintf("%d.jpg", i), "image/jpeg", photo(int64(i), 0)}
	}
	for _, tc := range []struct {
		name       string
		fields     map[string]string
		files      []formFile
		wantStatus int
		want       string
	}{
		{"text with an image name", nil, []formFile{{"face.jpg", "image/jpeg", []byte("definitely a jpeg, trust me")}}, 422, "body.images[0]"},
		{"huge-dimension PNG", nil, []formFile{{"bomb.png", "image/png", bomb}}, 422, "larger than"},
		{"too many files", nil, many, 422, "at most 10"},
		{"no files", nil, nil, 422, "images"},
		{"same photo twice", nil, []formFile{{"a.jpg", "image/jpeg", photo(1, 0)}, {"b.jpg", "image/jpeg", photo(1, 0)}}, 422, "same photo"},
		{"missing name", map[string]string{"employeeCode": "E-9"}, []formFile{{"a.jpg", "image/jpeg", photo(1, 0)}}, 422, "name"},
		{"bad email", map[string]string{"employeeCode": "E-9", "name": "N", "email": "nope"}, []formFile{{"a.jpg", "image/jpeg", photo(1, 0)}}, 422, "body.email"},
		{"oversized body", nil, []formFile{{"huge.jpg", "image/jpeg", bytes.Repeat([]byte("x"), 90<<20)}}, 413, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			// A bucket of its own, so "nothing stored" can be checked.
			h := newHarness(t, func(c *config.Config, _ map[string]api.Checker) {
				c.S3Bucket = "rctest-" + strings.ToLower(uuid.NewString()[:12])
			})
			if err := h.blobs.EnsureBucket(context.Background()); err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { _ = h.blobs.RemoveBucket(context.Background()) })
			_, op := h.mustUserToken("oscar", auth.RoleOperator)
			fields := tc.fields
			if fields == nil {
				fields = map[string]string{"employeeCode": "EMP-9", "name": "Abuse Test"}
			}
			ct, body := multipartBody(t, fields, tc.files)
			res := h.postForm(op, "/api/v1/faces", ct, body)
			h.check(t, scenario{Method: "POST", URL: "/faces", WantStatus: tc.wantStatus, WantContains: []string{tc.want}}, res)
			var n int
			_ = h.db.QueryRowContext(context.Background(), "SELECT (SELECT count(*) FROM face_profiles) + (SELECT count(*) FROM face_images)").Scan(&n)
			if n != 0 {
				t.Fatalf("%d rows stored after a refused upload", n)
			}
			if left, _ := h.blobs.DeletePrefix(context.Background(), "faces/"); left != 0 {
				t.Fatalf("%d objects stored after a refused upload", left)
			}
		})
	}
}

// pngHeader is a valid 1x1 PNG whose header claims w×h pixels: a
// decompression bomb's shape, caught before any pixel is inflated.
func pngHeader(w, h uint32) []byte {
	img := image.NewRGBA(image.Rect(0, 0, 1, 1))
	img.Set(0, 0, color.White)
	var buf bytes.Buffer
	_ = png.Encode(&buf, img)
	b := buf.Bytes()
	binary.BigEndian.PutUint32(b[16:], w) // IHDR width
	binary.BigEndian.PutUint32(b[20:], h) // IHDR height
	binary.BigEndian.PutUint32(b[29:], crc32.ChecksumIEEE(b[12:29]))
	return b
}

func TestProviderConfigAndTest(t *testing.T) {
	h := newHarnessWith(t, realFaces(t))
	_, admin := h.mustUserToken("root", auth.RoleAdmin)
	_, viewer := h.mustUserToken("vera", auth.RoleViewer)
	res := h.as(admin, "GET", "/api/v1/detections/provider/config", nil)
	h.check(t, scenario{Method: "GET", URL: "config", WantStatus: 200, WantContains: []string{`"kind":"builtin"`, `"hasApiKey":false`}}, res)
	if res := h.as(viewer, "GET", "/api/v1/detections/provider/config", nil); res.Code != 403 {
		t.Fatalf("viewer reads provider config: %d", res.Code)
	}

	res = h.as(admin, "POST", "/api/v1/detections/test-provider", nil)
	h.check(t, scenario{Method: "POST", URL: "test", WantStatus: 200, WantContains: []string{`"healthy":true`, `"facesFound":1`}}, res)

	put := map[string]any{"kind": "compreface", "url": "http://127.0.0.1:1/", "apiKey": "cf-Secret-Key-123", "similarityThreshold": 0.9,
		"detectionThreshold": 0.6, "timeoutMs": 500, "maxInFlight": 2}
	res = h.as(admin, "PUT", "/api/v1/detections/provider/config", put)
	h.check(t, scenario{Method: "PUT", URL: "config", WantStatus: 200, WantContains: []string{`"kind":"compreface"`, `"hasApiKey":true`}}, res)
	var sealed string
	_ = h.db.QueryRowContext(context.Background(), "SELECT api_key FROM detection_provider_configs").Scan(&sealed)
	if !strings.HasPrefix(sealed, "v1:") || strings.Contains(sealed, "cf-Secret-Key-123") {
		t.Fatalf("API key stored in the clear: %q", sealed)
	}
	for _, url := range []string{"/api/v1/detections/provider/config"} {
		if strings.Contains(h.as(admin, "GET", url, nil).Body.String(), "cf-Secret") {
			t.Fatal("API key returned")
		}
	}
	// A provider that is not there: a 200 saying so, with a code.
	res = h.as(admin, "POST", "/api/v1/detections/test-provider", nil)
	h.check(t, scenario{Method: "POST", URL: "test", WantStatus: 200, WantContains: []string{`"healthy":false`, `"code":"unreachable"`}}, res)
	if strings.Contains(res.Body.String(), "cf-Secret") {
		t.Fatal("test answer shows the key")
	}

	for _, bad := range []map[string]any{
		{"kind": "compreface", "url": "ftp://x", "similarityThreshold": 0.9, "detectionThreshold": 0.5, "timeoutMs": 500, "maxInFlight": 2},
		{"kind": "http", "url": "", "similarityThreshold": 0.9, "detectionThreshold": 0.5, "timeoutMs": 500, "maxInFlight": 2},
		{"kind": "magic", "similarityThreshold": 0.9, "detectionThreshold": 0.5, "timeoutMs": 500, "maxInFlight": 2},
		{"kind": "builtin", "similarityThreshold": 1.5, "detectionThreshold": 0.5, "timeoutMs": 500, "maxInFlight": 2},
	} {
		if res := h.as(admin, "PUT", "/api/v1/detections/provider/config", bad); res.Code != 422 {
			t.Errorf("PUT %v: %d %s", bad, res.Code, res.Body)
		}
	}
}

// The provider health schedule's workflow records status and latency on
// the configuration, where the system views read it.
func TestProviderHealthRecorded(t *testing.T) {
	h := newHarness(t)
	h.startWorker()
	_, admin := h.mustUserToken("root", auth.RoleAdmin)
	run, err := h.temporal.ExecuteWorkflow(context.Background(), client.StartWorkflowOptions{
		ID: "test-provider-health-" + uuid.NewString(), TaskQueue: rctemporal.TaskQueueDefault}, workflows.ProviderHealthWorkflow)
	if err != nil {
		t.Fatal(err)
	}
	var healthy bool
	if err := run.Get(context.Background(), &healthy); err != nil || !healthy {
		t.Fatalf("health workflow: %v %v", healthy, err)
	}
	res := h.as(admin, "GET", "/api/v1/detections/provider/config", nil)
	h.check(t, scenario{Method: "GET", URL: "config", WantStatus: 200, WantContains: []string{`"status":"up"`, `"latencyMs":`, `"checkedAt":"`}}, res)
}
