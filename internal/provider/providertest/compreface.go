package providertest

import (
	"crypto/rand"
	"fmt"
	"io"
	"math"
	"net/http"
	"path"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
)

// CompreFaceServer stands in for Exadel CompreFace's recognition service,
// as its REST API description and source (CommonExceptionCode,
// SecurityValidationFilter) define it:
//
//   - the key goes in x-api-key; a missing header is 400 code 20, a key
//     that is not a UUID 400 code 26, an unknown key 404 code 10 whose
//     message repeats the key (CompreFace does not answer 401);
//   - "No face is found in the given image" is 400 code 28;
//   - unknown images and subjects are 404 codes 44 and 42;
//   - a 500 is {"message":"Something went wrong, please try again","code":0}.
type CompreFaceServer struct {
	*Server
	apiKey string

	mu       sync.Mutex
	examples map[string]cfExample // image_id → example
}

type cfExample struct {
	subject string
	feature feature
}

// NewCompreFace starts a CompreFace stand-in that accepts apiKey, which
// must be a UUID as CompreFace's keys are.
func NewCompreFace(t testing.TB, apiKey string) *CompreFaceServer {
	t.Helper()
	if !isUUID(apiKey) {
		t.Fatalf("providertest: CompreFace API keys are UUIDs, not %q", apiKey)
	}
	c := &CompreFaceServer{apiKey: apiKey, examples: map[string]cfExample{}}
	mux := http.NewServeMux()
	c.Server = newServer(t, mux, func(w http.ResponseWriter) {
		cfError(w, http.StatusInternalServerError, 0, "Something went wrong, please try again")
	})
	mux.HandleFunc("POST /api/v1/recognition/recognize", c.handle(EndpointRecognize, c.auth(c.recognize)))
	mux.HandleFunc("POST /api/v1/recognition/faces", c.handle(EndpointEnroll, c.auth(c.addExample)))
	mux.HandleFunc("GET /api/v1/recognition/faces", c.handle(EndpointHealth, c.auth(c.listExamples)))
	mux.HandleFunc("DELETE /api/v1/recognition/faces/{id}", c.handle(EndpointDeleteImage, c.auth(c.deleteExample)))
	mux.HandleFunc("DELETE /api/v1/recognition/subjects/{subject}", c.handle(EndpointDeleteSubject, c.auth(c.deleteSubject)))
	mux.HandleFunc("GET /api/v1/recognition/subjects", c.handle(EndpointHealth, c.auth(c.listSubjects)))
	mux.HandleFunc("GET /api/v1/recognition/subjects/{$}", c.handle(EndpointHealth, c.auth(c.listSubjects)))
	return c
}

// Subjects returns each subject's number of examples.
func (c *CompreFaceServer) Subjects() map[string]int {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := map[string]int{}
	for _, ex := range c.examples {
		out[ex.subject]++
	}
	return out
}

func cfError(w http.ResponseWriter, status, code int, msg string) {
	writeJSON(w, status, map[string]any{"message": msg, "code": code})
}

// auth checks the key the way SecurityValidationFilter does.
func (c *CompreFaceServer) auth(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		key := r.Header.Get("x-api-key")
		switch {
		case key == "":
			cfError(w, http.StatusBadRequest, 20, "Missing header: x-api-key")
		case !isUUID(key):
			cfError(w, http.StatusBadRequest, 26, "Service API key should be UUID")
		case key != c.apiKey:
			cfError(w, http.StatusNotFound, 10, fmt.Sprintf("Recognition service with API Key %s not found", key))
		default:
			h(w, r)
		}
	}
}

// image reads the multipart "file" part: 400 code 34 when missing, 21
// when its extension is not an image's, and the python core's "Image has
// incorrect format or is broken" when it does not decode.
func (c *CompreFaceServer) image(w http.ResponseWriter, r *http.Request) ([]seenFace, bool) {
	if err := r.ParseMultipartForm(maxUpload); err != nil {
		cfError(w, http.StatusBadRequest, 34, "Required request part 'file' is not present")
		return nil, false
	}
	f, hdr, err := r.FormFile("file")
	if err != nil {
		cfError(w, http.StatusBadRequest, 34, "Required request part 'file' is not present")
		return nil, false
	}
	defer f.Close()
	ext := strings.TrimPrefix(strings.ToLower(path.Ext(hdr.Filename)), ".")
	if !slices.Contains([]string{"jpeg", "jpg", "ico", "png", "bmp", "gif", "tif", "tiff", "webp"}, ext) {
		cfError(w, http.StatusBadRequest, 21, fmt.Sprintf("File [%s] has an unavailable extension", hdr.Filename))
		return nil, false
	}
	data, _ := io.ReadAll(f)
	faces, ok := analyze(data)
	if !ok {
		cfError(w, http.StatusBadRequest, 0, "Image has incorrect format or is broken")
		return nil, false
	}
	return faces, true
}

// detProb reads det_prob_threshold (CompreFace's default is 0.8).
func detProb(r *http.Request) float64 {
	if v, err := strconv.ParseFloat(r.URL.Query().Get("det_prob_threshold"), 64); err == nil {
		return v
	}
	return 0.8
}

