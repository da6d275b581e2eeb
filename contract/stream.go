package contract

import "time"

// CameraStreamWorkflowInput names the camera whose stream runs, and
// carries a run's state across continue-as-new.
type CameraStreamWorkflowInput struct {
	CameraID string
	// Signals counts reconfigure signals handled by earlier runs.
	Signals int
	// Paused and Since carry the previous run's state; a zero Since means
	// the start of this run.
	Paused bool
	Since  time.Time
	// Totals are the counters of earlier runs' streams; Failures the
	// stream failures since it last delivered a frame; Offline whether the
	// camera was marked offline and not seen since.
	Totals   StreamCounters
	Failures int
	Offline  bool
	// Sessions counts stream sessions of earlier runs.
	Sessions int
	// SessionQueue, when set, is the task queue of the long stream session
	// (workers with a bounded number of stream slots), so the short
	// activities (marking, reporting) never wait behind sessions;
	// PlacementTimeout is how long a session may wait for a slot before
	// the status says no_stream_slot and it is asked for again. Runs
	// started before these existed leave them empty (same queue, no limit).
	SessionQueue     string        `json:",omitempty"`
	PlacementTimeout time.Duration `json:",omitempty"`
	// SessionLimit ends a session after this long (it is opened again at
	// once); zero means 24 hours. Set shorter by tests that record the
	// session-limit path.
	SessionLimit time.Duration `json:",omitempty"`
}

// CameraStreamStatus answers the status query.
type CameraStreamStatus struct {
	CameraID string `json:"cameraId"`
	// State is starting (the stream is being opened), streaming,
	// reconnecting (waiting to retry after a failure) or paused; waiting
	// in runs started before sampling existed.
	State        string         `json:"state"`
	Since        time.Time      `json:"since"`
	Reconfigured int            `json:"reconfigured"`
	Counters     StreamCounters `json:"counters"`
	LastFrameAt  *time.Time     `json:"lastFrameAt,omitempty"`
	// Sessions counts the times the stream was opened.
	Sessions int `json:"sessions"`
	// Failures counts failures since the stream last delivered a frame;
	// LastError is the last failure's message (never a credential).
	Failures      int        `json:"failures"`
	LastError     string     `json:"lastError,omitempty"`
	LastErrorCode string     `json:"lastErrorCode,omitempty"`
	RetryAt       *time.Time `json:"retryAt,omitempty"`
	// LastProviderError is the provider's last failure on this stream.
	LastProviderError string `json:"lastProviderError,omitempty"`
	KeyframesOnly     bool   `json:"keyframesOnly"`
}

// Stream states of CameraStreamStatus.
const (
	StreamStarting     = "starting"
	StreamStreaming    = "streaming"
	StreamReconnecting = "reconnecting"
	StreamPaused       = "paused"
)

// StreamCameraInput names the camera and the workflow's session number,
// which its reports carry so the workflow ignores a stale run's reports.
type StreamCameraInput struct {
	CameraID string
	Session  int
}

// StreamCounters are a stream's running totals.
type StreamCounters struct {
	// FramesRead came from FFmpeg; FramesSent went to the provider;
	// FramesDropped were skipped because the provider was busy;
	// FramesRepeated were copies of the previous frame (key-frame decoding
	// of a camera with sparse key frames) and not sent.
	FramesRead     uint64 `json:"framesRead"`
	FramesSent     uint64 `json:"framesSent"`
	FramesDropped  uint64 `json:"framesDropped"`
	FramesRepeated uint64 `json:"framesRepeated"`
	// Faces and Known count the detections stored.
	Faces uint64 `json:"faces"`
	Known uint64 `json:"known"`
	// ProviderErrors counts frames the provider failed on.
	ProviderErrors uint64 `json:"providerErrors"`
}

// Add returns the sum of c and d.
func (c StreamCounters) Add(d StreamCounters) StreamCounters {
	return StreamCounters{
		FramesRead: c.FramesRead + d.FramesRead, FramesSent: c.FramesSent + d.FramesSent,
		FramesDropped: c.FramesDropped + d.FramesDropped, FramesRepeated: c.FramesRepeated + d.FramesRepeated,
		Faces: c.Faces + d.Faces, Known: c.Known + d.Known, ProviderErrors: c.ProviderErrors + d.ProviderErrors,
	}
}

// StreamReport is a stream's state as its activity reports it: in its
// heartbeats, in signals to the workflow, and in the details of the error
// that ends it.
type StreamReport struct {
	Session     int            `json:"session"`
	Counters    StreamCounters `json:"counters"`
	LastFrameAt time.Time      `json:"lastFrameAt"`
	// LastProviderError is the last provider failure's message (no secret).
	LastProviderError string `json:"lastProviderError,omitempty"`
	KeyframesOnly     bool   `json:"keyframesOnly"`
}

// Streaming reports whether the stream has delivered a frame.
func (r StreamReport) Streaming() bool { return r.Counters.FramesRead > 0 }

// MarkCameraStreamInput records a stream failure on its camera.
type MarkCameraStreamInput struct {
	CameraID string
	// Code is the failure's class (an ffmpeg code); Message its text.
	Code, Message string
	// Attempt is the failure's number since the stream last worked.
	Attempt int
	// RetryIn is how long until the next attempt.
	RetryIn time.Duration
}
