// Package activities holds the side effects Rollcall's workflows call:
// database, FFmpeg, face providers, MinIO. Activities are methods on one
// Activities struct whose fields are its dependencies.
package activities

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"time"

	"github.com/uptrace/bun"

	"github.com/rollcall/rollcall/contract"
	"github.com/rollcall/rollcall/internal/alerts"
	"github.com/rollcall/rollcall/internal/ffmpeg"
	"github.com/rollcall/rollcall/internal/live"
	"github.com/rollcall/rollcall/internal/provider"
	"github.com/rollcall/rollcall/internal/secrets"
	"github.com/rollcall/rollcall/internal/sysmetrics"
	"github.com/rollcall/rollcall/internal/telemetry"
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
	// OdooHTTP, when set, sends the requests to Odoo (nil: a default client).
	OdooHTTP *http.Client
	// WebhookHTTP sends alert webhooks (nil: NewWebhookClient with the
	// egress policy's defaults).
	WebhookHTTP *http.Client
	// Alerts raises and clears alerts (nil: none are raised).
	Alerts *alerts.Service
	// System measures the host and checks the services for the system
	// metrics schedule (nil: the host and the database only).
	System *sysmetrics.Monitor
	// Telemetry counts frames and Odoo sync records for /metrics (nil:
	// not counted).
	Telemetry *telemetry.Metrics
	// ExportPDFMaxRows caps a PDF export's rows (0: no cap).
	ExportPDFMaxRows int
	Now              func() time.Time

	unknownThrottle unknownFaceThrottle
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

// Sampler reads a camera continuously (ffmpeg.Runner).
type Sampler interface {
	Sample(ctx context.Context, in ffmpeg.Input, o ffmpeg.SampleOptions, onFrame func(ffmpeg.Frame)) error
}

// StreamReporter tells a camera's stream workflow how its stream is doing
// (temporal.Streams signals the workflow run).
type StreamReporter interface {
	ReportStream(ctx context.Context, cameraID, runID string, r contract.StreamReport) error
}

// StreamControl starts, stops and lists camera stream workflows.
type StreamControl interface {
	Start(ctx context.Context, cameraID string) error
	Stop(ctx context.Context, cameraID string) error
	Running(ctx context.Context) ([]string, error)
}

// publish sends a live event; dashboards are a convenience, so a failure
// is logged, never the activity's failure.
func (a *Activities) publish(ctx context.Context, channel string, e live.Event) {
	if a.Live == nil {
		return
	}
	if err := a.Live.Publish(ctx, channel, e); err != nil {
		a.Log.Warn("live event not published", slog.String("channel", channel), slog.String("type", e.Type), slog.String("error", err.Error()))
	}
}

// Providers gives activities the configured face provider.
type Providers interface {
	Current(ctx context.Context) (provider.Provider, provider.Config, error)
}

func (a *Activities) readObject(ctx context.Context, key string) ([]byte, error) {
	r, err := a.Blobs.Get(ctx, key)
	if err != nil {
		return nil, err
	}
	defer r.Close()
	return io.ReadAll(io.LimitReader(r, 32<<20))
}
