package builtin_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"image"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/rollcall/rollcall/internal/facegen"
	"github.com/rollcall/rollcall/internal/provider"
	"github.com/rollcall/rollcall/internal/provider/builtin"
)

func TestServer(t *testing.T) {
	ann, bob := facegen.NewPerson(21), facegen.NewPerson(22)
	annEnroll := enrollImages(ann)[0].Data
	annFrame, bobFrame := shot(ann, cameraScene), shot(bob, cameraScene)
	const key = "s3cret-key"
	auth := map[string]string{"Authorization": "Bearer " + key}
	cases := []struct {
		name, method, path string
		body               []byte
		headers            map[string]string
		wantStatus         int
		wantContains       []string
	}{
		{"health", "GET", "/v1/health", nil, auth, 200, []string{`{"status":"ok"}`}},
		{"no key", "GET", "/v1/health", nil, nil, 401, []string{`"code":"unauthorized"`}},
		{"wrong key", "GET", "/v1/health", nil, map[string]string{"Authorization": "Bearer nope"}, 401, []string{`"code":"unauthorized"`}},
		{"key without Bearer", "POST", "/v1/recognize", annFrame, map[string]string{"Authorization": key}, 401, []string{`"unauthorized"`}},
		{"recognize enrolled", "POST", "/v1/recognize", annFrame, auth, 200,
			[]string{`"subject":"ann"`, `"box":{"x":`, `"width":`, `"confidence":`, `"subject":"ann","similarity":0.`}},
		{"recognize unknown is still the best match", "POST", "/v1/recognize", bobFrame, auth, 200, []string{`"subject":"ann"`, `"similarity":`}},
		{"recognize no faces", "POST", "/v1/recognize", facegen.JPEG(facegen.RenderMany(facegen.Scene{}, nil, nil), 80), auth, 200, []string{`{"faces":[]}`}},
		{"recognize garbage", "POST", "/v1/recognize", []byte("not an image"), auth, 400, []string{`"code":"bad_image"`}},
		{"recognize empty body", "POST", "/v1/recognize", nil, auth, 400, []string{`"code":"bad_image"`}},
		{"recognize too large", "POST", "/v1/recognize", make([]byte, builtin.MaxBodyBytes+1), auth, 413, []string{`"code":"bad_image"`, "10 MiB"}},
		{"recognize bomb", "POST", "/v1/recognize", pngHeader(100_000, 100_000), auth, 400, []string{`"bad_image"`, "megapixels"}},
		{"enroll", "PUT", "/v1/subjects/bob/images/b1", shot(bob, enrollScenes[0]), auth, 200, []string{`{"imageId":"b1"}`}},
		{"enroll again is idempotent", "PUT", "/v1/subjects/ann/images/a1", annEnroll, auth, 200, []string{`{"imageId":"a1"}`}},
		{"enroll two faces", "PUT", "/v1/subjects/bob/images/b2", facegen.JPEG(facegen.RenderMany(facegen.Scene{Scale: 0.4},
			[]facegen.Person{ann, bob}, [][2]float64{{0.25, 0.5}, {0.75, 0.5}}), 85), auth, 400, []string{`"bad_image"`, "found 2 faces"}},
		{"delete image", "DELETE", "/v1/subjects/ann/images/a1", nil, auth, 204, nil},
		{"delete missing image", "DELETE", "/v1/subjects/zed/images/z1", nil, auth, 204, nil},
		{"delete subject", "DELETE", "/v1/subjects/ann", nil, auth, 204, nil},
		{"delete missing subject", "DELETE", "/v1/subjects/zed", nil, auth, 204, nil},
		{"unknown path", "GET", "/v1/nothing", nil, auth, 404, []string{`"code":"not_found"`}},
		{"wrong method", "GET", "/v1/recognize", nil, auth, 404, []string{`"code":"not_found"`}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e := mustEngine(t, "")
			if _, err := e.Enroll(t.Context(), "ann", []provider.Image{{ID: "a1", Data: annEnroll}}); err != nil {
				t.Fatal(err)
			}
			srv := httptest.NewServer(builtin.NewServer(e, key, slog.New(slog.DiscardHandler)))
			defer srv.Close()
			req, _ := http.NewRequestWithContext(t.Context(), tc.method, srv.URL+tc.path, bytes.NewReader(tc.body))
			for k, v := range tc.headers {
				req.Header.Set(k, v)
			}
			res, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer res.Body.Close()
			body, _ := io.ReadAll(res.Body)
			if res.StatusCode != tc.wantStatus {
				t.Fatalf("status %d, want %d: %s", res.StatusCode, tc.wantStatus, body)
			}
			for _, want := range tc.wantContains {
				if !strings.Contains(string(body), want) {
					t.Errorf("body %s does not contain %s", body, want)
				}
			}
			if tc.wantStatus != 204 && res.Header.Get("Content-Type") != "application/json" {
				t.Errorf("content type %q", res.Header.Get("Content-Type"))
			}
		})
	}
}

