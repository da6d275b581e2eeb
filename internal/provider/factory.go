package provider

import (
	"errors"
	"fmt"
	"math"
	"net/url"
	"strings"
)

// New returns the provider cfg describes, with the thresholds, timeout and
// bound on calls in flight of cfg applied the same way whatever the kind.
// A zero Timeout or MaxInFlight takes its default (10s, 4). Kind builtin
// without a URL uses inProcess, the in-process builtin engine; with a URL
// it talks to `rollcall provider` over the http protocol. The error, not
// one of the kinds, names the field of cfg that is wrong.
func New(cfg Config, inProcess Provider) (Provider, error) {
	cfg = cfg.withDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	switch cfg.Kind {
	case KindCompreFace:
		return newCompreFace(cfg), nil
	case KindCodeProject:
		return newCodeProject(cfg), nil
	case KindHTTP:
		return newHTTPProvider(cfg), nil
	}
	// KindBuiltin
	if cfg.URL != "" {
		return newHTTPProvider(cfg), nil
	}
	if inProcess == nil {
		return nil, errors.New("provider: kind builtin without a URL needs the in-process engine, and there is none")
	}
	return newInProcess(inProcess, cfg), nil
}

func (c Config) withDefaults() Config {
	if c.Timeout == 0 {
		c.Timeout = defaultTimeout
	}
	if c.MaxInFlight == 0 {
		c.MaxInFlight = defaultMaxInFlight
	}
	return c
}

// Validate reports the first field of c that is wrong: Kind unknown, URL
// not an absolute http(s) URL (required for every kind but builtin),
// a threshold outside 0..1, a negative Timeout, MaxInFlight outside
// 1..64, or an API key with control characters or missing for
// compreface. Zero Timeout and MaxInFlight are valid: they take defaults.
func (c Config) Validate() error {
	switch c.Kind {
	case KindBuiltin, KindHTTP, KindCompreFace, KindCodeProject:
	default:
		return fmt.Errorf("provider: Kind %q is not one of %s, %s, %s, %s", c.Kind, KindBuiltin, KindHTTP, KindCompreFace, KindCodeProject)
	}
	if c.URL == "" && c.Kind != KindBuiltin {
		return fmt.Errorf("provider: URL is required for kind %s", c.Kind)
	}
	if c.URL != "" {
		u, err := url.Parse(c.URL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.RawQuery != "" || u.Fragment != "" {
			return errors.New("provider: URL must be an absolute http or https URL without query or fragment, such as http://compreface:8000")
		}
		if u.User != nil {
			return errors.New("provider: URL must not carry credentials; set APIKey instead")
		}
	}
	for _, t := range []struct {
		name  string
		value float64
	}{{"SimilarityThreshold", c.SimilarityThreshold}, {"DetectionThreshold", c.DetectionThreshold}} {
		if math.IsNaN(t.value) || t.value < 0 || t.value > 1 {
			return fmt.Errorf("provider: %s must be between 0 and 1, not %v", t.name, t.value)
		}
	}
	if c.Timeout < 0 {
		return fmt.Errorf("provider: Timeout must be positive, not %s", c.Timeout)
	}
	if c.MaxInFlight < 0 || c.MaxInFlight > 64 {
		return fmt.Errorf("provider: MaxInFlight must be between 1 and 64, not %d", c.MaxInFlight)
	}
	if strings.ContainsFunc(c.APIKey, func(r rune) bool { return r < 0x20 || r == 0x7f }) {
		return errors.New("provider: APIKey must not contain control characters")
	}
	if c.Kind == KindCompreFace && c.APIKey == "" {
		return errors.New("provider: APIKey is required for compreface (the recognition service's key)")
	}
	return nil
}
