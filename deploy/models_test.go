package deploy

import (
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// The sums deploy/models.sh checks and those internal/facenet checks at
// load must be the same list.
func TestModelPinsAgree(t *testing.T) {
	script, err := os.ReadFile("models.sh")
	if err != nil {
		t.Fatal(err)
	}
	goSrc, err := os.ReadFile(filepath.Join("..", "internal", "facenet", "modelfiles.go"))
	if err != nil {
		t.Fatal(err)
	}
	block := regexp.MustCompile(`(?s)\nFILES=\((.*?)\n\)`).FindSubmatch(script)
	if block == nil {
		t.Fatal("no FILES=( ... ) in models.sh")
	}
	sh := map[string]string{}
	for _, m := range regexp.MustCompile(`"(\S+) ([0-9a-f]{64})"`).FindAllSubmatch(block[1], -1) {
		sh[string(m[1])] = string(m[2])
	}
	gosums := map[string]string{}
	for _, m := range regexp.MustCompile(`"(\S+)":\s+"([0-9a-f]{64})"`).FindAllSubmatch(goSrc, -1) {
		gosums[string(m[1])] = string(m[2])
	}
	if len(sh) != 6 || len(gosums) != len(sh) {
		t.Fatalf("models.sh pins %d files, modelfiles.go %d; want 6 each", len(sh), len(gosums))
	}
	for name, sum := range sh {
		if gosums[name] != sum {
			t.Errorf("%s: models.sh pins %s, modelfiles.go %q", name, sum, gosums[name])
		}
	}
	version := regexp.MustCompile(`\nPACKAGE=(\S+)\nVERSION=(\S+)\n`).FindSubmatch(script)
	if version == nil || !strings.Contains(string(goSrc), `modelsVersion = "`+string(version[1])+"@"+string(version[2])+`"`) {
		t.Fatal("modelfiles.go's modelsVersion does not name models.sh's package and version")
	}
}

// A tarball without the published integrity is refused before anything
// is extracted, and the work directory goes with it.
func TestModelsScriptRefusesABadTarball(t *testing.T) {
	var asked string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		asked = r.URL.Path
		_, _ = w.Write([]byte("not the face-api tarball"))
	}))
	defer srv.Close()
	dir := filepath.Join(t.TempDir(), "models")
	cmd := exec.Command("bash", "models.sh", dir)
	cmd.Env = append(os.Environ(), "NPM_REGISTRY="+srv.URL)
	out, err := cmd.CombinedOutput()
	if err == nil || !strings.Contains(string(out), "does not have the published integrity") {
		t.Fatalf("models.sh accepted a tarball with the wrong integrity (err %v):\n%s", err, out)
	}
	if asked != "/@vladmandic/face-api/-/face-api-1.7.15.tgz" {
		t.Errorf("models.sh asked for %q", asked)
	}
	left, _ := filepath.Glob(filepath.Join(dir, "*"))
	hidden, _ := filepath.Glob(filepath.Join(dir, ".fetch.*"))
	if len(left)+len(hidden) > 0 {
		t.Errorf("models.sh left files behind after refusing: %v %v", left, hidden)
	}
}

// With the stack's models in place (the test command installs them),
// models.sh is a verified no-op that downloads nothing.
func TestModelsScriptKeepsVerifiedModels(t *testing.T) {
	dir := os.Getenv("ROLLCALL_MODELS_DIR")
	if dir == "" {
		t.Fatal(`ROLLCALL_MODELS_DIR is not set: eval "$(bash deploy/stack.sh env)"`)
	}
	cmd := exec.Command("bash", "models.sh", dir)
	// An address that refuses connections: any download attempt fails.
	cmd.Env = append(os.Environ(), "NPM_REGISTRY=http://127.0.0.1:1")
	out, err := cmd.CombinedOutput()
	if err != nil || !strings.Contains(string(out), "present and verified") {
		t.Fatalf("models.sh on the installed models (err %v):\n%s", err, out)
	}
}