// TestServerChangesTheEngine: what the endpoints do is what Recognize then sees.
func TestServerChangesTheEngine(t *testing.T) {
	e := mustEngine(t, "")
	srv := httptest.NewServer(builtin.NewServer(e, "", slog.New(slog.DiscardHandler)))
	defer srv.Close()
	ann := facegen.NewPerson(31)
	do := func(method, path string, body []byte) *http.Response {
		req, _ := http.NewRequestWithContext(t.Context(), method, srv.URL+path, bytes.NewReader(body))
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { res.Body.Close() })
		return res
	}
	recognize := func() *string {
		var out struct {
			Faces []struct{ Subject *string } `json:"faces"`
		}
		if err := json.NewDecoder(do("POST", "/v1/recognize", shot(ann, cameraScene)).Body).Decode(&out); err != nil || len(out.Faces) != 1 {
			t.Fatalf("recognize: %v %+v", err, out)
		}
		return out.Faces[0].Subject
	}
	if s := recognize(); s != nil {
		t.Fatalf("nobody enrolled, subject %q", *s)
	}
	for i, img := range enrollImages(ann) {
		if res := do("PUT", "/v1/subjects/ann/images/"+string(rune('a'+i)), img.Data); res.StatusCode != 200 {
			t.Fatalf("enroll: %d", res.StatusCode)
		}
	}
	if s := recognize(); s == nil || *s != "ann" {
		t.Fatalf("enrolled ann, got %v", s)
	}
	do("DELETE", "/v1/subjects/ann", nil)
	if subjects, _ := e.Subjects(); subjects != 0 {
		t.Fatalf("%d subjects after delete", subjects)
	}
}

// sourceRecorder is a Recognizer that finds nothing and records the
// source of each Find.
type sourceRecorder struct {
	mu      sync.Mutex
	sources []string
}

func (r *sourceRecorder) Name() string { return "test/sources" }
func (r *sourceRecorder) Find(_ context.Context, _ image.Image, source string) ([]builtin.Found, error) {
	r.mu.Lock()
	r.sources = append(r.sources, source)
	r.mu.Unlock()
	return nil, nil
}
func (r *sourceRecorder) Similarity(a, b []float32) float64 { return 0 }

// TestServerPassesAValidSource: the X-Rollcall-Source header reaches the
// recognizer when it is a plausible camera ID, and is ignored otherwise.
func TestServerPassesAValidSource(t *testing.T) {
	rec := &sourceRecorder{}
	e, err := builtin.NewEngine(builtin.Options{Recognizer: rec})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(builtin.NewServer(e, "", slog.New(slog.DiscardHandler)))
	defer srv.Close()
	frame := shot(facegen.NewPerson(1), cameraScene)
	headers := []string{"3f2a9c1e-5b7d-4e8f-9a0b-1c2d3e4f5a6b", "cam_1.a:b", "", strings.Repeat("c", 65), "cam 1", "../etc", "cam\u00e9", "a,b"}
	want := []string{"3f2a9c1e-5b7d-4e8f-9a0b-1c2d3e4f5a6b", "cam_1.a:b", "", "", "", "", "", ""}
	for _, h := range headers {
		req, _ := http.NewRequestWithContext(t.Context(), "POST", srv.URL+"/v1/recognize", bytes.NewReader(frame))
		if h != "" {
			req.Header.Set(provider.SourceHeader, h)
		}
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != 200 {
			t.Fatalf("header %q: status %d", h, res.StatusCode)
		}
	}
	if fmt.Sprintf("%q", rec.sources) != fmt.Sprintf("%q", want) {
		t.Fatalf("sources %q, want %q", rec.sources, want)
	}
}
