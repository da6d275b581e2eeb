package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/rollcall/rollcall/internal/facenet/samples"
)

// The demo person is who `make dev`'s demo camera shows and registers: a
// real woman from the face-api package's sample photos (package samples),
// registered from photos cut out of one picture and recognised in another.
const (
	demoPersonName      = "Demo Person"
	demoEmployeeCode    = "DEMO-001"
	demoDepartment      = "Demo"
	demoCameraFile      = "camera.jpg"
	demoEnrolFileFormat = "enrol-%d.jpg" // enrol-1.jpg …
	demoProfileFile     = "person.json"
)

// demoProfile is DIR/person.json: the form fields of POST /faces.
type demoProfile struct {
	EmployeeCode string `json:"employeeCode"`
	Name         string `json:"name"`
	Department   string `json:"department"`
}

// demoFile is one file `rollcall demo-images` writes.
type demoFile struct {
	name string
	data []byte
}

// demoFiles are the demo's files, the same bytes on every call: the
// camera still (sample3.jpg: the demo person in the middle, two others
// beside her), the enrolment photos (cut from sample1.jpg, a different
// picture of her: a portrait, head and shoulders, and the portrait
// mirrored and brighter) and the profile.
func demoFiles() ([]demoFile, error) {
	_, scene := samples.PersonA()
	files := []demoFile{{demoCameraFile, scene}}
	for i, photo := range samples.PersonAPhotos() {
		files = append(files, demoFile{fmt.Sprintf(demoEnrolFileFormat, i+1), photo})
	}
	profile, err := json.MarshalIndent(demoProfile{EmployeeCode: demoEmployeeCode, Name: demoPersonName, Department: demoDepartment}, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("demo-images: %w", err)
	}
	return append(files, demoFile{demoProfileFile, append(profile, '\n')}), nil
}

// runDemoImages is `rollcall demo-images DIR`: it writes the demo files
// into DIR (created if missing), each replaced atomically so a camera
// reading the still never sees half a file.
func runDemoImages(args []string, stdout io.Writer) error {
	if len(args) != 1 || args[0] == "" {
		return usageError("demo-images: want exactly one argument, the directory to write")
	}
	dir := args[0]
	files, err := demoFiles()
	if err != nil {
		return err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("demo-images: %w", err)
	}
	for _, f := range files {
		if err := writeFileAtomic(filepath.Join(dir, f.name), f.data); err != nil {
			return fmt.Errorf("demo-images: %w", err)
		}
		fmt.Fprintln(stdout, filepath.Join(dir, f.name))
	}
	return nil
}

// writeFileAtomic writes data to a temporary file next to path, then
// renames it over path.
func writeFileAtomic(path string, data []byte) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name()) // a no-op once renamed
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	if err := os.Chmod(tmp.Name(), 0o644); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}
