package api

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/danielgtaylor/huma/v2"

	"github.com/rollcall/rollcall/internal/auth"
	"github.com/rollcall/rollcall/internal/facenet/samples"
	"github.com/rollcall/rollcall/internal/provider"
	"github.com/rollcall/rollcall/internal/recognizer"
	"github.com/rollcall/rollcall/internal/urlsafe"
	"github.com/rollcall/rollcall/store"
)

// Providers gives the API the configured face provider.
type Providers interface {
	Current(ctx context.Context) (provider.Provider, provider.Config, error)
	Build(cfg provider.Config) (provider.Provider, error)
}

// ProviderHealthBody is the provider's last scheduled health check.
type ProviderHealthBody struct {
	Status    string     `json:"status" enum:"up,down,unknown"`
	LatencyMs *int       `json:"latencyMs,omitempty"`
	Error     string     `json:"error,omitempty"`
	CheckedAt *time.Time `json:"checkedAt,omitempty"`
}

// ProviderConfigBody is the provider configuration as shown (never the key).
type ProviderConfigBody struct {
	Kind                string             `json:"kind" enum:"builtin,http,compreface,codeproject"`
	URL                 string             `json:"url,omitempty" doc:"Empty for the in-process built-in provider"`
	HasAPIKey           bool               `json:"hasApiKey"`
	SimilarityThreshold float64            `json:"similarityThreshold"`
	DetectionThreshold  float64            `json:"detectionThreshold"`
	TimeoutMs           int                `json:"timeoutMs"`
	MaxInFlight         int                `json:"maxInFlight"`
	Health              ProviderHealthBody `json:"health"`
	UpdatedAt           time.Time          `json:"updatedAt"`
}

// ProviderConfigOutput wraps ProviderConfigBody.
type ProviderConfigOutput struct {
	Body ProviderConfigBody
}

// PutProviderConfigInput is PUT /detections/provider/config.
type PutProviderConfigInput struct {
	Body struct {
		Kind                string  `json:"kind" enum:"builtin,http,compreface,codeproject"`
		URL                 string  `json:"url,omitempty" maxLength:"2048" doc:"http(s) base URL; empty with kind builtin runs the built-in provider in-process"`
		APIKey              string  `json:"apiKey,omitempty" maxLength:"512" writeOnly:"true" doc:"Stored encrypted, never returned. Omitted keeps the stored key while kind, scheme, host and port stay the same; otherwise it is dropped."`
		ClearAPIKey         bool    `json:"clearApiKey,omitempty"`
		SimilarityThreshold float64 `json:"similarityThreshold" minimum:"0" maximum:"1" doc:"Below it a face is unknown"`
		DetectionThreshold  float64 `json:"detectionThreshold" minimum:"0" maximum:"1" doc:"Faces detected with less confidence are dropped"`
		TimeoutMs           int     `json:"timeoutMs" minimum:"100" maximum:"120000"`
		MaxInFlight         int     `json:"maxInFlight" minimum:"1" maximum:"64"`
	}
}

// TestProviderOutput reports a provider test.
type TestProviderOutput struct {
	Body struct {
		Healthy              bool   `json:"healthy"`
		HealthLatencyMs      int64  `json:"healthLatencyMs"`
		RecognitionLatencyMs int64  `json:"recognitionLatencyMs,omitempty"`
		FacesFound           int    `json:"facesFound" doc:"Faces found in Rollcall's test image (it shows one face)"`
		Code                 string `json:"code,omitempty" enum:"unreachable,unauthorized,bad_image,timeout,unsupported,provider_error"`
		Error                string `json:"error,omitempty"`
	}
}

func registerProviders(api huma.API, s *Server) {
	register(api, op{ID: "get-provider-config", Method: http.MethodGet, Path: "/detections/provider/config", Tag: "Detections", Perm: auth.PermProviderManage,
		Summary: "The face provider's configuration and last health check"}, s.getProviderConfig)
	register(api, op{ID: "put-provider-config", Method: http.MethodPut, Path: "/detections/provider/config", Tag: "Detections", Perm: auth.PermProviderManage,
		Summary: "Configure the face provider", Desc: "The API key is stored encrypted and never returned."}, s.putProviderConfig)
	register(api, op{ID: "test-provider", Method: http.MethodPost, Path: "/detections/test-provider", Tag: "Detections", Perm: auth.PermProviderManage,
		Summary: "Check the provider and time a recognition of a test image",
		Desc:    "A provider that fails is a 200 with healthy=false and a code; the test never enrolls anything."}, s.testProvider)
}

func providerBody(c *store.ProviderConfig) ProviderConfigBody {
	return ProviderConfigBody{Kind: c.Kind, URL: c.URL, HasAPIKey: c.APIKey != "", SimilarityThreshold: c.SimilarityThreshold,
		DetectionThreshold: c.DetectionThreshold, TimeoutMs: c.TimeoutMs, MaxInFlight: c.MaxInFlight, UpdatedAt: c.UpdatedAt,
		Health: ProviderHealthBody{Status: c.Health, LatencyMs: c.HealthLatencyMs, Error: c.HealthError, CheckedAt: c.HealthCheckedAt}}
}

