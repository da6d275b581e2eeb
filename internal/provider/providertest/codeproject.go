package providertest

import (
	"io"
	"maps"
	"mime/multipart"
	"net/http"
	"slices"
	"strconv"
	"sync"
	"testing"
)

// CodeProjectServer stands in for CodeProject.AI Server's Face Processing
// module (intelligencelayer/face.py, modulesettings.json) or, made with
// NewDeepStack, for DeepStack (server/server.go, middlewares.go):
//
//   - recognize uses min_confidence (default 0.67) both to detect faces and
//     as the similarity below which a face is {"userid":"unknown",
//     "confidence":0}; no face is {"success":false,"error":"No face found
//     in image"};
//   - register takes every file of the form, keeps one averaged
//     registration per userid and replaces the earlier one; no usable face
//     is {"success":false,"error":"No face detected"};
//   - delete of an unknown userid succeeds; list returns the userids.
//
// CodeProject.AI answers failures with HTTP 200 and has no API key;
// DeepStack answers them with 400 and, when it has a key, refuses a wrong
// api_key field with 401 {"success":false,"error":"Incorrect api key"}.
type CodeProjectServer struct {
	*Server
	deepStack bool
	apiKey    string

	mu    sync.Mutex
	users map[string]cpUser
}

type cpUser struct {
	feature feature
	images  int
}

// NewCodeProject starts a CodeProject.AI stand-in.
func NewCodeProject(t testing.TB) *CodeProjectServer {
	t.Helper()
	return newCodeProject(t, false, "")
}

// NewDeepStack starts a DeepStack stand-in that requires apiKey (none if "").
func NewDeepStack(t testing.TB, apiKey string) *CodeProjectServer {
	t.Helper()
	return newCodeProject(t, true, apiKey)
}

func newCodeProject(t testing.TB, deepStack bool, apiKey string) *CodeProjectServer {
	t.Helper()
	c := &CodeProjectServer{deepStack: deepStack, apiKey: apiKey, users: map[string]cpUser{}}
	mux := http.NewServeMux()
	c.Server = newServer(t, mux, func(w http.ResponseWriter) {
		writeJSON(w, http.StatusInternalServerError, map[string]any{"success": false, "error": "An Error occurred during processing"})
	})
	mux.HandleFunc("POST /v1/vision/face/recognize", c.handle(EndpointRecognize, c.form(c.recognize)))
	mux.HandleFunc("POST /v1/vision/face/register", c.handle(EndpointEnroll, c.form(c.register)))
	mux.HandleFunc("POST /v1/vision/face/delete", c.handle(EndpointDeleteSubject, c.form(c.delete)))
	mux.HandleFunc("POST /v1/vision/face/list", c.handle(EndpointHealth, c.form(c.list)))
	if !deepStack {
		ping := func(w http.ResponseWriter, _ *http.Request) {
			writeJSON(w, http.StatusOK, map[string]any{"success": true, "message": "2.9.5", "version": map[string]any{"major": 2, "minor": 9, "patch": 5}})
		}
		mux.HandleFunc("GET /v1/status/ping", c.handle(EndpointHealth, ping))
		mux.HandleFunc("GET /v1/server/status/ping", c.handle(EndpointHealth, ping))
	}
	return c
}

// Users returns each registered userid with the number of images its
// current registration was made from.
func (c *CodeProjectServer) Users() map[string]int {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make(map[string]int, len(c.users))
	for id, u := range c.users {
		out[id] = u.images
	}
	return out
}

// fail answers success:false the way the stand-in's server does.
func (c *CodeProjectServer) fail(w http.ResponseWriter, msg string) {
	status := http.StatusOK
	if c.deepStack {
		status = http.StatusBadRequest
	}
	writeJSON(w, status, map[string]any{"success": false, "error": msg})
}

// form parses the multipart form and checks DeepStack's api_key.
func (c *CodeProjectServer) form(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if err := r.ParseMultipartForm(maxUpload); err != nil && err != http.ErrNotMultipart {
			c.fail(w, "An Error occurred during processing")
			return
		}
		if c.deepStack && c.apiKey != "" && r.PostFormValue("api_key") != c.apiKey {
			writeJSON(w, http.StatusUnauthorized, map[string]any{"success": false, "error": "Incorrect api key"})
			return
		}
		h(w, r)
	}
}

