package bench

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"text/tabwriter"
	"time"

	"github.com/google/uuid"
	"github.com/uptrace/bun"

	"github.com/rollcall/rollcall/activities"
	"github.com/rollcall/rollcall/internal/blob"
	"github.com/rollcall/rollcall/internal/testenv"
	"github.com/rollcall/rollcall/store"
)

// benchRows reads a row count from the environment (default def).
func benchRows(b *testing.B, name string, def int) int {
	if v := os.Getenv(name); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1000 {
			b.Fatalf("%s=%q: want a number of at least 1000", name, v)
		}
		return n
	}
	return def
}

// seedAttendanceLogs inserts n camera logs of 1,000 people over 10
// departments and 100 cameras, one every 3 seconds back from now, in
// batches of a million, then analyses the table.
func seedAttendanceLogs(b *testing.B, db *bun.DB, n int) {
	b.Helper()
	ctx := context.Background()
	t0 := time.Now()
	for _, q := range []string{
		`INSERT INTO face_profiles (id, employee_code, name, department, status)
		 SELECT gen_random_uuid(), 'E-' || lpad(g::text, 4, '0'), 'Person ' || g, 'Dept ' || (g % 10), 'active' FROM generate_series(1, 1000) g`,
		`INSERT INTO cameras (id, name, stream_url, site, direction, timezone)
		 SELECT gen_random_uuid(), 'Cam ' || g, 'rtsp://10.0.0.' || g || '/s', 'Site ' || (g % 4), 'both', 'UTC' FROM generate_series(1, 100) g`,
	} {
		if _, err := db.ExecContext(ctx, q); err != nil {
			b.Fatal(err)
		}
	}
	const batch = 100_000
	for from := 0; from < n; from += batch {
		to := min(from+batch, n)
		_, err := db.ExecContext(ctx, `
			WITH p AS (SELECT array_agg(id ORDER BY employee_code) AS ids, array_agg(employee_code ORDER BY employee_code) AS codes,
			                  array_agg(department ORDER BY employee_code) AS depts FROM face_profiles),
			     c AS (SELECT array_agg(id ORDER BY name) AS ids, array_agg(site ORDER BY name) AS sites FROM cameras)
			INSERT INTO attendance_logs (id, face_profile_id, employee_code, department, camera_id, site, logged_at, work_date,
			                             direction, source, similarity, sync_state)
			SELECT gen_random_uuid(), p.ids[1 + g % 1000], p.codes[1 + g % 1000], p.depts[1 + g % 1000],
			       c.ids[1 + g % 100], c.sites[1 + g % 100], now() - g * interval '3 seconds', (now() - g * interval '3 seconds')::date,
			       CASE WHEN g % 2 = 0 THEN 'in' ELSE 'out' END, 'camera', 0.8 + (g % 20) / 100.0,
			       CASE WHEN g % 1000 = 0 THEN 'pending' ELSE 'synced' END
			FROM generate_series(?::int, ?::int) g, p, c`, from+1, to)
		if err != nil {
			b.Fatal(err)
		}
	}
	if _, err := db.ExecContext(ctx, "VACUUM ANALYZE attendance_logs"); err != nil {
		b.Fatal(err)
	}
	b.Logf("seeded %d attendance logs in %v", n, time.Since(t0).Round(time.Second))
}

// cursorAt returns the list cursor that starts the page after the
// offset-th newest log (optionally of one person).
func cursorAt(b *testing.B, db *bun.DB, offset int, personID string) string {
	b.Helper()
	var c store.Cursor
	q := db.NewSelect().Table("attendance_logs").Column("logged_at", "id")
	if personID != "" {
		q = q.Where("face_profile_id = ?", personID)
	}
	if err := q.Order("logged_at DESC", "id DESC").Offset(int64(offset)).Limit(1).Scan(context.Background(), &c.Time, &c.ID); err != nil {
		b.Fatal(err)
	}
	return c.Encode()
}

