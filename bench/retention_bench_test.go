package bench

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"runtime"
	"strings"
	"testing"
	"text/tabwriter"
	"time"

	"github.com/google/uuid"
	"github.com/uptrace/bun"

	"github.com/rollcall/rollcall/activities"
	"github.com/rollcall/rollcall/contract"
	"github.com/rollcall/rollcall/internal/testenv"
	"github.com/rollcall/rollcall/store"
)

// insertRun is one sustained-insert measurement.
type insertRun struct {
	ids     string
	rows    uint64
	elapsed time.Duration
}

func (r insertRun) rate() float64 { return float64(r.rows) / r.elapsed.Seconds() }

// sustainInserts feeds the detection writer (the worker's insert path: one
// INSERT of up to 500 rows per flush into the partitioned table with all
// its indexes) as fast as it stores rows, from 100 cameras, for d, and
// returns the rows written.
func sustainInserts(b *testing.B, db *bun.DB, d time.Duration, newID func() string) insertRun {
	b.Helper()
	ctx := context.Background()
	var cams []string
	for i := range 100 {
		c := &store.Camera{ID: uuid.NewString(), Name: fmt.Sprintf("Cam %d", i), StreamURL: fmt.Sprintf("rtsp://10.0.1.%d/s", i),
			Direction: "both", FPS: 1, Timezone: "UTC", State: "inactive", Health: "unknown"}
		if err := store.CreateCamera(ctx, db, c); err != nil {
			b.Fatal(err)
		}
		cams = append(cams, c.ID)
	}
	w := activities.NewDetectionWriter(db, slog.New(slog.NewTextHandler(io.Discard, nil)))
	runCtx, stop := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { defer close(done); w.Run(runCtx) }()
	start := time.Now()
	added := uint64(0)
	for i := 0; time.Since(start) < d; i++ {
		batch := make([]store.Detection, w.MaxBatch)
		for j := range batch {
			cam := cams[(i*w.MaxBatch+j)%len(cams)]
			batch[j] = store.Detection{ID: newID(), DetectedAt: time.Now().UTC(), CameraID: &cam, Similarity: 0.4, DetectionConfidence: 0.9,
				BoxX: j % 600, BoxY: 40, BoxWidth: 80, BoxHeight: 80, Source: store.DetectionSourceStream}
		}
		w.Add(batch)
		added += uint64(len(batch))
		// Keep at most a few batches pending: the writer, not the
		// feeder, sets the pace.
		for written, _ := w.Stats(); written+uint64(3*w.MaxBatch) < added; written, _ = w.Stats() {
			time.Sleep(time.Millisecond)
		}
	}
	elapsed := time.Since(start)
	written, dropped := w.Stats()
	stop()
	<-done
	if dropped > 0 {
		b.Fatalf("the writer dropped %d rows", dropped)
	}
	return insertRun{rows: written, elapsed: elapsed}
}

// BenchmarkDetectionInsert measures the sustained detection insert rate
// through the detection writer, with UUIDv7 IDs (what Rollcall writes) and,
// for contrast, random UUIDv4 IDs, each for ROLLCALL_BENCH_DURATION (5 s by
// default) into a fresh database. 100 cameras at 1 frame/s with a face in
// view need 100 rows/s.
func BenchmarkDetectionInsert(b *testing.B) {
	d := loadDuration(b)
	var runs []insertRun
	for _, v := range []struct {
		name  string
		newID func() string
	}{{"uuidv7", store.NewDetectionID}, {"uuidv4", uuid.NewString}} {
		b.Run(v.name, func(b *testing.B) {
			r := sustainInserts(b, testenv.DB(b), d, v.newID)
			r.ids = v.name
			runs = append(runs, r)
			b.ReportMetric(r.rate(), "rows/s")
			b.ReportMetric(0, "ns/op")
		})
	}
	var out strings.Builder
	fmt.Fprintf(&out, "\ndetection inserts through the DetectionWriter (batches of 500, primary key and every index in place, partitioned by day), %v per run, GOMAXPROCS=%d\n",
		d, runtime.GOMAXPROCS(0))
	tw := tabwriter.NewWriter(&out, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "ids\trows\tseconds\trows/s\tx the load of 100 cameras (100 rows/s)\t")
	for _, r := range runs {
		fmt.Fprintf(tw, "%s\t%d\t%.1f\t%.0f\t%.0f\t\n", r.ids, r.rows, r.elapsed.Seconds(), r.rate(), r.rate()/100)
	}
	_ = tw.Flush()
	fmt.Print(out.String())
}

