package activities

import (
	"context"
	"time"

	"go.temporal.io/sdk/activity"

	"github.com/rollcall/rollcall/contract"
	"github.com/rollcall/rollcall/store"
)

// defaultRetentionBatch is the rows read or deleted per statement by the
// retention activities.
const defaultRetentionBatch = 5000

// attendanceKeepWindow is how far from a detection's time its attendance
// log may be (a sent frame's log is written after the provider answered).
const attendanceKeepWindow = time.Hour

// keyDeleter removes many objects per request (blob.Store).
type keyDeleter interface {
	DeleteKeys(ctx context.Context, keys []string) (int, error)
}

// EnsurePartitions creates the day partitions of detections and pipeline
// events from yesterday through ahead days after today (0: the default)
// and returns how many it created.
func (a *Activities) EnsurePartitions(ctx context.Context, ahead int) (int, error) {
	if ahead <= 0 {
		ahead = store.DefaultPartitionsAhead
	}
	return store.EnsurePartitions(ctx, a.DB, a.now(), ahead)
}

// retireProgress is a retention activity's heartbeat: what it removed so
// far and where it is, so a retried attempt resumes there.
type retireProgress struct {
	Result    contract.RetentionResult
	Partition string
	After     *store.RowRef
}

// RetireDetections removes the detections of whole UTC days before
// in.Before and their snapshot frames: for each expired day partition it
// removes the frames its rows name (in batches), then drops the partition;
// expired rows of the DEFAULT partition go in batches, frames first. A
// frame that an attendance log still shows is kept. A second run finds
// nothing to do.
func (a *Activities) RetireDetections(ctx context.Context, in contract.RetentionInput) (contract.RetentionResult, error) {
	return a.retire(ctx, store.DetectionsPartitioned, in)
}

// RetirePipelineEvents removes the pipeline events of whole UTC days
// before in.Before: expired day partitions are dropped, expired rows of the
// DEFAULT partition deleted in batches.
func (a *Activities) RetirePipelineEvents(ctx context.Context, in contract.RetentionInput) (contract.RetentionResult, error) {
	return a.retire(ctx, store.PipelineEventsPartitioned, in)
}

func (a *Activities) retire(ctx context.Context, t store.DayPartitioned, in contract.RetentionInput) (contract.RetentionResult, error) {
	before := store.UTCDay(in.Before)
	batch := in.BatchSize
	if batch <= 0 {
		batch = defaultRetentionBatch
	}
	var p retireProgress
	if activity.IsActivity(ctx) && activity.HasHeartbeatDetails(ctx) {
		_ = activity.GetHeartbeatDetails(ctx, &p) // unreadable: start over, which is safe
	}
	beat := func() {
		if activity.IsActivity(ctx) {
			activity.RecordHeartbeat(ctx, p)
		}
	}
	parts, err := store.ExpiredPartitions(ctx, a.DB, t, before)
	if err != nil {
		return p.Result, err
	}
	for _, part := range parts {
		if p.Partition != part.Name {
			p.Partition, p.After = part.Name, nil
		}
		if t == store.DetectionsPartitioned {
			// Frames first, then the rows: a run that stops midway leaves
			// rows whose frames are gone, never frames nothing names. The
			// day is read an hour at a time, so that no statement reads
			// much more than a batch, with snapshots or without.
			from := part.Day
			if p.After != nil {
				from = p.After.At.Truncate(time.Hour)
			}
			for ; from.Before(part.End()); from = from.Add(time.Hour) {
				for {
					rows, err := store.ExpiredRows(ctx, a.DB, t, part.Name, from, from.Add(time.Hour), p.After, true, batch)
					if err != nil {
						return p.Result, err
					}
					if len(rows) == 0 {
						break
					}
					n, err := a.removeFrames(ctx, rows)
					if err != nil {
						return p.Result, err
					}
					p.Result.Objects += n
					p.After = &rows[len(rows)-1]
					beat()
				}
			}
		}
		n, err := store.CountRows(ctx, a.DB, part.Name)
		if err != nil {
			return p.Result, err
		}
		if err := store.DropPartition(ctx, a.DB, t, part.Name); err != nil {
			return p.Result, err
		}
		p.Result.Rows += n
		p.Result.Partitions++
		p.Partition, p.After = "", nil
		beat()
	}
	for {
		rows, err := store.ExpiredRows(ctx, a.DB, t, t.DefaultPartition(), time.Time{}, before, nil, false, batch)
		if err != nil {
			return p.Result, err
		}
		if len(rows) == 0 {
			return p.Result, nil
		}
		if t == store.DetectionsPartitioned {
			n, err := a.removeFrames(ctx, rows)
			if err != nil {
				return p.Result, err
			}
			p.Result.Objects += n
		}
		n, err := store.DeleteRows(ctx, a.DB, t, rows)
		if err != nil {
			return p.Result, err
		}
		p.Result.Rows += n
		beat()
	}
}

