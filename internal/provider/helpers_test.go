package provider_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/rollcall/rollcall/internal/provider"
)

const testKey = "0b6f3d2e-8a51-4c1f-9e0a-3f6d2b7c9a10"

func mustNew(tb testing.TB, cfg provider.Config) provider.Provider {
	tb.Helper()
	if cfg.Timeout == 0 {
		cfg.Timeout = 5 * time.Second
	}
	p, err := provider.New(cfg, nil)
	if err != nil {
		tb.Fatalf("provider.New: %v", err)
	}
	return p
}

func mustEnroll(tb testing.TB, p provider.Provider, subject string, images ...provider.Image) []string {
	tb.Helper()
	ids, err := p.Enroll(context.Background(), subject, images)
	if err != nil {
		tb.Fatalf("enroll %s: %v", subject, err)
	}
	if len(ids) != len(images) {
		tb.Fatalf("enroll %s: %d ids for %d images", subject, len(ids), len(images))
	}
	return ids
}

func mustRecognize(tb testing.TB, p provider.Provider, image []byte) []provider.Face {
	tb.Helper()
	res, err := p.Recognize(context.Background(), image)
	if err != nil {
		tb.Fatalf("recognize: %v", err)
	}
	return res.Faces
}

func img(id string, data []byte) provider.Image { return provider.Image{ID: id, Data: data} }

// wantKind fails unless err wraps kind, is a *provider.Error and never
// shows the test API key.
func wantKind(tb testing.TB, err, kind error) {
	tb.Helper()
	if !errors.Is(err, kind) {
		tb.Fatalf("error %v, want kind %v", err, kind)
	}
	var pe *provider.Error
	if !errors.As(err, &pe) {
		tb.Errorf("error %T is not a *provider.Error", err)
	}
	if strings.Contains(err.Error(), testKey) {
		tb.Errorf("error message shows the API key: %q", err.Error())
	}
}

// subjectsOf lists the subject of each face ("" for unknown).
func subjectsOf(faces []provider.Face) []string {
	out := make([]string, len(faces))
	for i, f := range faces {
		out[i] = f.Subject
	}
	return out
}

func errorsIsUnauthorized(err error) bool { return errors.Is(err, provider.ErrUnauthorized) }
