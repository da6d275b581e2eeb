package api

import (
	"context"
	"maps"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/danielgtaylor/huma/v2"

	"github.com/rollcall/rollcall/internal/auth"
	"github.com/rollcall/rollcall/internal/sysmetrics"
	"github.com/rollcall/rollcall/store"
)

// The system metrics views: the latest sample of each metric and a
// metric's downsampled history, read from system_metrics (written every
// minute by the rollcall-system-metrics schedule).

// History bounds: a step between a minute (the sampling interval) and a
// day, and at most maxHistoryPoints steps per answer.
const (
	minHistoryStep   = time.Minute
	maxHistoryStep   = 24 * time.Hour
	maxHistoryPoints = 1000
	// defaultHistoryPoints sizes the step when none is given.
	defaultHistoryPoints = 300
	// latestWithin bounds the search for latest samples (a few sampling
	// intervals: older ones are stale, not latest).
	latestWithin = 10 * time.Minute
)

// MetricSampleBody is one sample.
type MetricSampleBody struct {
	Name       string            `json:"name" example:"host_cpu_percent"`
	Value      float64           `json:"value" example:"12.5"`
	Labels     map[string]string `json:"labels,omitempty" example:"{\"queue\":\"rollcall-default\"}"`
	RecordedAt time.Time         `json:"recordedAt"`
}

// MetricsOutput lists the latest samples.
type MetricsOutput struct {
	Body struct {
		Items []MetricSampleBody `json:"items" doc:"The latest sample of each metric (and label set) of the last 10 minutes"`
	}
}

// MetricHistoryInput selects a metric's history.
type MetricHistoryInput struct {
	Metric string    `query:"metric" required:"true" maxLength:"100" example:"host_cpu_percent" doc:"A metric name (GET /system/metrics lists them; docs/operations.md describes each)"`
	Since  time.Time `query:"since" doc:"RFC 3339; default 24 hours before until"`
	Until  time.Time `query:"until" doc:"RFC 3339; default now"`
	Step   string    `query:"step" maxLength:"20" example:"5m" doc:"Go duration, 1m to 24h; default: the range in about 300 steps, in whole minutes"`
}

// MetricPointBody is one step of a history.
type MetricPointBody struct {
	At    time.Time `json:"at" doc:"Start of the step"`
	Avg   float64   `json:"avg"`
	Min   float64   `json:"min"`
	Max   float64   `json:"max"`
	Count int       `json:"count" doc:"Samples in the step"`
}

// MetricSeriesBody is the history of one label set.
type MetricSeriesBody struct {
	Labels map[string]string `json:"labels,omitempty"`
	Points []MetricPointBody `json:"points"`
}

// MetricHistoryOutput is a metric's downsampled history.
type MetricHistoryOutput struct {
	Body struct {
		Metric string             `json:"metric" example:"host_cpu_percent"`
		Since  time.Time          `json:"since"`
		Until  time.Time          `json:"until"`
		Step   string             `json:"step" example:"5m0s"`
		Series []MetricSeriesBody `json:"series"`
	}
}

func registerSystemMetrics(api huma.API, s *Server) {
	register(api, op{ID: "list-system-metrics", Method: http.MethodGet, Path: "/system/metrics", Tag: "System", Perm: auth.PermSystemRead,
		Summary: "The latest sample of each host and service metric"}, s.listSystemMetrics)
	register(api, op{ID: "get-system-metric-history", Method: http.MethodGet, Path: "/system/metrics/history", Tag: "System", Perm: auth.PermSystemRead,
		Summary: "A metric's history, downsampled to steps (average, minimum, maximum per step)",
		Desc:    "At most 1000 steps per answer; a step from 1m to 24h."}, s.getMetricHistory)
}

func (s *Server) listSystemMetrics(ctx context.Context, _ *struct{}) (*MetricsOutput, error) {
	rows, err := store.LatestSystemMetrics(ctx, s.db, s.now().Add(-latestWithin))
	if err != nil {
		return nil, err
	}
	out := &MetricsOutput{}
	out.Body.Items = make([]MetricSampleBody, len(rows))
	for i, r := range rows {
		b := MetricSampleBody{Name: r.Name, Value: r.Value, RecordedAt: r.RecordedAt}
		if len(r.Labels) > 0 {
			b.Labels = r.Labels
		}
		out.Body.Items[i] = b
	}
	return out, nil
}

// historyStep is the step asked for, or one giving about
// defaultHistoryPoints steps over span; it must lie within the bounds and
// give at most maxHistoryPoints steps.
func historyStep(raw string, span time.Duration) (time.Duration, error) {
	if raw == "" {
		step := (span/defaultHistoryPoints + time.Minute - 1).Truncate(time.Minute)
		return min(max(step, minHistoryStep), maxHistoryStep), nil
	}
	step, err := time.ParseDuration(raw)
	if err != nil {
		return 0, fieldError("query.step", "is not a duration such as 5m or 1h", raw)
	}
	if step < minHistoryStep || step > maxHistoryStep {
		return 0, fieldError("query.step", "must be from 1m to 24h", raw)
	}
	if step%time.Second != 0 {
		return 0, fieldError("query.step", "must be whole seconds", raw)
	}
	if points := (span + step - 1) / step; points > maxHistoryPoints {
		return 0, fieldError("query.step", "gives more than 1000 points over since–until: use a longer step or a shorter range", raw)
	}
	return step, nil
}

func (s *Server) getMetricHistory(ctx context.Context, in *MetricHistoryInput) (*MetricHistoryOutput, error) {
	if !sysmetrics.Known(in.Metric) {
		return nil, fieldError("query.metric", "is not a known metric: "+strings.Join(sysmetrics.Names(), ", "), in.Metric)
	}
	from, to, err := timeRange(in.Since, in.Until)
	if err != nil {
		return nil, err
	}
	until := s.now().UTC()
	if to != nil {
		until = *to
	}
	since := until.Add(-24 * time.Hour)
	if from != nil {
		since = *from
	}
	if !until.After(since) {
		return nil, fieldError("query.since", "must be before until (default now)", in.Since)
	}
	if until.Sub(since) > maxHistoryStep*maxHistoryPoints {
		return nil, fieldError("query.since", "is more than 1000 days before until", in.Since)
	}
	step, err := historyStep(in.Step, until.Sub(since))
	if err != nil {
		return nil, err
	}
	points, err := store.SystemMetricHistory(ctx, s.db, in.Metric, since, until, step)
	if err != nil {
		return nil, err
	}
	out := &MetricHistoryOutput{}
	out.Body.Metric, out.Body.Since, out.Body.Until, out.Body.Step = in.Metric, since, until, step.String()
	out.Body.Series = []MetricSeriesBody{}
	var key string
	for _, p := range points {
		k := labelsKey(p.Labels)
		if len(out.Body.Series) == 0 || k != key {
			series := MetricSeriesBody{Points: []MetricPointBody{}}
			if len(p.Labels) > 0 {
				series.Labels = p.Labels
			}
			out.Body.Series = append(out.Body.Series, series)
			key = k
		}
		last := &out.Body.Series[len(out.Body.Series)-1]
		last.Points = append(last.Points, MetricPointBody{At: p.At.UTC(), Avg: p.Avg, Min: p.Min, Max: p.Max, Count: p.Count})
	}
	return out, nil
}

// labelsKey is a label set as a comparable string (the store orders the
// points by label set, so equal sets are adjacent).
func labelsKey(l map[string]string) string {
	var b strings.Builder
	for _, k := range slices.Sorted(maps.Keys(l)) {
		b.WriteString(k + "=" + l[k] + ";")
	}
	return b.String()
}