// removeFrames removes the distinct snapshot frames of rows (sorted by
// time) that no attendance log shows, and returns how many it removed.
func (a *Activities) removeFrames(ctx context.Context, rows []store.RowRef) (int64, error) {
	var keys []string
	seen := map[string]bool{}
	for _, r := range rows {
		if r.SnapshotKey != "" && !seen[r.SnapshotKey] {
			seen[r.SnapshotKey] = true
			keys = append(keys, r.SnapshotKey)
		}
	}
	if len(keys) == 0 {
		return 0, nil
	}
	kept, err := store.AttendanceSnapshotKeys(ctx, a.DB, keys, rows[0].At.Add(-attendanceKeepWindow), rows[len(rows)-1].At.Add(attendanceKeepWindow))
	if err != nil {
		return 0, err
	}
	gone := keys[:0]
	for _, k := range keys {
		if !kept[k] {
			gone = append(gone, k)
		}
	}
	return a.deleteKeys(ctx, gone)
}

// deleteKeys removes objects, many per request when the store can.
func (a *Activities) deleteKeys(ctx context.Context, keys []string) (int64, error) {
	if d, ok := a.Blobs.(keyDeleter); ok {
		n, err := d.DeleteKeys(ctx, keys)
		return int64(n), err
	}
	for i, k := range keys {
		if err := a.Blobs.Delete(ctx, k); err != nil {
			return int64(i), err
		}
	}
	return int64(len(keys)), nil
}

// PurgeCameraEvents deletes camera events older than in.Before in
// batches and returns how many it deleted.
func (a *Activities) PurgeCameraEvents(ctx context.Context, in contract.RetentionInput) (int64, error) {
	batch := in.BatchSize
	if batch <= 0 {
		batch = defaultRetentionBatch
	}
	var total int64
	for {
		n, err := store.DeleteCameraEventsBefore(ctx, a.DB, in.Before, batch)
		total += n
		if err != nil || n < int64(batch) {
			return total, err
		}
		if activity.IsActivity(ctx) {
			activity.RecordHeartbeat(ctx, total)
		}
	}
}

// PurgeAttendance deletes attendance logs written before in.Before (with
// their snapshot frames when older than in.SnapshotsBefore: younger ones
// are still named by kept detections) and daily records of work dates
// before it, in batches.
func (a *Activities) PurgeAttendance(ctx context.Context, in contract.RetentionInput) (contract.RetentionResult, error) {
	batch := in.BatchSize
	if batch <= 0 {
		batch = defaultRetentionBatch
	}
	var res contract.RetentionResult
	beat := func() {
		if activity.IsActivity(ctx) {
			activity.RecordHeartbeat(ctx, res)
		}
	}
	for {
		logs, err := store.ExpiredAttendanceLogs(ctx, a.DB, in.Before, batch)
		if err != nil {
			return res, err
		}
		if len(logs) == 0 {
			break
		}
		var keys, ids []string
		seen := map[string]bool{}
		for _, l := range logs {
			ids = append(ids, l.ID)
			if l.SnapshotKey != "" && !seen[l.SnapshotKey] && l.LoggedAt.Before(in.SnapshotsBefore.Add(-attendanceKeepWindow)) {
				seen[l.SnapshotKey] = true
				keys = append(keys, l.SnapshotKey)
			}
		}
		n, err := a.deleteKeys(ctx, keys)
		res.Objects += n
		if err != nil {
			return res, err
		}
		deleted, err := store.DeleteAttendanceLogs(ctx, a.DB, ids)
		res.Rows += deleted
		if err != nil {
			return res, err
		}
		beat()
	}
	for {
		n, err := store.DeleteAttendanceRecordsBefore(ctx, a.DB, in.Before, batch)
		res.Records += n
		if err != nil || n < int64(batch) {
			return res, err
		}
		beat()
	}
}
