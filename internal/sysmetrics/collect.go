package sysmetrics

import (
	"bufio"
	"cmp"
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/rollcall/rollcall/store"
)

// DefaultMaxObjects caps the bucket listing of a collection: 100 list
// requests of 1,000 keys each, once a minute. Past it the bucket figures
// are lower bounds and BucketListingCapped is 1.
const DefaultMaxObjects = 100_000

// maxFPSGap is the longest gap between two samples of the frame total
// over which a rate is still computed (a longer one is no "per second"
// of now).
const maxFPSGap = 10 * time.Minute

// Collect measures every figure: the host's, PostgreSQL's, Redis's, the
// bucket's, the pipeline's and the task queues'. A part that fails is
// left out and its error joined into the returned one; the samples of the
// other parts are returned all the same.
//
// Figures that must hold across processes come from shared state, never
// from this process's counters: detections per minute counts the
// detections table's rows of the last minute; frames per second is the
// rise of the running streams' frame counters (each stream workflow's
// status query, whichever worker reads the camera) since the previous
// stored sample of their total.
func (m *Monitor) Collect(ctx context.Context) ([]Sample, error) {
	type part struct {
		name string
		run  func(context.Context) ([]Sample, error)
	}
	parts := []part{{"host", func(ctx context.Context) ([]Sample, error) { return Host(ctx, cmp.Or(m.DataDir, ".")) }}}
	if m.DB != nil {
		parts = append(parts, part{"postgres", m.postgres}, part{"detections", m.detections})
	}
	if m.Redis != nil {
		parts = append(parts, part{"redis", m.redis})
	}
	if m.Objects != nil {
		parts = append(parts, part{"bucket", m.bucket})
	}
	if m.Streams != nil && m.DB != nil {
		parts = append(parts, part{"frames", m.frames})
	}
	if m.Temporal != nil {
		parts = append(parts, part{"queues", m.queues})
	}
	results := make([][]Sample, len(parts))
	errs := make([]error, len(parts))
	var wg sync.WaitGroup
	for i, p := range parts {
		wg.Go(func() {
			cctx, cancel := context.WithTimeout(ctx, 4*m.timeout())
			defer cancel()
			results[i], errs[i] = p.run(cctx)
			if errs[i] != nil {
				errs[i] = fmt.Errorf("%s: %w", p.name, errs[i])
			}
		})
	}
	wg.Wait()
	var out []Sample
	for _, r := range results {
		out = append(out, r...)
	}
	if err := errors.Join(errs...); err != nil {
		return out, fmt.Errorf("sysmetrics: collect: %w", err)
	}
	return out, nil
}

func (m *Monitor) postgres(ctx context.Context) ([]Sample, error) {
	var size, conns int64
	if err := m.DB.NewRaw("SELECT pg_database_size(current_database())").Scan(ctx, &size); err != nil {
		return nil, err
	}
	if err := m.DB.NewRaw("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()").Scan(ctx, &conns); err != nil {
		return nil, err
	}
	return []Sample{{Name: PostgresDatabaseBytes, Value: float64(size)}, {Name: PostgresConnections, Value: float64(conns)}}, nil
}

func (m *Monitor) detections(ctx context.Context) ([]Sample, error) {
	now := m.now()
	n, err := m.DB.NewSelect().TableExpr("detections").
		Where("detected_at >= ?", now.Add(-time.Minute)).Where("detected_at < ?", now).Count(ctx)
	if err != nil {
		return nil, err
	}
	return []Sample{{Name: DetectionsPerMinute, Value: float64(n)}}, nil
}

func (m *Monitor) redis(ctx context.Context) ([]Sample, error) {
	info, err := m.Redis.Do(ctx, m.Redis.B().Info().Section("memory").Build()).ToString()
	if err != nil {
		return nil, err
	}
	used, ok := infoField(info, "used_memory")
	if !ok {
		return nil, errors.New("INFO memory has no used_memory")
	}
	return []Sample{{Name: RedisUsedMemoryBytes, Value: used}}, nil
}

// infoField reads a numeric field of a Redis INFO answer.
func infoField(info, field string) (float64, bool) {
	sc := bufio.NewScanner(strings.NewReader(info))
	for sc.Scan() {
		k, v, ok := strings.Cut(strings.TrimSpace(sc.Text()), ":")
		if ok && k == field {
			f, err := strconv.ParseFloat(v, 64)
			return f, err == nil
		}
	}
	return 0, false
}

func (m *Monitor) bucket(ctx context.Context) ([]Sample, error) {
	objects, bytes, capped, err := m.Objects.Usage(ctx, cmp.Or(m.MaxObjects, DefaultMaxObjects))
	if err != nil {
		return nil, err
	}
	c := 0.0
	if capped {
		c = 1
	}
	return []Sample{{Name: BucketObjects, Value: float64(objects)}, {Name: BucketBytes, Value: float64(bytes)},
		{Name: BucketListingCapped, Value: c}}, nil
}

// frames sums the frame counters of the running streams and derives the
// rate from the previous stored total. A stream that does not answer its
// status query is left out of the total, which then falls: a fall (or a
// stream that stopped) gives no rate rather than a negative one.
func (m *Monitor) frames(ctx context.Context) ([]Sample, error) {
	ids, err := m.Streams.Running(ctx)
	if err != nil {
		return nil, err
	}
	var total uint64
	var mu sync.Mutex
	var wg sync.WaitGroup
	sem := make(chan struct{}, 8)
	for _, id := range ids {
		wg.Go(func() {
			sem <- struct{}{}
			defer func() { <-sem }()
			st, err := m.Streams.Status(ctx, id)
			if err != nil {
				return
			}
			mu.Lock()
			total += st.Counters.FramesRead
			mu.Unlock()
		})
	}
	wg.Wait()
	out := []Sample{{Name: FramesReadTotal, Value: float64(total)}}
	prev, err := store.LatestSystemMetric(ctx, m.DB, FramesReadTotal)
	if errors.Is(err, store.ErrNotFound) {
		return out, nil
	}
	if err != nil {
		return out, err
	}
	if gap := m.now().Sub(prev.RecordedAt); gap > 0 && gap <= maxFPSGap && float64(total) >= prev.Value {
		out = append(out, Sample{Name: FramesPerSecond, Value: (float64(total) - prev.Value) / gap.Seconds()})
	}
	return out, nil
}

func (m *Monitor) queues(ctx context.Context) ([]Sample, error) {
	var out []Sample
	var errs []error
	for _, q := range m.Queues {
		st, err := DescribeQueue(ctx, m.Temporal.WorkflowService(), m.Namespace, q)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		labels := map[string]string{"queue": q}
		out = append(out, Sample{Name: QueueBacklog, Value: float64(st.Backlog), Labels: labels},
			Sample{Name: QueuePollers, Value: float64(st.Pollers), Labels: labels})
	}
	return out, errors.Join(errs...)
}
