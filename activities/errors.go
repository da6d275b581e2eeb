package activities

import (
	"slices"

	"go.temporal.io/sdk/temporal"

	"github.com/rollcall/rollcall/contract"
	"github.com/rollcall/rollcall/internal/ffmpeg"
	"github.com/rollcall/rollcall/internal/provider"
)

// cameraError turns an FFmpeg failure into an application error typed by
// its class; permanent classes are not retried.
func cameraError(err error) error {
	code := ffmpeg.Code(err)
	msg := err.Error()
	if slices.Contains(contract.PermanentCameraErrors, code) {
		return temporal.NewNonRetryableApplicationError(msg, code, nil)
	}
	return temporal.NewApplicationError(msg, code)
}

// providerError classifies a provider failure for the retry policy: a
// provider that is down or slow is retried; a refused key or an
// unsupported call is not.
func providerError(err error) error {
	code := provider.Code(err)
	switch code {
	case "unauthorized", "unsupported":
		return temporal.NewNonRetryableApplicationError(err.Error(), contract.ProviderErrorType(code), nil)
	}
	return temporal.NewApplicationError(err.Error(), contract.ProviderErrorType(code))
}
