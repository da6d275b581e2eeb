package provider

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// thresholds are Rollcall's own detection and similarity thresholds,
// applied the same way to every provider's raw answer.
type thresholds struct {
	detection  float64
	similarity float64
}

// apply drops faces detected with less confidence than the detection
// threshold (unless the provider already filtered them itself) and makes
// unknown every face whose best similarity is below the similarity
// threshold, keeping that similarity.
func (t thresholds) apply(faces []Face, checkDetection bool) []Face {
	out := make([]Face, 0, len(faces))
	for _, f := range faces {
		if checkDetection && f.DetectionConfidence < t.detection {
			continue
		}
		if f.Similarity < t.similarity {
			f.Subject = ""
		}
		out = append(out, f)
	}
	return out
}

// inProcess wraps the in-process builtin engine, which returns raw best
// subjects and similarities, with the same thresholds, per-call timeout
// and bound on calls in flight as the remote adapters.
type inProcess struct {
	engine  Provider
	t       thresholds
	timeout time.Duration
	slots   chan struct{}
}

func newInProcess(engine Provider, cfg Config) *inProcess {
	return &inProcess{
		engine:  engine,
		t:       thresholds{detection: cfg.DetectionThreshold, similarity: cfg.SimilarityThreshold},
		timeout: cfg.Timeout,
		slots:   make(chan struct{}, cfg.MaxInFlight),
	}
}

// run calls fn with a free slot and the per-call timeout, and makes sure
// its error wraps one of the kinds.
func (p *inProcess) run(ctx context.Context, op string, fn func(context.Context) error) error {
	select {
	case p.slots <- struct{}{}:
	case <-ctx.Done():
		return &Error{Kind: ErrTimeout, Msg: fmt.Sprintf("builtin %s: %v waiting for a free slot", op, ctx.Err())}
	}
	defer func() { <-p.slots }()
	cctx, cancel := context.WithTimeout(ctx, p.timeout)
	defer cancel()
	err := fn(cctx)
	switch {
	case err == nil:
		return nil
	case hasKind(err):
		return err
	case cctx.Err() != nil:
		return &Error{Kind: ErrTimeout, Msg: fmt.Sprintf("builtin %s: %v", op, err)}
	}
	return &Error{Kind: ErrProvider, Msg: fmt.Sprintf("builtin %s: %v", op, err)}
}

var kinds = []error{ErrUnreachable, ErrUnauthorized, ErrBadImage, ErrTimeout, ErrUnsupported, ErrProvider}

func hasKind(err error) bool {
	for _, k := range kinds {
		if errors.Is(err, k) {
			return true
		}
	}
	return false
}

// kindOf returns the kind err wraps, ErrProvider if none.
func kindOf(err error) error {
	for _, k := range kinds {
		if errors.Is(err, k) {
			return k
		}
	}
	return ErrProvider
}

func (p *inProcess) Recognize(ctx context.Context, image []byte) (Result, error) {
	var res Result
	err := p.run(ctx, "recognize", func(ctx context.Context) error {
		var err error
		res, err = p.engine.Recognize(ctx, image)
		return err
	})
	if err != nil {
		return Result{}, err
	}
	return Result{Faces: p.t.apply(res.Faces, true)}, nil
}

func (p *inProcess) Enroll(ctx context.Context, subject string, images []Image) ([]string, error) {
	var ids []string
	err := p.run(ctx, "enroll", func(ctx context.Context) error {
		var err error
		ids, err = p.engine.Enroll(ctx, subject, images)
		return err
	})
	return ids, err
}

func (p *inProcess) DeleteImage(ctx context.Context, subject, providerImageID string) error {
	return p.run(ctx, "delete image", func(ctx context.Context) error {
		return p.engine.DeleteImage(ctx, subject, providerImageID)
	})
}

func (p *inProcess) DeleteSubject(ctx context.Context, subject string) error {
	return p.run(ctx, "delete subject", func(ctx context.Context) error {
		return p.engine.DeleteSubject(ctx, subject)
	})
}

func (p *inProcess) Health(ctx context.Context) error {
	return p.run(ctx, "health", p.engine.Health)
}

func (p *inProcess) Capabilities() Capabilities { return p.engine.Capabilities() }