// BenchmarkAttendanceLogs measures GET /api/v1/attendance/logs over 10
// million logs (ROLLCALL_BENCH_ATTENDANCE_LOGS) the benchmark seeds itself:
// the first page, a middle and a deep page (by cursor), and filtered
// queries, each next to a bare handler returning the same body.
func BenchmarkAttendanceLogs(b *testing.B) {
	n := benchRows(b, "ROLLCALL_BENCH_ATTENDANCE_LOGS", 10_000_000)
	s := newStack(b)
	seedAttendanceLogs(b, s.db, n)
	c := client()
	token := login(b, c, s.srv.URL, s.user, s.password)
	clients, d := loadConcurrency(b), loadDuration(b)

	var person, camera string
	if err := s.db.QueryRowContext(context.Background(), "SELECT id FROM face_profiles ORDER BY employee_code OFFSET 500 LIMIT 1").Scan(&person); err != nil {
		b.Fatal(err)
	}
	if err := s.db.QueryRowContext(context.Background(), "SELECT id FROM cameras ORDER BY name OFFSET 42 LIMIT 1").Scan(&camera); err != nil {
		b.Fatal(err)
	}
	// A week in the middle of the seeded span (one log every 3 s).
	week := time.Now().UTC().Add(-time.Duration(n) * 3 * time.Second / 2).Add(-84 * time.Hour).Truncate(time.Hour)
	queries := []struct{ name, path string }{
		{"first", "/api/v1/attendance/logs?limit=50"},
		{"middle", "/api/v1/attendance/logs?limit=50&cursor=" + cursorAt(b, s.db, n/2, "")},
		{"deep", "/api/v1/attendance/logs?limit=50&cursor=" + cursorAt(b, s.db, n-100, "")},
		{"person+deep", "/api/v1/attendance/logs?limit=50&personId=" + person + "&cursor=" + cursorAt(b, s.db, n/1000-100, person)},
		{"camera+week", "/api/v1/attendance/logs?limit=50&cameraId=" + camera + "&from=" + week.Format(time.RFC3339) + "&to=" + week.AddDate(0, 0, 7).Format(time.RFC3339)},
		{"department", "/api/v1/attendance/logs?limit=50&department=Dept+3"},
	}
	type row struct {
		name      string
		api, bare *loadResult
	}
	var rows []row
	for _, q := range queries {
		body, h := fetch(b, c, s.srv.URL+q.path, token, 50, 0)
		bare := bareServer(b, body, h)
		r := row{name: q.name}
		b.Run(q.name+"/bare", func(b *testing.B) {
			if r.bare == nil {
				r.bare = runLoad(b, c, bare.URL+"/", "", clients, d, len(body))
			}
		})
		b.Run(q.name+"/api", func(b *testing.B) {
			if r.api == nil {
				r.api = runLoad(b, c, s.srv.URL+q.path, token, clients, d, len(body))
			}
		})
		if r.api != nil && r.bare != nil {
			rows = append(rows, r)
		}
	}
	var out strings.Builder
	fmt.Fprintf(&out, "\nGET /api/v1/attendance/logs, %d logs, %d clients (keep-alive, closed loop) for %v per row, loopback, GOMAXPROCS=%d\n",
		n, clients, d, runtime.GOMAXPROCS(0))
	tw := tabwriter.NewWriter(&out, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "query\tserver\tbody B\trequests\treq/s\tp50\tp95\tp99\t")
	ms := func(d time.Duration) string { return fmt.Sprintf("%.2fms", float64(d)/float64(time.Millisecond)) }
	for _, r := range rows {
		for _, x := range []struct {
			name string
			res  *loadResult
		}{{"api", r.api}, {"bare", r.bare}} {
			fmt.Fprintf(tw, "%s\t%s\t%d\t%d\t%.0f\t%s\t%s\t%s\t\n", r.name, x.name, x.res.bodySize, len(x.res.lat.all),
				x.res.rps(), ms(x.res.lat.pct(0.50)), ms(x.res.lat.pct(0.95)), ms(x.res.lat.pct(0.99)))
		}
	}
	_ = tw.Flush()
	fmt.Print(out.String())
}

// memPeak samples the heap in use until stopped and returns its peak.
func memPeak() (stop func() uint64) {
	var peak atomic.Uint64
	done := make(chan struct{})
	finished := make(chan struct{})
	go func() {
		defer close(finished)
		t := time.NewTicker(10 * time.Millisecond)
		defer t.Stop()
		var m runtime.MemStats
		for {
			runtime.ReadMemStats(&m)
			if m.HeapInuse > peak.Load() {
				peak.Store(m.HeapInuse)
			}
			select {
			case <-done:
				return
			case <-t.C:
			}
		}
	}()
	return func() uint64 { close(done); <-finished; return peak.Load() }
}

