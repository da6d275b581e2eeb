package provider_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/rollcall/rollcall/internal/provider"
)

// TestProviderErrorsDoNotEchoTheRemoteBody: whatever a provider URL
// answers, its words never reach the error (shown to the operator and
// stored as the health error): only a classification.
func TestProviderErrorsDoNotEchoTheRemoteBody(t *testing.T) {
	const secret = "db_password=hunter2"
	for _, status := range []int{http.StatusBadRequest, http.StatusUnauthorized, http.StatusNotFound, http.StatusInternalServerError, http.StatusBadGateway} {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(status)
			_, _ = w.Write([]byte(`{"message":"` + secret + `","error":"` + secret + `","code":"` + secret + `","success":false}`))
		}))
		for _, kind := range []string{"http", "compreface", "codeproject"} {
			p, err := provider.New(provider.Config{Kind: kind, URL: srv.URL, APIKey: "00000000-0000-4000-8000-000000000000",
				SimilarityThreshold: 0.9, DetectionThreshold: 0.5, Timeout: 2 * time.Second, MaxInFlight: 1}, nil)
			if err != nil {
				t.Fatalf("%s: %v", kind, err)
			}
			_, rerr := p.Recognize(context.Background(), []byte("\xff\xd8\xff not really a jpeg"))
			herr := p.Health(context.Background())
			for _, e := range []error{rerr, herr} {
				if e != nil && strings.Contains(e.Error(), "hunter2") {
					t.Errorf("%s, HTTP %d: the error echoes the provider's body: %v", kind, status, e)
				}
			}
			if rerr == nil {
				t.Errorf("%s, HTTP %d: no error", kind, status)
			}
		}
		srv.Close()
	}
}
