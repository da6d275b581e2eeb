package contract

import (
	"errors"
	"slices"
	"strings"

	"go.temporal.io/sdk/temporal"
)

// Error types: the Type of the temporal.ApplicationError an activity or
// workflow fails with, and the codes clients see (a stream's lastErrorCode,
// the problem codes of test-connection and snapshot). All are snake_case.
const (
	// A camera's own failures; the same values as ffmpeg.Code.
	ErrTypeUnreachable      = "unreachable"
	ErrTypeAuthFailed       = "auth_failed"
	ErrTypeStreamNotFound   = "not_found"
	ErrTypeUnsupportedCodec = "unsupported_codec"
	ErrTypeTimeout          = "timeout"
	ErrTypeInvalidInput     = "invalid_input"
	ErrTypeStreamFailed     = "failed"
	ErrTypeEgressRefused    = "egress_refused"

	// ErrTypeCameraNotFound: the camera was deleted.
	ErrTypeCameraNotFound = "camera_not_found"
	// ErrTypeCredentials: the camera's stored credentials cannot be
	// decrypted (the encryption key changed).
	ErrTypeCredentials = "credentials_unreadable"
	// ErrTypeCameraInactive ends a stream whose camera is no longer active.
	ErrTypeCameraInactive = "camera_inactive"
	// ErrTypeWorkerShutdown ends a session its worker gave back while
	// shutting down: not the camera's failure.
	ErrTypeWorkerShutdown = "worker_shutdown"
	// ErrTypeWorkerLost: the worker running a stream stopped heartbeating.
	ErrTypeWorkerLost = "worker_lost"
	// ErrTypeNoStreamSlot: no worker had a free stream slot in time.
	ErrTypeNoStreamSlot = "no_stream_slot"

	// ErrTypeProfileNotFound: the face profile is gone or being erased.
	ErrTypeProfileNotFound = "face_profile_not_found"
	// ErrTypeProviderConfig: the face provider's stored configuration
	// cannot be used (its key cannot be decrypted, …).
	ErrTypeProviderConfig = "provider_misconfigured"

	// The face provider's failures, by class (ProviderErrorType).
	ErrTypeProviderUnreachable  = "provider_unreachable"
	ErrTypeProviderUnauthorized = "provider_unauthorized"
	ErrTypeProviderBadImage     = "provider_bad_image"
	ErrTypeProviderTimeout      = "provider_timeout"
	ErrTypeProviderUnsupported  = "provider_unsupported"
	ErrTypeProviderError        = "provider_error"

	// ErrTypeExportBadJob: an export job that cannot run as stored.
	ErrTypeExportBadJob = "export_bad_job"
	// ErrTypeBadDate is a day-close request with an unreadable date.
	ErrTypeBadDate = "bad_date"
)

// legacyErrorTypes are spellings of earlier releases, still found in the
// histories of running workflows.
// (A list, not a map: workflow code reads it, and must not range over a
// map.)
var legacyErrorTypes = []struct{ old, now string }{
	{"CameraNotFound", ErrTypeCameraNotFound},
	{"CredentialsUnreadable", ErrTypeCredentials},
	{"CameraInactive", ErrTypeCameraInactive},
	{"FaceProfileNotFound", ErrTypeProfileNotFound},
	{"ProviderMisconfigured", ErrTypeProviderConfig},
	{"provider_provider_error", ErrTypeProviderError},
}

// NormalizeErrorType maps an error type of an earlier release to today's.
func NormalizeErrorType(t string) string {
	for _, l := range legacyErrorTypes {
		if l.old == t {
			return l.now
		}
	}
	return t
}

// ErrorType is the (normalized) type of err's temporal.ApplicationError,
// or "" when it has none.
func ErrorType(err error) string {
	var appErr *temporal.ApplicationError
	if errors.As(err, &appErr) {
		return NormalizeErrorType(appErr.Type())
	}
	return ""
}

// NonRetryable lists types for a retry policy's NonRetryableErrorTypes,
// with their legacy spellings (an activity of an earlier release may still
// answer with one).
func NonRetryable(types ...string) []string {
	out := slices.Clone(types)
	for _, l := range legacyErrorTypes {
		if slices.Contains(types, l.now) {
			out = append(out, l.old)
		}
	}
	return out
}

// ProviderErrorType is the error type of a face-provider failure of class
// code (provider.Code: unreachable, unauthorized, bad_image, timeout,
// unsupported, provider_error).
func ProviderErrorType(code string) string {
	if strings.HasPrefix(code, "provider_") {
		return code
	}
	return "provider_" + code
}

// PermanentCameraErrors will not pass by retrying.
var PermanentCameraErrors = []string{
	ErrTypeCameraNotFound, ErrTypeCredentials, ErrTypeAuthFailed, ErrTypeStreamNotFound,
	ErrTypeUnsupportedCodec, ErrTypeInvalidInput, ErrTypeEgressRefused,
}

var cameraErrorTypes = []string{
	ErrTypeUnreachable, ErrTypeAuthFailed, ErrTypeStreamNotFound, ErrTypeUnsupportedCodec,
	ErrTypeTimeout, ErrTypeInvalidInput, ErrTypeStreamFailed, ErrTypeEgressRefused,
}

// IsCameraErrorType reports whether t classifies a camera's own failure
// (as opposed to Rollcall's).
func IsCameraErrorType(t string) bool { return slices.Contains(cameraErrorTypes, t) }

// Odoo sync error types.
const (
	// ErrTypeOdooNotConfigured: the sync has no usable connection (no URL,
	// no API key, or the key cannot be decrypted).
	ErrTypeOdooNotConfigured = "odoo_not_configured"
	// ErrTypeOdooAuth: Odoo refused the credentials.
	ErrTypeOdooAuth = "odoo_auth"
	// ErrTypeOdooUnavailable: Odoo could not be reached or was busy.
	ErrTypeOdooUnavailable = "odoo_unavailable"
)
