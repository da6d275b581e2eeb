// Package layers holds the test that keeps Rollcall's packages pointing one
// way (DESIGN.md, "Dependency direction").
package layers

import (
	"go/build"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

const module = "github.com/rollcall/rollcall/"

// forbidden lists, per package (a directory of the module), the packages
// its non-test files must not import.
var forbidden = map[string][]string{
	// api starts workflows by name and shares their contracts; the
	// activities run in workers.
	"api": {"activities"},
	// The live transport knows events, not the database.
	"internal/live": {"store", "api", "activities", "workflows", "temporal"},
	// The contracts sit below everything that exchanges them.
	"contract": {"api", "activities", "workflows", "temporal", "store", "internal/live"},
	// Workflow code reaches side effects only through activities.
	"workflows":  {"api", "temporal", "store", "internal/live", "internal/ffmpeg", "internal/secrets"},
	"activities": {"api", "workflows", "temporal"},
	"store":      {"api", "activities", "workflows", "temporal", "internal/live"},
	// Alerts are raised by activities and the API alike.
	"internal/alerts": {"api", "activities", "workflows", "temporal"},
}

func TestLayers(t *testing.T) {
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	for dir, bad := range forbidden {
		pkg, err := build.ImportDir(filepath.Join(root, dir), 0)
		if err != nil {
			t.Fatalf("%s: %v", dir, err)
		}
		if len(pkg.GoFiles) == 0 {
			t.Fatalf("%s: no Go files read", dir)
		}
		for _, imp := range pkg.Imports {
			if rel, ok := strings.CutPrefix(imp, module); ok && slices.Contains(bad, rel) {
				t.Errorf("%s imports %s", dir, rel)
			}
		}
	}
}
