package main

import (
	"bytes"
	"context"
	"errors"
	"io"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/rollcall/rollcall/internal/config"
	"github.com/rollcall/rollcall/internal/facenet"
	"github.com/rollcall/rollcall/internal/provider/builtin"
	"github.com/rollcall/rollcall/internal/provider/builtin/synthetic"
)

// withLoader replaces loadFaceNets for the test.
func withLoader(t *testing.T, load func(dir string) (builtin.FaceNets, error)) {
	t.Helper()
	saved := loadFaceNets
	loadFaceNets = load
	t.Cleanup(func() { loadFaceNets = saved })
}

// TestMissingFaceModelsStopStartUp: with engine facenet (the default),
// serve, worker, all and provider refuse to start when the models do not
// load, with the loader's own words (which file, and `make models`).
func TestMissingFaceModelsStopStartUp(t *testing.T) {
	const loaderSays = "facenet: open /models/face_recognition_model.bin: no such file or directory; run `make models`"
	var dirs []string
	withLoader(t, func(dir string) (builtin.FaceNets, error) {
		dirs = append(dirs, dir)
		return nil, errors.New(loaderSays)
	})
	env := stackEnv(map[string]string{"ROLLCALL_JWT_SECRET": "0123456789abcdef0123456789abcdef", "ROLLCALL_MODELS_DIR": "/models",
		"ROLLCALL_BUILTIN_ENGINE": "", "ROLLCALL_DATABASE_URL": "postgres://nobody@127.0.0.1:1/none?sslmode=disable"})
	for _, cmd := range [][]string{{"serve"}, {"worker"}, {"all"}, {"provider", "--addr", "127.0.0.1:0", "--data", t.TempDir()}} {
		err := runWith(context.Background(), cmd, env, &bytes.Buffer{}, nil)
		require.ErrorContains(t, err, loaderSays, "rollcall %s", cmd[0])
	}
	require.Equal(t, []string{"/models", "/models", "/models", "/models"}, dirs)
}

func TestNewRecognizer(t *testing.T) {
	withLoader(t, func(string) (builtin.FaceNets, error) { return stubNets{}, nil })
	rec, err := newRecognizer(config.BuiltinConfig{Engine: config.BuiltinEngineFaceNet, ModelsDir: "m", FaceMinSize: 40, FaceInputSize: 416})
	require.NoError(t, err)
	require.Equal(t, builtin.FaceNetName, rec.Name())
	rec, err = newRecognizer(config.BuiltinConfig{Engine: config.BuiltinEngineSynthetic})
	require.NoError(t, err)
	require.Equal(t, synthetic.Name, rec.Name())
}

// TestProviderCommandRefusesSyntheticInProduction: `rollcall provider`
// holds the production guardrail on its own.
func TestProviderCommandRefusesSyntheticInProduction(t *testing.T) {
	env := map[string]string{"ROLLCALL_ENV": "production", "ROLLCALL_BUILTIN_ENGINE": "synthetic"}
	err := runWith(context.Background(), []string{"provider", "--addr", "127.0.0.1:0"}, func(k string) string { return env[k] }, io.Discard, nil)
	require.ErrorContains(t, err, "ROLLCALL_BUILTIN_ENGINE")
}

// stubNets finds no faces.
type stubNets struct{}

func (stubNets) Detect(*facenet.Image, facenet.DetectOptions) []facenet.Detection { return nil }
func (stubNets) Landmarks(*facenet.Image, facenet.Detection) facenet.Landmarks {
	return facenet.Landmarks{}
}
func (stubNets) Describe(*facenet.Image, facenet.Landmarks) []float32 { return nil }
