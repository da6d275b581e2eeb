// Package telemetry holds the Prometheus series of Rollcall's worker:
// workflow outcomes, pipeline frames and detections, attendance logs
// created and Odoo sync records. A nil *Metrics counts nothing, so code
// under test needs none. docs/operations.md ("Metrics") lists each series.
package telemetry

import (
	"github.com/prometheus/client_golang/prometheus"
)

// Metrics are the worker's counters. It is a prometheus.Collector: register
// it on the registry that serves /metrics.
type Metrics struct {
	workflows  *prometheus.CounterVec
	frames     *prometheus.CounterVec
	detections *prometheus.CounterVec
	attendance *prometheus.CounterVec
	odoo       *prometheus.CounterVec
}

// Frame outcomes of Frame.
const (
	FrameRead    = "read"
	FrameSent    = "sent"
	FrameDropped = "dropped"
)

// New returns the worker's counters, all at zero.
func New() *Metrics {
	return &Metrics{
		workflows: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "rollcall_workflows_completed_total",
			Help: "Workflow runs finished on this worker, by workflow type and outcome (completed, failed, canceled, continued_as_new).",
		}, []string{"workflow_type", "outcome"}),
		frames: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "rollcall_pipeline_frames_total",
			Help: "Camera frames by outcome: read from FFmpeg, sent to the provider, dropped because the provider was busy.",
		}, []string{"outcome"}),
		detections: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "rollcall_detections_stored_total",
			Help: "Stream detections stored, by whether the face was recognised (known true/false).",
		}, []string{"known"}),
		attendance: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "rollcall_attendance_logs_created_total",
			Help: "Attendance logs created from recognitions, by direction (in, out).",
		}, []string{"direction"}),
		odoo: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "rollcall_odoo_sync_records_total",
			Help: "Attendance records handled by the Odoo sync, by outcome (synced, failed, skipped, …).",
		}, []string{"outcome"}),
	}
}

func (m *Metrics) vecs() []*prometheus.CounterVec {
	return []*prometheus.CounterVec{m.workflows, m.frames, m.detections, m.attendance, m.odoo}
}

// Describe implements prometheus.Collector.
func (m *Metrics) Describe(ch chan<- *prometheus.Desc) {
	for _, v := range m.vecs() {
		v.Describe(ch)
	}
}

// Collect implements prometheus.Collector.
func (m *Metrics) Collect(ch chan<- prometheus.Metric) {
	for _, v := range m.vecs() {
		v.Collect(ch)
	}
}

// WorkflowDone counts a finished workflow run.
func (m *Metrics) WorkflowDone(workflowType, outcome string) {
	if m != nil {
		m.workflows.WithLabelValues(workflowType, outcome).Inc()
	}
}

// Frame counts one frame with outcome FrameRead, FrameSent or FrameDropped.
func (m *Metrics) Frame(outcome string) {
	if m != nil {
		m.frames.WithLabelValues(outcome).Inc()
	}
}

// DetectionsStored counts stored detections.
func (m *Metrics) DetectionsStored(known bool, n int) {
	if m != nil && n > 0 {
		k := "false"
		if known {
			k = "true"
		}
		m.detections.WithLabelValues(k).Add(float64(n))
	}
}

// AttendanceLogCreated counts one attendance log created.
func (m *Metrics) AttendanceLogCreated(direction string) {
	if m != nil {
		m.attendance.WithLabelValues(direction).Inc()
	}
}

// OdooRecord counts one record handled by the Odoo sync.
func (m *Metrics) OdooRecord(outcome string) {
	if m != nil {
		m.odoo.WithLabelValues(outcome).Inc()
	}
}
