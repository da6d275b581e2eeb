package builtin

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"slices"

	"github.com/rollcall/rollcall/internal/provider"
)

// dataFile is the file in Options.DataDir holding enrolled images.
const dataFile = "builtin-provider.json"

// fileVersion is dataFile's format: 2 names the Recognizer that made the
// descriptors (version 1 files hold the synthetic matcher's, unnamed).
const fileVersion = 2

// storedData is dataFile's content. Descriptors are little-endian float32s.
type storedData struct {
	Version    int           `json:"version"`
	Recognizer string        `json:"recognizer"`
	Images     []storedImage `json:"images"`
}

type storedImage struct {
	Subject    string `json:"subject"`
	ImageID    string `json:"imageId"`
	Descriptor []byte `json:"descriptor"`
}

func storeError(format string, args ...any) error {
	return &provider.Error{Kind: provider.ErrProvider, Msg: "builtin: " + fmt.Sprintf(format, args...)}
}

// load reads the enrolled images kept in dir; none when the file does not
// exist yet. Descriptors made by another recognizer than the one named
// recognizer are refused: they cannot be compared with its own.
func load(dir, recognizer string) ([]enrolled, error) {
	path := filepath.Join(dir, dataFile)
	raw, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, storeError("read %s: %v", path, err)
	}
	var data storedData
	if err := json.Unmarshal(raw, &data); err != nil {
		return nil, storeError("read %s: %v", path, err)
	}
	if data.Version != fileVersion {
		return nil, storeError("%s holds version %d descriptors, this build makes version %d: delete it and enroll again", path, data.Version, fileVersion)
	}
	if data.Recognizer != recognizer {
		return nil, storeError("%s holds descriptors made by recognizer %q, this provider uses %q: delete it and enroll the faces again", path, data.Recognizer, recognizer)
	}
	images := make([]enrolled, 0, len(data.Images))
	for _, im := range data.Images {
		if len(im.Descriptor) == 0 || len(im.Descriptor)%4 != 0 || len(im.Descriptor) != len(data.Images[0].Descriptor) {
			return nil, storeError("read %s: image %s of %s has a malformed descriptor", path, im.ImageID, im.Subject)
		}
		d := make([]float32, len(im.Descriptor)/4)
		for i := range d {
			d[i] = math.Float32frombits(binary.LittleEndian.Uint32(im.Descriptor[4*i:]))
		}
		images = append(images, enrolled{subject: im.Subject, imageID: im.ImageID, descriptor: d})
	}
	slices.SortFunc(images, compareEnrolled) // as saved, unless edited by hand
	return images, nil
}

// save replaces the file in dir with images described by recognizer:
// written to a temporary file, synced, then renamed over the old one, so a
// crash leaves one or the other.
func save(dir, recognizer string, images []enrolled) error {
	data := storedData{Version: fileVersion, Recognizer: recognizer, Images: make([]storedImage, len(images))}
	for i, im := range images {
		b := make([]byte, 4*len(im.descriptor))
		for k, v := range im.descriptor {
			binary.LittleEndian.PutUint32(b[4*k:], math.Float32bits(v))
		}
		data.Images[i] = storedImage{Subject: im.subject, ImageID: im.imageID, Descriptor: b}
	}
	raw, err := json.Marshal(data)
	if err != nil {
		return storeError("encode: %v", err)
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return storeError("save: %v", err)
	}
	tmp, err := os.CreateTemp(dir, "."+dataFile+".*")
	if err != nil {
		return storeError("save: %v", err)
	}
	defer os.Remove(tmp.Name()) // after a successful rename there is nothing to remove
	if _, err := tmp.Write(raw); err != nil {
		tmp.Close()
		return storeError("save: %v", err)
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return storeError("save: %v", err)
	}
	if err := tmp.Close(); err != nil {
		return storeError("save: %v", err)
	}
	if err := os.Rename(tmp.Name(), filepath.Join(dir, dataFile)); err != nil {
		return storeError("save: %v", err)
	}
	return nil
}
