// Package provider is Rollcall's face detection and recognition provider
// interface and its adapters: compreface (Exadel CompreFace), codeproject
// (CodeProject.AI / DeepStack), http (Rollcall's own JSON protocol, see
// docs/providers.md) and builtin (the reference provider of package
// builtin, in-process or served by `rollcall provider`).
package provider

import (
	"context"
	"errors"
	"net"
	"time"
)

// Box is a face's bounding box in image pixels.
type Box struct {
	X      int `json:"x"`
	Y      int `json:"y"`
	Width  int `json:"width"`
	Height int `json:"height"`
}

// Face is one detected face and who it is.
type Face struct {
	Box Box
	// DetectionConfidence (0..1) is how sure the provider is this is a face.
	DetectionConfidence float64
	// Subject is the best-matching enrolled subject, or "" for unknown
	// (no subject reached the similarity threshold).
	Subject string
	// Similarity (0..1) is the best match's similarity, also for unknowns.
	Similarity float64
}

// Result is what a provider found in one image. Zero faces is a result,
// not an error.
type Result struct {
	Faces []Face
}

// Image is one image to enroll. ID is Rollcall's image ID: providers that
// support it (builtin, http) enroll idempotently under it, so a retried
// enrollment never registers the same image twice.
type Image struct {
	ID   string
	Data []byte
}

// Capabilities tell callers how a provider stores subjects.
type Capabilities struct {
	// ReplacesSubject: enrolling replaces the subject's earlier
	// registration (CodeProject.AI), so callers pass ALL of a subject's
	// images every time, and deleting one image means re-enrolling the rest.
	ReplacesSubject bool
	// IdempotentEnroll: enrolling an Image.ID already enrolled for the
	// subject does nothing and returns the same provider image ID.
	IdempotentEnroll bool
}

// Provider detects and recognises faces. Implementations are safe for
// concurrent use. Every error wraps one of the Err* kinds below.
type Provider interface {
	// Recognize detects every face in image and names the enrolled subject
	// each one matches best.
	Recognize(ctx context.Context, image []byte) (Result, error)
	// Enroll registers images for subject and returns the provider's ID
	// of each image, in order.
	Enroll(ctx context.Context, subject string, images []Image) ([]string, error)
	// DeleteImage removes one enrolled image; a missing one is not an
	// error. Providers with ReplacesSubject return ErrUnsupported.
	DeleteImage(ctx context.Context, subject, providerImageID string) error
	// DeleteSubject removes a subject and all its images; a missing one is
	// not an error.
	DeleteSubject(ctx context.Context, subject string) error
	// Health reports whether the provider answers and accepts our credentials.
	Health(ctx context.Context) error
	// Capabilities describes how the provider stores subjects.
	Capabilities() Capabilities
}

// ImageLister is a provider that can list a subject's stored images: an
// enrolment interrupted between the provider's answer and the local record
// leaves an image nothing points to, which the next pass removes before
// adding again (providers without idempotent enrolment).
type ImageLister interface {
	SubjectImages(ctx context.Context, subject string) ([]string, error)
}

// Error kinds. Every error a Provider returns wraps exactly one.
var (
	// ErrUnreachable: no answer (connection refused, DNS, timeout while connecting).
	ErrUnreachable = errors.New("provider unreachable")
	// ErrUnauthorized: the provider refused our API key.
	ErrUnauthorized = errors.New("provider refused the API key")
	// ErrBadImage: the provider could not read the image.
	ErrBadImage = errors.New("provider could not read the image")
	// ErrTimeout: the provider did not answer in time.
	ErrTimeout = errors.New("provider timed out")
	// ErrUnsupported: the provider cannot do this operation.
	ErrUnsupported = errors.New("operation not supported by the provider")
	// ErrProvider: the provider answered with an error of its own.
	ErrProvider = errors.New("provider error")
)

// Error is a classified provider error with a user-facing message that
// never contains the API key.
type Error struct {
	Kind error
	Msg  string
}

func (e *Error) Error() string { return e.Msg }

// Unwrap returns the kind.
func (e *Error) Unwrap() error { return e.Kind }

// Code names an error's kind for clients: unreachable, unauthorized,
// bad_image, timeout, unsupported, provider_error.
func Code(err error) string {
	switch {
	case err == nil:
		return ""
	case errors.Is(err, ErrUnreachable):
		return "unreachable"
	case errors.Is(err, ErrUnauthorized):
		return "unauthorized"
	case errors.Is(err, ErrBadImage):
		return "bad_image"
	case errors.Is(err, ErrTimeout):
		return "timeout"
	case errors.Is(err, ErrUnsupported):
		return "unsupported"
	}
	return "provider_error"
}

// Kinds of provider.
const (
	KindBuiltin     = "builtin"
	KindHTTP        = "http"
	KindCompreFace  = "compreface"
	KindCodeProject = "codeproject"
)

// Config selects and tunes a provider.
type Config struct {
	Kind string
	// URL is the provider's base URL (not used by an in-process builtin).
	URL    string
	APIKey string
	// SimilarityThreshold (0..1): a face whose best similarity is below it is unknown.
	SimilarityThreshold float64
	// DetectionThreshold (0..1): faces detected with less confidence are dropped.
	DetectionThreshold float64
	// Timeout bounds one call. MaxInFlight bounds concurrent calls.
	Timeout     time.Duration
	MaxInFlight int
	// Dial, when set, opens the provider's connections (an egress policy's
	// dialer, which refuses addresses it does not allow).
	Dial func(ctx context.Context, network, address string) (net.Conn, error) `json:"-"`
}