func (s *Server) getProviderConfig(ctx context.Context, _ *struct{}) (*ProviderConfigOutput, error) {
	c, err := store.GetProviderConfig(ctx, s.db)
	if err != nil {
		return nil, err
	}
	return &ProviderConfigOutput{Body: providerBody(c)}, nil
}

func (s *Server) putProviderConfig(ctx context.Context, in *PutProviderConfigInput) (*ProviderConfigOutput, error) {
	b := in.Body
	c, err := store.GetProviderConfig(ctx, s.db)
	if err != nil {
		return nil, err
	}
	key := ""
	// The stored key belongs to the provider it was given for: another
	// kind, scheme, host or port drops it unless it is sent again.
	moved := b.Kind != c.Kind || (strings.TrimSpace(b.URL) != c.URL && !urlsafe.SameEndpoint(c.URL, strings.TrimSpace(b.URL)))
	switch {
	case b.APIKey != "":
		key = b.APIKey
	case !b.ClearAPIKey && c.APIKey != "" && !moved:
		k, err := s.secrets.Open(c.APIKey, recognizer.APIKeyAAD)
		if err != nil {
			return nil, newProblem(http.StatusConflict, CodeCredentials, "the stored API key cannot be decrypted; send apiKey again")
		}
		key = string(k)
	}
	hadKey := c.APIKey != ""
	before := map[string]any{"kind": c.Kind, "url": urlsafe.Redact(c.URL), "key": storedOrNone(hadKey)}
	cfg := provider.Config{Kind: b.Kind, URL: strings.TrimSpace(b.URL), APIKey: key, SimilarityThreshold: b.SimilarityThreshold,
		DetectionThreshold: b.DetectionThreshold, Timeout: time.Duration(b.TimeoutMs) * time.Millisecond, MaxInFlight: b.MaxInFlight}
	if _, err := s.providers.Build(cfg); err != nil {
		return nil, providerConfigProblem(err)
	}
	c.Kind, c.URL, c.SimilarityThreshold, c.DetectionThreshold = cfg.Kind, cfg.URL, cfg.SimilarityThreshold, cfg.DetectionThreshold
	c.TimeoutMs, c.MaxInFlight, c.APIKey = b.TimeoutMs, b.MaxInFlight, ""
	if key != "" {
		if c.APIKey, err = s.secrets.Seal([]byte(key), recognizer.APIKeyAAD); err != nil {
			return nil, err
		}
	}
	if err := store.SaveProviderConfig(ctx, s.db, c); err != nil {
		return nil, err
	}
	if info := infoFrom(ctx); info != nil {
		info.AuditBefore = before
		after := storedOrNone(c.APIKey != "")
		if moved && hadKey && c.APIKey == "" && !b.ClearAPIKey {
			after = "dropped"
		}
		info.AuditAfter = map[string]any{"kind": c.Kind, "url": urlsafe.Redact(c.URL), "key": after}
	}
	return &ProviderConfigOutput{Body: providerBody(c)}, nil
}

// providerConfigProblem names the field a configuration error is about.
func providerConfigProblem(err error) *Problem {
	msg := err.Error()
	field := "body"
	for _, f := range []string{"url", "kind", "similarityThreshold", "detectionThreshold", "timeout", "maxInFlight"} {
		if strings.Contains(strings.ToLower(msg), strings.ToLower(f)) {
			field = "body." + f
			if f == "timeout" {
				field = "body.timeoutMs"
			}
			break
		}
	}
	return fieldError(field, msg, nil)
}

// testImage is a real photo of one person (a portrait cut from face-api's
// demo photos, MIT), the same on every call: real recognisers find no face
// in a drawn one.
var testImage = sync.OnceValue(func() []byte {
	portrait, _ := samples.PersonA()
	return portrait
})

func (s *Server) testProvider(ctx context.Context, _ *struct{}) (*TestProviderOutput, error) {
	out := &TestProviderOutput{}
	prov, _, err := s.providers.Current(ctx)
	if err != nil {
		var cfgErr *recognizer.ConfigError
		if errors.As(err, &cfgErr) {
			return nil, newProblem(http.StatusConflict, CodeProviderConfig, cfgErr.Error())
		}
		return nil, err
	}
	start := time.Now()
	err = prov.Health(ctx)
	out.Body.HealthLatencyMs = time.Since(start).Milliseconds()
	if err != nil {
		out.Body.Code, out.Body.Error = provider.Code(err), err.Error()
		return out, nil
	}
	start = time.Now()
	res, err := prov.Recognize(ctx, testImage())
	out.Body.RecognitionLatencyMs = time.Since(start).Milliseconds()
	if err != nil {
		out.Body.Code, out.Body.Error = provider.Code(err), err.Error()
		return out, nil
	}
	out.Body.Healthy, out.Body.FacesFound = true, len(res.Faces)
	return out, nil
}