// generateDay fills table with n detections of one UTC day, spread over
// it, by INSERT ... SELECT generate_series in batches of 200,000 (each
// statement well within the driver's 10 s read timeout), and returns how
// long it took.
func generateDay(b *testing.B, db *bun.DB, table string, day time.Time, n int) time.Duration {
	b.Helper()
	ctx := context.Background()
	start := time.Now()
	const batch = 200_000
	for from := 0; from < n; from += batch {
		to := min(from+batch, n)
		_, err := db.ExecContext(ctx, `
			WITH c AS (SELECT array_agg(id ORDER BY name) AS ids FROM cameras)
			INSERT INTO ? (id, detected_at, camera_id, face_profile_id, known, similarity, detection_confidence,
			               box_x, box_y, box_width, box_height, snapshot_key, source)
			SELECT gen_random_uuid(), ?::timestamptz + (g::float8 / ? * 86399.999) * interval '1 second', c.ids[1 + g % 100], NULL, false,
			       0.3, 0.9, g % 600, 40, 80, 80, '', 'stream'
			FROM generate_series(?::int, ?::int) g, c`, bun.Ident(table), day, n, from, to-1)
		if err != nil {
			b.Fatal(err)
		}
	}
	return time.Since(start)
}

// BenchmarkRetireDetectionDay measures retiring one day of detections:
// ROLLCALL_BENCH_RETIRE_ROWS rows (8.64 million by default: 100 cameras, one
// face per second, a day) generated with INSERT ... SELECT generate_series
// into the day's partition, then removed by the RetireDetections activity
// (partition drop); for contrast, ROLLCALL_BENCH_DELETE_ROWS rows (1 million
// by default) of one day in an unpartitioned copy of the table with the
// same indexes, removed by DELETE.
func BenchmarkRetireDetectionDay(b *testing.B) {
	n := benchRows(b, "ROLLCALL_BENCH_RETIRE_ROWS", 8_640_000)
	flat := benchRows(b, "ROLLCALL_BENCH_DELETE_ROWS", 1_000_000)
	db := testenv.DB(b)
	ctx := context.Background()
	if _, err := db.ExecContext(ctx, `INSERT INTO cameras (id, name, stream_url, site, direction, timezone)
		SELECT gen_random_uuid(), 'Cam ' || g, 'rtsp://10.0.0.' || g || '/s', 'Site', 'both', 'UTC' FROM generate_series(1, 100) g`); err != nil {
		b.Fatal(err)
	}
	day := store.UTCDay(time.Now().AddDate(0, 0, -60))
	if _, err := store.EnsurePartitions(ctx, db, day, 0); err != nil {
		b.Fatal(err)
	}
	gen := generateDay(b, db, store.DetectionsPartitioned.PartitionName(day), day, n)
	if _, err := db.ExecContext(ctx, "ANALYZE detections"); err != nil {
		b.Fatal(err)
	}
	var size int64
	if err := db.QueryRowContext(ctx, "SELECT pg_total_relation_size(?)", store.DetectionsPartitioned.PartitionName(day)).Scan(&size); err != nil {
		b.Fatal(err)
	}
	acts := &activities.Activities{DB: db, Log: slog.New(slog.NewTextHandler(io.Discard, nil))}
	start := time.Now()
	if _, err := store.CountRows(ctx, db, store.DetectionsPartitioned.PartitionName(day)); err != nil {
		b.Fatal(err)
	}
	count := time.Since(start) // the activity counts the rows it drops the same way
	start = time.Now()
	res, err := acts.RetireDetections(ctx, contract.RetentionInput{Before: day.AddDate(0, 0, 1)})
	retire := time.Since(start)
	if err != nil {
		b.Fatal(err)
	}
	if res.Rows != int64(n) {
		b.Fatalf("retired %d rows, want %d", res.Rows, n)
	}

	// The same shape without partitions: a plain table, the same indexes.
	for _, q := range []string{
		"CREATE TABLE detections_flat (LIKE detections INCLUDING DEFAULTS INCLUDING CONSTRAINTS)",
		"ALTER TABLE detections_flat ADD PRIMARY KEY (id)",
		"CREATE INDEX ON detections_flat (detected_at DESC, id DESC)",
		"CREATE INDEX ON detections_flat (camera_id, detected_at DESC)",
		"CREATE INDEX ON detections_flat (face_profile_id, detected_at DESC) WHERE face_profile_id IS NOT NULL",
		"CREATE INDEX ON detections_flat (detected_at, id) WHERE snapshot_key <> ''",
	} {
		if _, err := db.ExecContext(ctx, q); err != nil {
			b.Fatal(err)
		}
	}
	// The day to delete, with the next day's rows beside it.
	flatGen := generateDay(b, db, "detections_flat", day, flat)
	generateDay(b, db, "detections_flat", day.AddDate(0, 0, 1), flat)
	if _, err := db.ExecContext(ctx, "VACUUM ANALYZE detections_flat"); err != nil {
		b.Fatal(err)
	}
	start = time.Now()
	del, err := db.ExecContext(ctx, "DELETE FROM detections_flat WHERE detected_at >= ? AND detected_at < ?", day, day.AddDate(0, 0, 1))
	deleteTime := time.Since(start)
	if err != nil {
		b.Fatal(err)
	}
	deleted, _ := del.RowsAffected()
	// The space comes back only once vacuum has cleaned the table and its
	// indexes: part of the cost of a DELETE.
	start = time.Now()
	if _, err := db.ExecContext(ctx, "VACUUM detections_flat"); err != nil {
		b.Fatal(err)
	}
	vacuum := time.Since(start)

	b.ReportMetric(retire.Seconds(), "retire-s")
	b.ReportMetric(deleteTime.Seconds(), "delete-s")
	b.ReportMetric(0, "ns/op")
	var out strings.Builder
	fmt.Fprintf(&out, "\nretiring one day of detections (rows generated with INSERT ... SELECT generate_series, no snapshot frames), GOMAXPROCS=%d\n",
		runtime.GOMAXPROCS(0))
	tw := tabwriter.NewWriter(&out, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "table\trows\tgenerate s\tremove s\thow\trows/s removed\t")
	fmt.Fprintf(tw, "partitioned\t%d\t%.1f\t%.2f\tRetireDetections: snapshot keys, count(*) (%.2f s alone), DROP partition\t%.0f\t\n",
		n, gen.Seconds(), retire.Seconds(), count.Seconds(), float64(n)/retire.Seconds())
	fmt.Fprintf(tw, "unpartitioned\t%d\t%.1f\t%.2f\tDELETE of the day (beside a second day)\t%.0f\t\n",
		deleted, flatGen.Seconds(), deleteTime.Seconds(), float64(deleted)/deleteTime.Seconds())
	fmt.Fprintf(tw, "unpartitioned\t%d\t\t%.2f\tDELETE + VACUUM (space reusable)\t%.0f\t\n",
		deleted, (deleteTime + vacuum).Seconds(), float64(deleted)/(deleteTime+vacuum).Seconds())
	_ = tw.Flush()
	fmt.Fprintf(&out, "the day's partition held %.0f MiB with its indexes (%.0f bytes a row)\n", float64(size)/(1<<20), float64(size)/float64(n))
	fmt.Print(out.String())
}
