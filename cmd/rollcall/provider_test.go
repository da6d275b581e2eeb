package main

import (
	"context"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/rollcall/rollcall/internal/testenv"
)

// `rollcall provider` serves the reference provider with no other
// configuration, and requires its API key when one is set.
func TestProviderCommand(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	env := map[string]string{"ROLLCALL_PROVIDER_DATA": t.TempDir(), "ROLLCALL_PROVIDER_API_KEY": "prov-key-123",
		"ROLLCALL_MODELS_DIR": testenv.Require(t, "ROLLCALL_MODELS_DIR")}
	ready := make(chan string, 1)
	done := make(chan error, 1)
	go func() {
		done <- runWith(ctx, []string{"provider", "--addr", "127.0.0.1:0"}, func(k string) string { return env[k] }, io.Discard, ready)
	}()
	var addr string
	select {
	case addr = <-ready:
	case err := <-done:
		t.Fatalf("provider exited: %v", err)
	case <-time.After(10 * time.Second):
		t.Fatal("provider did not start")
	}
	get := func(key string) int {
		req, _ := http.NewRequest(http.MethodGet, "http://"+addr+"/v1/health", nil)
		if key != "" {
			req.Header.Set("Authorization", "Bearer "+key)
		}
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		return res.StatusCode
	}
	if code := get("prov-key-123"); code != 200 {
		t.Fatalf("health with the key: %d", code)
	}
	if code := get("wrong"); code != 401 {
		t.Fatalf("health with a wrong key: %d", code)
	}
	cancel()
	select {
	case err := <-done:
		if err != nil && !strings.Contains(err.Error(), "context canceled") {
			t.Fatalf("shutdown: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("provider did not stop")
	}
}
