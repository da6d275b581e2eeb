package facenet

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math"
	"path/filepath"
	"slices"
)

// manifest is a tfjs weights manifest: groups of weight specs over
// binary shards, each weight float32 or uint8-quantised (q·scale + min).
type manifest []struct {
	Paths   []string     `json:"paths"`
	Weights []weightSpec `json:"weights"`
}

type weightSpec struct {
	Name         string `json:"name"`
	Shape        []int  `json:"shape"`
	Dtype        string `json:"dtype"`
	Quantization *struct {
		Dtype string  `json:"dtype"`
		Scale float64 `json:"scale"`
		Min   float64 `json:"min"`
	} `json:"quantization"`
}

// weights is one network's named tensors, dequantised to float32.
type weights struct {
	model string
	t     map[string]weight
	used  map[string]bool
}

type weight struct {
	shape []int
	data  []float32
}

// readWeights reads model's manifest and shards from dir. read returns a
// file's bytes (checked against its pinned digest by the caller).
func readWeights(dir, model string, read func(path string) ([]byte, error)) (*weights, error) {
	mpath := filepath.Join(dir, model+"-weights_manifest.json")
	raw, err := read(mpath)
	if err != nil {
		return nil, err
	}
	var m manifest
	if err := json.Unmarshal(raw, &m); err != nil {
		return nil, fmt.Errorf("%s: not a weights manifest: %v", mpath, err)
	}
	w := &weights{model: model, t: map[string]weight{}, used: map[string]bool{}}
	for _, group := range m {
		var data []byte
		for _, p := range group.Paths {
			if p != filepath.Base(p) {
				return nil, fmt.Errorf("%s: shard path %q is not a plain file name", mpath, p)
			}
			b, err := read(filepath.Join(dir, p))
			if err != nil {
				return nil, err
			}
			data = append(data, b...)
		}
		for _, spec := range group.Weights {
			n := 1
			for _, d := range spec.Shape {
				if d <= 0 || d > 1<<20 {
					return nil, fmt.Errorf("%s: weight %s has a bad shape %v", mpath, spec.Name, spec.Shape)
				}
				n *= d
			}
			t := weight{shape: spec.Shape, data: make([]float32, n)}
			switch {
			case spec.Quantization != nil && spec.Quantization.Dtype == "uint8":
				if len(data) < n {
					return nil, fmt.Errorf("%s: shard too short for %s", mpath, spec.Name)
				}
				for i := range t.data {
					t.data[i] = float32(float64(data[i])*spec.Quantization.Scale + spec.Quantization.Min)
				}
				data = data[n:]
			case spec.Quantization == nil && spec.Dtype == "float32":
				if len(data) < 4*n {
					return nil, fmt.Errorf("%s: shard too short for %s", mpath, spec.Name)
				}
				for i := range t.data {
					t.data[i] = math.Float32frombits(binary.LittleEndian.Uint32(data[4*i:]))
				}
				data = data[4*n:]
			default:
				return nil, fmt.Errorf("%s: weight %s has an unsupported encoding", mpath, spec.Name)
			}
			w.t[spec.Name] = t
		}
		if len(data) != 0 {
			return nil, fmt.Errorf("%s: %d bytes of its shards are not described by the manifest", mpath, len(data))
		}
	}
	return w, nil
}

// get returns the tensor called name, which must have shape.
func (w *weights) get(name string, shape ...int) ([]float32, error) {
	t, ok := w.t[name]
	if !ok {
		return nil, fmt.Errorf("%s: weight %s is missing", w.model, name)
	}
	if !slices.Equal(t.shape, shape) {
		return nil, fmt.Errorf("%s: weight %s has shape %v, want %v", w.model, name, t.shape, shape)
	}
	w.used[name] = true
	return t.data, nil
}

// unused names a weight the network did not take: a manifest for another
// network, or a network definition that lost a layer.
func (w *weights) unused() error {
	for name := range w.t {
		if !w.used[name] {
			return fmt.Errorf("%s: weight %s is not used by the network", w.model, name)
		}
	}
	return nil
}
