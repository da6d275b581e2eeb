package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/rollcall/rollcall/internal/facegen"
)

// The demo person is who `make dev`'s demo camera shows and registers: a
// facegen person, so the built-in provider recognises them.
const (
	demoPersonSeed      = 35
	demoPersonName      = "Demo Person"
	demoEmployeeCode    = "DEMO-001"
	demoDepartment      = "Demo"
	demoImageQuality    = 90
	demoCameraFile      = "camera.jpg"
	demoEnrolFileFormat = "enrol-%d.jpg" // enrol-1.jpg …
	demoProfileFile     = "person.json"
)

// demoEnrolScenes are the demo person's enrolment photos: three shots of
// their own, none like the camera's.
var demoEnrolScenes = []facegen.Scene{
	{Width: 640, Height: 480, X: 0.5, Y: 0.5, Scale: 0.6, Noise: 0.01, NoiseSeed: 1},
	{Width: 480, Height: 640, X: 0.45, Y: 0.4, Scale: 0.35, Noise: 0.02, NoiseSeed: 2, Brightness: 0.9},
	{Width: 640, Height: 480, X: 0.3, Y: 0.55, Scale: 0.45, Noise: 0.015, NoiseSeed: 3, Brightness: 1.1},
}

// demoCameraScene is the still the demo camera loops: a wider, dimmer,
// noisier view with the person off-centre, as a CCTV camera sees them.
var demoCameraScene = facegen.Scene{Width: 1280, Height: 720, X: 0.62, Y: 0.46, Scale: 0.42, Noise: 0.03, NoiseSeed: 4, Brightness: 0.95}

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
// camera still, the enrolment photos and the profile.
func demoFiles() ([]demoFile, error) {
	p := facegen.NewPerson(demoPersonSeed)
	files := []demoFile{{demoCameraFile, facegen.JPEG(p.Render(demoCameraScene), demoImageQuality)}}
	for i, s := range demoEnrolScenes {
		files = append(files, demoFile{fmt.Sprintf(demoEnrolFileFormat, i+1), facegen.JPEG(p.Render(s), demoImageQuality)})
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