// BenchmarkAttendanceExport writes 1 million logs
// (ROLLCALL_BENCH_EXPORT_ROWS) as CSV, XLSX and PDF through the Export
// activity into MinIO and prints each format's time, peak heap and size.
func BenchmarkAttendanceExport(b *testing.B) {
	n := benchRows(b, "ROLLCALL_BENCH_EXPORT_ROWS", 1_000_000)
	db := testenv.DB(b)
	seedAttendanceLogs(b, db, n)
	blobs, err := blob.New(blob.Options{Endpoint: testenv.Require(b, "ROLLCALL_S3_ENDPOINT"), AccessKey: os.Getenv("ROLLCALL_S3_ACCESS_KEY"),
		SecretKey: os.Getenv("ROLLCALL_S3_SECRET_KEY"), Bucket: os.Getenv("ROLLCALL_S3_BUCKET"), Region: "us-east-1"})
	if err != nil {
		b.Fatal(err)
	}
	if err := blobs.EnsureBucket(context.Background()); err != nil {
		b.Fatal(err)
	}
	// PDF reports are capped (ROLLCALL_EXPORT_PDF_MAX_ROWS, default 25,000):
	// fpdf keeps the whole document in memory. The PDF row exports the
	// newest 25,000 logs; CSV and XLSX export all of them.
	const pdfRows = 25_000
	acts := &activities.Activities{DB: db, Blobs: blobs, Log: slog.New(slog.NewTextHandler(io.Discard, nil)), ExportPDFMaxRows: pdfRows}
	var out strings.Builder
	fmt.Fprintf(&out, "\nExport of %d attendance logs through the Export activity into MinIO, GOMAXPROCS=%d\n", n, runtime.GOMAXPROCS(0))
	tw := tabwriter.NewWriter(&out, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "format\trows\ttime\trows/s\tpeak heap\tfile\t")
	for _, format := range []string{"csv", "xlsx", "pdf"} {
		done := false
		b.Run(format, func(b *testing.B) {
			if done { // the framework calls again: one export per format is the figure
				return
			}
			done = true
			f := store.ExportFilters{Timezone: "UTC"}
			want := n
			if format == "pdf" && n > pdfRows {
				var from time.Time
				if err := db.QueryRowContext(context.Background(), "SELECT logged_at FROM attendance_logs ORDER BY logged_at DESC OFFSET ? LIMIT 1", pdfRows-1).Scan(&from); err != nil {
					b.Fatal(err)
				}
				f.From, want = &from, pdfRows
			}
			raw, _ := json.Marshal(f)
			id := uuid.NewString()
			job := &store.ExportJob{ID: id, Kind: store.ExportLogs, Format: format, Filters: raw, ObjectKey: "bench/exports/" + id + "." + format,
				ExpiresAt: time.Now().Add(time.Hour)}
			if err := store.CreateExportJob(context.Background(), db, job); err != nil {
				b.Fatal(err)
			}
			b.Cleanup(func() { _ = blobs.Delete(context.Background(), job.ObjectKey) })
			runtime.GC()
			stop := memPeak()
			t0 := time.Now()
			res, err := acts.RunExport(context.Background(), id)
			el := time.Since(t0)
			peak := stop()
			if err != nil {
				b.Fatalf("%s: %v", format, err)
			}
			if res.Rows != want {
				b.Fatalf("%s: %d rows written, want %d", format, res.Rows, want)
			}
			b.ReportMetric(el.Seconds(), "s")
			b.ReportMetric(float64(peak)/(1<<20), "peak-heap-MiB")
			b.ReportMetric(0, "ns/op")
			fmt.Fprintf(tw, "%s\t%d\t%.1fs\t%.0f\t%.0f MiB\t%.1f MiB\t\n", format, res.Rows, el.Seconds(), float64(res.Rows)/el.Seconds(),
				float64(peak)/(1<<20), float64(res.SizeBytes)/(1<<20))
		})
	}
	_ = tw.Flush()
	fmt.Print(out.String())
}
