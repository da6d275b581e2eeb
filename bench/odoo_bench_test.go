package bench

import (
	"context"
	"crypto/rand"
	"fmt"
	"log/slog"
	"runtime"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/rollcall/rollcall/activities"
	"github.com/rollcall/rollcall/contract"
	"github.com/rollcall/rollcall/internal/odoo"
	"github.com/rollcall/rollcall/internal/odoo/odootest"
	"github.com/rollcall/rollcall/internal/secrets"
	"github.com/rollcall/rollcall/internal/testenv"
	"github.com/rollcall/rollcall/store"
)

// BenchmarkOdooSync pushes 10,000 attendance logs (100 people, 50 in/out
// pairs each over 50 days) to the Odoo stand-in, which waits 20 ms before
// answering every call, through the SyncOdooBatch activity with the
// default batch size; it prints the time and the calls made per log.
func BenchmarkOdooSync(b *testing.B) {
	const people, pairs = 100, 50
	done := false
	b.Run("10k", func(b *testing.B) {
		if done {
			return
		}
		done = true
		db := testenv.DB(b)
		ctx := context.Background()
		srv := odootest.New(odootest.Options{})
		b.Cleanup(srv.Close)
		key := make([]byte, secrets.KeySize)
		_, _ = rand.Read(key)
		box, _ := secrets.NewBox(key)
		sealed, _ := box.Seal([]byte("test-api-key"), odoo.APIKeyAAD)
		cfg, err := store.GetOdooConfig(ctx, db)
		if err != nil {
			b.Fatal(err)
		}
		cfg.URL, cfg.Database, cfg.Login, cfg.APIKey, cfg.MatchField, cfg.Enabled = srv.URL, "rollcall", "rollcall-bot", sealed, store.OdooMatchBarcode, true
		if err := store.SaveOdooConfig(ctx, db, cfg); err != nil {
			b.Fatal(err)
		}
		start := time.Date(2026, 10, 1, 8, 0, 0, 0, time.UTC)
		var logs []store.AttendanceLog
		for p := range people {
			code := fmt.Sprintf("B-%03d", p)
			prof := &store.FaceProfile{ID: uuid.NewString(), EmployeeCode: code, Name: "Bench " + code, Status: contract.FaceStatusActive}
			if err := store.CreateFaceProfile(ctx, db, prof); err != nil {
				b.Fatal(err)
			}
			srv.AddEmployee(odootest.Employee{Name: prof.Name, Barcode: code})
			for d := range pairs {
				in := start.AddDate(0, 0, d).Add(time.Duration(p) * time.Second)
				for i, dir := range []string{"in", "out"} {
					at := in.Add(time.Duration(i) * 8 * time.Hour)
					logs = append(logs, store.AttendanceLog{ID: uuid.NewString(), FaceProfileID: &prof.ID, EmployeeCode: code, LoggedAt: at,
						WorkDate: at.Truncate(24 * time.Hour), Direction: dir, Source: "manual", SyncState: store.SyncPending})
				}
			}
		}
		for i := 0; i < len(logs); i += 1000 {
			chunk := logs[i:min(i+1000, len(logs))]
			if _, err := db.NewInsert().Model(&chunk).Exec(ctx); err != nil {
				b.Fatal(err)
			}
		}
		srv.SetDelay(20 * time.Millisecond)
		a := &activities.Activities{DB: db, Log: slog.New(slog.DiscardHandler), Secrets: box}
		runID := uuid.NewString()
		if _, err := a.BeginOdooRun(ctx, contract.OdooSyncInput{RunID: runID, Trigger: contract.OdooTriggerManual}); err != nil {
			b.Fatal(err)
		}
		t0 := time.Now()
		var synced, batches int
		var after *contract.OdooCursor
		for {
			res, err := a.SyncOdooBatch(ctx, contract.OdooBatchInput{RunID: runID, After: after})
			if err != nil {
				b.Fatal(err)
			}
			batches++
			synced += res.Synced
			if res.Next == nil {
				break
			}
			after = res.Next
		}
		el := time.Since(t0)
		if synced != len(logs) || len(srv.Attendances()) != people*pairs {
			b.Fatalf("synced %d of %d logs; Odoo has %d attendances, want %d", synced, len(logs), len(srv.Attendances()), people*pairs)
		}
		calls := srv.Calls()
		b.ReportMetric(el.Seconds(), "s")
		b.ReportMetric(float64(calls)/float64(len(logs)), "calls/log")
		b.ReportMetric(0, "ns/op")
		fmt.Printf("\nOdoo sync of %d attendance logs (%d people) to the stand-in adding 20 ms per call, batch %d, GOMAXPROCS=%d\n"+
			"  time %.1fs, %d batches, %d Odoo calls (%.3f per log), %d attendances created\n",
			len(logs), people, cfg.BatchSize, runtime.GOMAXPROCS(0), el.Seconds(), batches-1, calls, float64(calls)/float64(len(logs)), len(srv.Attendances()))
	})
}