func (c *CompreFaceServer) recognize(w http.ResponseWriter, r *http.Request) {
	faces, ok := c.image(w, r)
	if !ok {
		return
	}
	faces = slices.DeleteFunc(faces, func(f seenFace) bool { return f.probability < detProb(r) })
	if len(faces) == 0 {
		cfError(w, http.StatusBadRequest, 28, "No face is found in the given image")
		return
	}
	q := r.URL.Query()
	if limit, _ := strconv.Atoi(q.Get("limit")); limit > 0 && limit < len(faces) {
		slices.SortStableFunc(faces, func(a, b seenFace) int { return b.box.Dx()*b.box.Dy() - a.box.Dx()*a.box.Dy() })
		faces = faces[:limit]
	}
	count := 1
	if v, err := strconv.Atoi(q.Get("prediction_count")); err == nil {
		count = v
	}
	c.mu.Lock()
	best := map[string]float64{}
	result := make([]map[string]any, 0, len(faces))
	for _, f := range faces {
		clear(best)
		for _, ex := range c.examples {
			best[ex.subject] = max(best[ex.subject], similarity(f.feature, ex.feature))
		}
		subjects := make([]map[string]any, 0, len(best))
		for s, sim := range best {
			subjects = append(subjects, map[string]any{"subject": s, "similarity": math.Round(sim*1e5) / 1e5})
		}
		slices.SortFunc(subjects, func(a, b map[string]any) int {
			if d := b["similarity"].(float64) - a["similarity"].(float64); d != 0 {
				return int(math.Copysign(1, d))
			}
			return strings.Compare(a["subject"].(string), b["subject"].(string))
		})
		result = append(result, map[string]any{
			"box": map[string]any{
				"probability": f.probability,
				"x_min":       f.box.Min.X, "y_min": f.box.Min.Y, "x_max": f.box.Max.X, "y_max": f.box.Max.Y,
			},
			"subjects": subjects[:min(count, len(subjects))],
		})
	}
	c.mu.Unlock()
	writeJSON(w, http.StatusOK, map[string]any{
		"result":           result,
		"plugins_versions": map[string]string{"detector": "facenet.FaceDetector", "calculator": "facenet.Calculator"},
	})
}

func (c *CompreFaceServer) addExample(w http.ResponseWriter, r *http.Request) {
	subject := r.URL.Query().Get("subject")
	if strings.TrimSpace(subject) == "" {
		cfError(w, http.StatusBadRequest, 26, "Subject name is empty")
		return
	}
	faces, ok := c.image(w, r)
	if !ok {
		return
	}
	faces = slices.DeleteFunc(faces, func(f seenFace) bool { return f.probability < detProb(r) })
	switch {
	case len(faces) == 0:
		cfError(w, http.StatusBadRequest, 28, "No face is found in the given image")
		return
	case len(faces) > 1:
		cfError(w, http.StatusBadRequest, 31, "More than one face in the source image")
		return
	}
	id := newUUID()
	c.mu.Lock()
	c.examples[id] = cfExample{subject: subject, feature: faces[0].feature}
	c.mu.Unlock()
	writeJSON(w, http.StatusCreated, map[string]string{"image_id": id, "subject": subject})
}

func (c *CompreFaceServer) deleteExample(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	if !isUUID(id) {
		cfError(w, http.StatusBadRequest, 0, "Something went wrong, please try again")
		return
	}
	c.mu.Lock()
	ex, ok := c.examples[id]
	delete(c.examples, id)
	c.mu.Unlock()
	if !ok {
		cfError(w, http.StatusNotFound, 44, fmt.Sprintf("Image %s not found", id))
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{"image_id": id, "subject": ex.subject})
}

func (c *CompreFaceServer) deleteSubject(w http.ResponseWriter, r *http.Request) {
	subject := r.PathValue("subject")
	c.mu.Lock()
	found := false
	for id, ex := range c.examples {
		if ex.subject == subject {
			delete(c.examples, id)
			found = true
		}
	}
	c.mu.Unlock()
	if !found {
		cfError(w, http.StatusNotFound, 42, fmt.Sprintf("Subject %s not found", subject))
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{"subject": subject})
}

// listExamples answers GET /api/v1/recognition/faces: the examples, of one
// subject with ?subject=, paged by page (from 0) and size (default 20).
func (c *CompreFaceServer) listExamples(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	page, _ := strconv.Atoi(q.Get("page"))
	size, err := strconv.Atoi(q.Get("size"))
	if err != nil || size <= 0 {
		size = 20
	}
	subject := q.Get("subject")
	c.mu.Lock()
	var ids []string
	for id, ex := range c.examples {
		if subject == "" || ex.subject == subject {
			ids = append(ids, id)
		}
	}
	slices.Sort(ids)
	faces := []map[string]string{}
	for i := page * size; i < len(ids) && i < (page+1)*size; i++ {
		faces = append(faces, map[string]string{"image_id": ids[i], "subject": c.examples[ids[i]].subject})
	}
	c.mu.Unlock()
	writeJSON(w, http.StatusOK, map[string]any{"faces": faces, "page_number": page, "page_size": size,
		"total_pages": (len(ids) + size - 1) / size, "total_elements": len(ids)})
}

func (c *CompreFaceServer) listSubjects(w http.ResponseWriter, _ *http.Request) {
	subjects := []string{}
	for s := range c.Subjects() {
		subjects = append(subjects, s)
	}
	slices.Sort(subjects)
	writeJSON(w, http.StatusOK, map[string]any{"subjects": subjects})
}

func isUUID(s string) bool {
	if len(s) != 36 {
		return false
	}
	for i, r := range s {
		switch {
		case i == 8 || i == 13 || i == 18 || i == 23:
			if r != '-' {
				return false
			}
		case !strings.ContainsRune("0123456789abcdefABCDEF", r):
			return false
		}
	}
	return true
}

func newUUID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6], b[8] = b[6]&0x0f|0x40, b[8]&0x3f|0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}
