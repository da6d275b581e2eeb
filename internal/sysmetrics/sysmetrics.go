// Package sysmetrics measures the host and the services Rollcall depends
// on: figures sampled every minute by the rollcall-system-metrics schedule
// (CPU, memory, disk, load; database, Redis and bucket sizes; frames,
// detections and task-queue backlogs) and live checks of each service
// (PostgreSQL, Redis, MinIO, Temporal, the face provider, Odoo, the
// workers of each task queue).
package sysmetrics

import (
	"slices"
	"time"
)

// Metric names, as stored in system_metrics and accepted by
// GET /system/metrics/history. Each is defined here once.
const (
	HostCPUPercent        = "host_cpu_percent"
	HostMemoryUsedBytes   = "host_memory_used_bytes"
	HostMemoryTotalBytes  = "host_memory_total_bytes"
	HostDiskUsedBytes     = "host_disk_used_bytes"
	HostDiskTotalBytes    = "host_disk_total_bytes"
	HostLoad1             = "host_load1"
	HostLoad5             = "host_load5"
	HostLoad15            = "host_load15"
	PostgresDatabaseBytes = "postgres_database_bytes"
	PostgresConnections   = "postgres_connections"
	RedisUsedMemoryBytes  = "redis_used_memory_bytes"
	BucketObjects         = "bucket_objects"
	BucketBytes           = "bucket_bytes"
	// BucketListingCapped is 1 when the bucket listing stopped at its cap
	// (BucketObjects and BucketBytes are then lower bounds).
	BucketListingCapped = "bucket_listing_capped"
	// FramesReadTotal is the sum of the frame counters of the running
	// camera streams; FramesPerSecond its rise since the previous sample.
	FramesReadTotal     = "pipeline_frames_read_total"
	FramesPerSecond     = "pipeline_frames_per_second"
	DetectionsPerMinute = "detections_per_minute"
	// QueueBacklog and QueuePollers carry a label "queue".
	QueueBacklog = "temporal_queue_backlog"
	QueuePollers = "temporal_queue_pollers"
)

// Names returns every metric name, sorted.
func Names() []string {
	n := []string{HostCPUPercent, HostMemoryUsedBytes, HostMemoryTotalBytes, HostDiskUsedBytes, HostDiskTotalBytes,
		HostLoad1, HostLoad5, HostLoad15, PostgresDatabaseBytes, PostgresConnections, RedisUsedMemoryBytes,
		BucketObjects, BucketBytes, BucketListingCapped, FramesReadTotal, FramesPerSecond, DetectionsPerMinute,
		QueueBacklog, QueuePollers}
	slices.Sort(n)
	return n
}

// Known reports whether name is one of Names.
func Known(name string) bool { return slices.Contains(Names(), name) }

// Sample is one measured figure; Labels is nil for a metric without any.
type Sample struct {
	Name   string
	Value  float64
	Labels map[string]string
}

// Status values of a checked service.
const (
	StatusUp   = "up"
	StatusDown = "down"
	// StatusNoWorkers is a task queue that no worker polls.
	StatusNoWorkers = "no_workers"
)

// Service kinds.
const (
	KindDatabase    = "database"
	KindCache       = "cache"
	KindObjectStore = "object_store"
	KindWorkflow    = "workflow_engine"
	KindProvider    = "face_provider"
	KindOdoo        = "odoo"
	KindWorkers     = "workers"
)

// ServiceStatus is the outcome of one live check.
type ServiceStatus struct {
	Name      string
	Kind      string
	Status    string
	Latency   time.Duration
	Error     string // empty when up; never a credential
	CheckedAt time.Time
	// Queue is set for the workers of a task queue.
	Queue *QueueState
}

// QueueState is what Temporal says of one task queue.
type QueueState struct {
	Queue   string
	Pollers int
	// LastAccess is the latest poll of any of its workers (nil: none).
	LastAccess *time.Time
	// Backlog is the approximate count of tasks waiting (workflow and
	// activity tasks together).
	Backlog int64
}
