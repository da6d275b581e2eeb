package bench

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rollcall/rollcall/internal/facegen"
	"github.com/rollcall/rollcall/internal/provider"
	"github.com/rollcall/rollcall/internal/provider/builtin"
	"github.com/rollcall/rollcall/internal/provider/builtin/synthetic"
)

// BenchmarkProviderRecognize measures the provider plumbing — the engine
// in process and over HTTP through NewServer — with the synthetic matcher
// (cheap, so the figures are the plumbing's): 640×480 JPEG frames, 100
// enrolled subjects (3 images each), 2 and 8 concurrent callers. The real
// face recognition's figures are BenchmarkFaceNet's. It needs no services.
func BenchmarkProviderRecognize(b *testing.B) {
	const subjects, framesPerRun = 100, 32
	engine, err := builtin.NewEngine(builtin.Options{Recognizer: synthetic.New()})
	if err != nil {
		b.Fatal(err)
	}
	enroll := []facegen.Scene{
		{X: 0.5, Y: 0.5, Scale: 0.6, Noise: 0.01},
		{X: 0.4, Y: 0.45, Scale: 0.4, Noise: 0.02, Brightness: 0.9},
		{X: 0.3, Y: 0.55, Scale: 0.45, Noise: 0.015, Brightness: 1.1},
	}
	for seed := range int64(subjects) {
		p := facegen.NewPerson(seed)
		imgs := make([]provider.Image, len(enroll))
		for i, s := range enroll {
			s.NoiseSeed = seed
			imgs[i] = provider.Image{ID: fmt.Sprintf("%d-%d", seed, i), Data: facegen.JPEG(p.Render(s), 85)}
		}
		if _, err := engine.Enroll(b.Context(), fmt.Sprintf("person-%d", seed), imgs); err != nil {
			b.Fatal(err)
		}
	}
	frames := make([][]byte, framesPerRun)
	for i := range frames {
		s := facegen.Scene{X: 0.35 + 0.01*float64(i), Y: 0.5, Scale: 0.5, Noise: 0.03, NoiseSeed: int64(i), Brightness: 0.95}
		frames[i] = facegen.JPEG(facegen.NewPerson(int64(i*3%subjects)).Render(s), 85)
	}
	srv := httptest.NewServer(builtin.NewServer(engine, "bench-key", slog.New(slog.DiscardHandler)))
	defer srv.Close()
	c := client()
	viaHTTP := func(ctx context.Context, frame []byte) error {
		req, _ := http.NewRequestWithContext(ctx, http.MethodPost, srv.URL+"/v1/recognize", bytes.NewReader(frame))
		req.Header.Set("Authorization", "Bearer bench-key")
		res, err := c.Do(req)
		if err != nil {
			return err
		}
		defer res.Body.Close()
		_, _ = io.Copy(io.Discard, res.Body)
		if res.StatusCode != http.StatusOK {
			return fmt.Errorf("recognize: %d", res.StatusCode)
		}
		return nil
	}
	inProcess := func(ctx context.Context, frame []byte) error {
		res, err := engine.Recognize(ctx, frame)
		if err == nil && len(res.Faces) != 1 {
			err = fmt.Errorf("found %d faces, want 1", len(res.Faces))
		}
		return err
	}
	for _, way := range []struct {
		name      string
		recognize func(context.Context, []byte) error
	}{{"engine", inProcess}, {"http", viaHTTP}} {
		for _, callers := range []int{2, 8} {
			b.Run(fmt.Sprintf("%s/callers=%d", way.name, callers), func(b *testing.B) {
				recognizeConcurrently(b, callers, frames, way.recognize)
			})
		}
	}
}

// recognizeConcurrently runs b.N recognitions of frames (round robin) from
// callers goroutines and reports rec/s and latency percentiles.
func recognizeConcurrently(b *testing.B, callers int, frames [][]byte, recognize func(context.Context, []byte) error) {
	var lat latencies
	var next atomic.Int64
	var wg sync.WaitGroup
	b.ResetTimer()
	start := time.Now()
	for range callers {
		wg.Go(func() {
			var ds []time.Duration
			for {
				i := next.Add(1) - 1
				if i >= int64(b.N) {
					break
				}
				t0 := time.Now()
				if err := recognize(b.Context(), frames[i%int64(len(frames))]); err != nil {
					b.Error(err)
					break
				}
				ds = append(ds, time.Since(t0))
			}
			lat.add(ds)
		})
	}
	wg.Wait()
	elapsed := time.Since(start)
	slices.Sort(lat.all)
	rate := float64(len(lat.all)) / elapsed.Seconds()
	b.ReportMetric(rate, "rec/s")
	b.ReportMetric(float64(lat.pct(0.50).Microseconds()), "p50-µs")
	b.ReportMetric(float64(lat.pct(0.95).Microseconds()), "p95-µs")
	b.ReportMetric(float64(lat.pct(0.99).Microseconds()), "p99-µs")
	b.ReportMetric(0, "ns/op")
	b.Logf("%d callers: %d recognitions, %.0f rec/s, p50 %v, p95 %v, p99 %v", callers, len(lat.all), rate, lat.pct(0.50), lat.pct(0.95), lat.pct(0.99))
}
