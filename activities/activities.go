// Package activities holds the side effects Rollcall's workflows call:
// database, FFmpeg, face providers, MinIO. Activities are methods on one
// Activities struct whose fields are its dependencies.
package activities

import (
	"context"
	"io"
	"log/slog"
	"time"

	"github.com/uptrace/bun"

	"github.com/rollcall/rollcall/internal/ffmpeg"
	"github.com/rollcall/rollcall/internal/live"
	"github.com/rollcall/rollcall/internal/secrets"
)

// Activities carries the dependencies of every activity.
type Activities struct {
	DB      *bun.DB
	Log     *slog.Logger
	Secrets *secrets.Box
	FFmpeg  FFmpeg
	Blobs   Blobs
	Streams StreamControl
	// Providers gives the configured face provider.
	Providers Providers
	// Workflows tells whether another workflow still runs (nil: unknown,
	// treated as not running).
	Workflows WorkflowReader
	// Live publishes events to dashboards (nil: none are published).
	Live Publisher
	// Recent is the live detections view (nil: not kept).
	Recent RecentView
	// Sampler reads camera streams; Reporter tells stream workflows how
	// their streams do; Writer stores stream detections in batches (it
	// must be running); Stream tunes the streams.
	Sampler  Sampler
	Reporter StreamReporter
	Writer   *DetectionWriter
	Stream   StreamSettings
	// Names labels recognised faces (nil: each frame's subjects are
	// looked up).
	Names *ProfileNames
	// ExportPDFMaxRows caps a PDF export's rows (0: no cap).
	ExportPDFMaxRows int
	Now              func() time.Time
}

// WorkflowReader reads other workflows' state and starts them by name
// (temporal.Streams).
type WorkflowReader interface {
	WorkflowRunning(ctx context.Context, workflowID string) (bool, error)
	// StartWorkflow starts workflowType under workflowID on the default
	// task queue; one already running is not an error.
	StartWorkflow(ctx context.Context, workflowID, workflowType string, arg any) error
}

// Publisher publishes live events (live.Hub).
type Publisher interface {
	Publish(ctx context.Context, channel string, e live.Event) error
}

// RecentView is the write side of the live detections view (live.Recent).
type RecentView interface {
	Add(ctx context.Context, cameraID string, at time.Time, items [][]byte) error
}

// FFmpeg is the part of internal/ffmpeg activities use.
type FFmpeg interface {
	Probe(ctx context.Context, in ffmpeg.Input) (ffmpeg.StreamInfo, error)
	Snapshot(ctx context.Context, in ffmpeg.Input) ([]byte, error)
}

// Blobs is the part of the object store activities use.
type Blobs interface {
	Put(ctx context.Context, key string, r io.Reader, size int64, contentType string) error
	Get(ctx context.Context, key string) (io.ReadCloser, error)
	Delete(ctx context.Context, key string) error
	DeletePrefix(ctx context.Context, prefix string) (int, error)
}

func (a *Activities) now() time.Time {
	if a.Now != nil {
		return a.Now()
	}
	return time.Now()
}