func readPart(fh *multipart.FileHeader) []byte {
	f, err := fh.Open()
	if err != nil {
		return nil
	}
	defer f.Close()
	data, _ := io.ReadAll(f)
	return data
}

func (c *CodeProjectServer) recognize(w http.ResponseWriter, r *http.Request) {
	threshold := 0.67
	if v, err := strconv.ParseFloat(r.PostFormValue("min_confidence"), 64); err == nil {
		threshold = v
	}
	if r.MultipartForm == nil || len(r.MultipartForm.File["image"]) == 0 {
		c.fail(w, "No valid image file found")
		return
	}
	faces, ok := analyze(readPart(r.MultipartForm.File["image"][0]))
	if !ok {
		c.fail(w, "The image provided was of an unknown type")
		return
	}
	faces = slices.DeleteFunc(faces, func(f seenFace) bool { return f.probability < threshold })
	if len(faces) == 0 {
		c.fail(w, "No face found in image")
		return
	}
	c.mu.Lock()
	users := maps.Clone(c.users)
	c.mu.Unlock()
	predictions := make([]map[string]any, 0, len(faces))
	known := false
	for _, f := range faces {
		userid, confidence := "unknown", 0.0
		best := -1.0
		for _, id := range slices.Sorted(maps.Keys(users)) {
			if s := similarity(f.feature, users[id].feature); s > best {
				best, userid = s, id
			}
		}
		if best >= threshold {
			confidence, known = best, true
		} else {
			userid = "unknown"
		}
		predictions = append(predictions, map[string]any{
			"confidence": confidence, "userid": userid,
			"x_min": f.box.Min.X, "y_min": f.box.Min.Y, "x_max": f.box.Max.X, "y_max": f.box.Max.Y,
		})
	}
	message := "No known faces"
	if known {
		message = "A face was recognised"
	}
	writeJSON(w, http.StatusOK, map[string]any{
		"success": true, "message": message, "count": len(predictions), "predictions": predictions,
		"inferenceMs": 1, "processMs": 1, "analysisRoundTripMs": 2,
	})
}

func (c *CodeProjectServer) register(w http.ResponseWriter, r *http.Request) {
	userid := r.PostFormValue("userid")
	if userid == "" {
		c.fail(w, "userid not specified")
		return
	}
	var files []*multipart.FileHeader
	if r.MultipartForm != nil {
		for _, name := range slices.Sorted(maps.Keys(r.MultipartForm.File)) {
			files = append(files, r.MultipartForm.File[name]...)
		}
	}
	if len(files) == 0 {
		c.fail(w, "No valid image file found")
		return
	}
	var feats []feature
	for _, fh := range files {
		faces, ok := analyze(readPart(fh))
		if !ok {
			c.fail(w, "The image provided was of an unknown type")
			return
		}
		// The module detects with 0.55 and uses the first face found.
		faces = slices.DeleteFunc(faces, func(f seenFace) bool { return f.probability < 0.55 })
		if len(faces) > 0 {
			feats = append(feats, faces[0].feature)
		}
	}
	if len(feats) == 0 {
		c.fail(w, "No face detected")
		return
	}
	c.mu.Lock()
	_, existed := c.users[userid]
	c.users[userid] = cpUser{feature: mean(feats), images: len(feats)}
	c.mu.Unlock()
	message := "face added"
	if existed {
		message = "face updated"
	}
	writeJSON(w, http.StatusOK, map[string]any{"success": true, "message": message, "inferenceMs": 1, "processMs": 1})
}

func (c *CodeProjectServer) delete(w http.ResponseWriter, r *http.Request) {
	userid := r.PostFormValue("userid")
	if userid == "" && c.deepStack {
		c.fail(w, "userid not specified")
		return
	}
	c.mu.Lock()
	delete(c.users, userid)
	c.mu.Unlock()
	writeJSON(w, http.StatusOK, map[string]any{"success": true})
}

func (c *CodeProjectServer) list(w http.ResponseWriter, _ *http.Request) {
	c.mu.Lock()
	faces := slices.Sorted(maps.Keys(c.users))
	c.mu.Unlock()
	writeJSON(w, http.StatusOK, map[string]any{"success": true, "faces": append([]string{}, faces...)})
}
