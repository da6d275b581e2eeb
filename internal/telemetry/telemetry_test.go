package telemetry

import (
	"errors"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"go.temporal.io/sdk/interceptor"
	"go.temporal.io/sdk/testsuite"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"
)

func okWorkflow(ctx workflow.Context) error { return nil }

func failingWorkflow(ctx workflow.Context) error { return errors.New("boom") }

func renewingWorkflow(ctx workflow.Context, n int) error {
	if n > 0 {
		return workflow.NewContinueAsNewError(ctx, renewingWorkflow, n-1)
	}
	return nil
}

// TestInterceptorCountsWorkflowOutcomes runs workflows through the
// interceptor and reads the counters as Prometheus would.
func TestInterceptorCountsWorkflowOutcomes(t *testing.T) {
	m := New()
	var s testsuite.WorkflowTestSuite
	for _, run := range []func(env *testsuite.TestWorkflowEnvironment){
		func(env *testsuite.TestWorkflowEnvironment) { env.ExecuteWorkflow(okWorkflow) },
		func(env *testsuite.TestWorkflowEnvironment) { env.ExecuteWorkflow(okWorkflow) },
		func(env *testsuite.TestWorkflowEnvironment) { env.ExecuteWorkflow(failingWorkflow) },
		func(env *testsuite.TestWorkflowEnvironment) { env.ExecuteWorkflow(renewingWorkflow, 1) },
	} {
		env := s.NewTestWorkflowEnvironment()
		env.SetWorkerOptions(worker.Options{Interceptors: []interceptor.WorkerInterceptor{m.Interceptor()}})
		env.RegisterWorkflow(okWorkflow)
		env.RegisterWorkflow(failingWorkflow)
		env.RegisterWorkflow(renewingWorkflow)
		run(env)
	}
	for _, c := range []struct {
		typ, outcome string
		want         float64
	}{
		{"okWorkflow", OutcomeCompleted, 2},
		{"failingWorkflow", OutcomeFailed, 1},
		{"renewingWorkflow", OutcomeContinuedAsNew, 1},
	} {
		if got := testutil.ToFloat64(m.workflows.WithLabelValues(c.typ, c.outcome)); got != c.want {
			t.Errorf("%s %s = %v, want %v", c.typ, c.outcome, got, c.want)
		}
	}
}

func TestCountersAreExposed(t *testing.T) {
	m := New()
	m.Frame(FrameRead)
	m.Frame(FrameRead)
	m.Frame(FrameDropped)
	m.DetectionsStored(true, 3)
	m.DetectionsStored(false, 0)
	m.AttendanceLogCreated("in")
	m.OdooRecord("synced")
	reg := prometheus.NewRegistry()
	reg.MustRegister(m)
	want := `
# HELP rollcall_pipeline_frames_total Camera frames by outcome: read from FFmpeg, sent to the provider, dropped because the provider was busy.
# TYPE rollcall_pipeline_frames_total counter
rollcall_pipeline_frames_total{outcome="dropped"} 1
rollcall_pipeline_frames_total{outcome="read"} 2
# HELP rollcall_detections_stored_total Stream detections stored, by whether the face was recognised (known true/false).
# TYPE rollcall_detections_stored_total counter
rollcall_detections_stored_total{known="true"} 3
# HELP rollcall_attendance_logs_created_total Attendance logs created from recognitions, by direction (in, out).
# TYPE rollcall_attendance_logs_created_total counter
rollcall_attendance_logs_created_total{direction="in"} 1
# HELP rollcall_odoo_sync_records_total Attendance records handled by the Odoo sync, by outcome (synced, failed, skipped, …).
# TYPE rollcall_odoo_sync_records_total counter
rollcall_odoo_sync_records_total{outcome="synced"} 1
`
	if err := testutil.GatherAndCompare(reg, strings.NewReader(want), "rollcall_pipeline_frames_total",
		"rollcall_detections_stored_total", "rollcall_attendance_logs_created_total", "rollcall_odoo_sync_records_total"); err != nil {
		t.Error(err)
	}
	var nilMetrics *Metrics
	nilMetrics.Frame(FrameSent) // a nil *Metrics counts nothing and does not panic
}
