package activities_test

import (
	"context"
	"crypto/rand"
	"errors"
	"log/slog"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/temporal"

	"github.com/rollcall/rollcall/activities"
	"github.com/rollcall/rollcall/contract"
	"github.com/rollcall/rollcall/internal/odoo"
	"github.com/rollcall/rollcall/internal/odoo/odootest"
	"github.com/rollcall/rollcall/internal/secrets"
	"github.com/rollcall/rollcall/internal/testenv"
	"github.com/rollcall/rollcall/store"
)

// odooFixture is a database with people and their logs, a stand-in Odoo
// with their employees, and the activities configured for it.
type odooFixture struct {
	t      *testing.T
	a      *activities.Activities
	odoo   *odootest.Server
	people map[string]string // employee code → person id
	emps   map[string]int    // employee code → Odoo employee id
}

func newOdooFixture(t *testing.T, protocol string, codes ...string) *odooFixture {
	t.Helper()
	db := testenv.DB(t)
	ctx := context.Background()
	key := make([]byte, secrets.KeySize)
	_, _ = rand.Read(key)
	box, err := secrets.NewBox(key)
	require.NoError(t, err)
	srv := odootest.New(odootest.Options{Version: map[string]string{odoo.ProtocolJSON2: "19.0"}[protocol]})
	t.Cleanup(srv.Close)
	sealed, err := box.Seal([]byte("test-api-key"), odoo.APIKeyAAD)
	require.NoError(t, err)
	cfg, err := store.GetOdooConfig(ctx, db)
	require.NoError(t, err)
	cfg.URL, cfg.Database, cfg.Login, cfg.APIKey, cfg.Protocol = srv.URL, "rollcall", "rollcall-bot", sealed, protocol
	cfg.MatchField, cfg.BatchSize, cfg.Enabled = store.OdooMatchBarcode, 100, true
	require.NoError(t, store.SaveOdooConfig(ctx, db, cfg))
	f := &odooFixture{t: t, odoo: srv, people: map[string]string{}, emps: map[string]int{},
		a: &activities.Activities{DB: db, Log: slog.New(slog.DiscardHandler), Secrets: box}}
	for _, code := range codes {
		p := &store.FaceProfile{ID: uuid.NewString(), EmployeeCode: code, Name: "Person " + code, Status: contract.FaceStatusActive}
		require.NoError(t, store.CreateFaceProfile(ctx, db, p))
		f.people[code] = p.ID
		f.emps[code] = srv.AddEmployee(odootest.Employee{Name: "Person " + code, Barcode: code})
	}
	return f
}

// log stores an attendance log of the person with employee code.
func (f *odooFixture) log(code, direction string, at time.Time) string {
	f.t.Helper()
	pid := f.people[code]
	l := &store.AttendanceLog{ID: uuid.NewString(), FaceProfileID: &pid, EmployeeCode: code, LoggedAt: at, WorkDate: at.Truncate(24 * time.Hour),
		Direction: direction, Source: "manual", SyncState: store.SyncPending}
	_, err := f.a.DB.NewInsert().Model(l).Exec(context.Background())
	require.NoError(f.t, err)
	return l.ID
}

// run syncs every pending log, as OdooSyncWorkflow does, retrying a batch
// that failed transiently up to retries times.
func (f *odooFixture) run(retries int) (contract.OdooRunTotals, error) {
	f.t.Helper()
	ctx := context.Background()
	start, err := f.a.BeginOdooRun(ctx, contract.OdooSyncInput{RunID: uuid.NewString(), Trigger: contract.OdooTriggerManual})
	require.NoError(f.t, err)
	var total contract.OdooRunTotals
	var after *contract.OdooCursor
	for {
		b, err := f.a.SyncOdooBatch(ctx, contract.OdooBatchInput{RunID: start.RunID, After: after})
		if err != nil {
			if retries == 0 {
				return total, err
			}
			retries--
			continue
		}
		total.Synced += b.Synced
		total.Failed += b.Failed
		total.Skipped += b.Skipped
		total.Missing = append(total.Missing, b.Missing...)
		if b.Next == nil {
			return total, nil
		}
		after = b.Next
	}
}

func (f *odooFixture) logState(id string) store.AttendanceLog {
	f.t.Helper()
	l, err := store.FindAttendanceLog(context.Background(), f.a.DB, id)
	require.NoError(f.t, err)
	return *l
}

var day = time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)

func at(h, m int) time.Time {
	return day.Add(time.Duration(h)*time.Hour + time.Duration(m)*time.Minute + 417*time.Millisecond)
}

// intervals are the Odoo attendances of an employee as [in, out] pairs.
func (f *odooFixture) intervals(code string) [][2]time.Time {
	var out [][2]time.Time
	for _, a := range f.odoo.Attendances() {
		if a.EmployeeID == f.emps[code] {
			out = append(out, [2]time.Time{a.CheckIn, a.CheckOut})
		}
	}
	return out
}

func sec(t time.Time) time.Time { return t.Truncate(time.Second) }

// A day of check-ins and check-outs for several people arrives as the
// right intervals, over JSON-RPC and over JSON-2; a second run adds nothing.
func TestOdooSyncADay(t *testing.T) {
	for _, protocol := range []string{odoo.ProtocolJSONRPC, odoo.ProtocolJSON2} {
		t.Run(protocol, func(t *testing.T) {
			f := newOdooFixture(t, protocol, "E-1", "E-2", "E-3")
			f.log("E-1", "in", at(8, 2))
			f.log("E-2", "in", at(8, 15))
			f.log("E-1", "out", at(12, 0))
			f.log("E-1", "in", at(13, 1))
			f.log("E-3", "in", at(9, 0))
			f.log("E-2", "out", at(17, 30))
			f.log("E-1", "out", at(17, 5))
			open := f.log("E-3", "out", at(18, 0))
			tot, err := f.run(0)
			require.NoError(t, err)
			require.Equal(t, 8, tot.Synced)
			require.Equal(t, [][2]time.Time{{sec(at(8, 2)), sec(at(12, 0))}, {sec(at(13, 1)), sec(at(17, 5))}}, f.intervals("E-1"))
			require.Equal(t, [][2]time.Time{{sec(at(8, 15)), sec(at(17, 30))}}, f.intervals("E-2"))
			require.Equal(t, [][2]time.Time{{sec(at(9, 0)), sec(at(18, 0))}}, f.intervals("E-3"))
			require.NotNil(t, f.logState(open).OdooAttendanceID)

			tot, err = f.run(0)
			require.NoError(t, err)
			require.Zero(t, tot.Synced+tot.Failed+tot.Skipped, "nothing left to sync")
			require.Len(t, f.odoo.Attendances(), 4)
		})
	}
}

// A check-in synced in one run is closed by its check-out in a later one.
func TestOdooSyncClosesAcrossRuns(t *testing.T) {
	f := newOdooFixture(t, odoo.ProtocolJSONRPC, "E-1")
	f.log("E-1", "in", at(8, 0))
	_, err := f.run(0)
	require.NoError(t, err)
	require.Equal(t, [][2]time.Time{{sec(at(8, 0)), {}}}, f.intervals("E-1"))
	f.log("E-1", "out", at(16, 0))
	_, err = f.run(0)
	require.NoError(t, err)
	require.Equal(t, [][2]time.Time{{sec(at(8, 0)), sec(at(16, 0))}}, f.intervals("E-1"))
}

// Odoo down, then back: the batch fails transiently (logs stay pending),
// and the next attempt syncs everything once.
func TestOdooSyncOdooDown(t *testing.T) {
	f := newOdooFixture(t, odoo.ProtocolJSONRPC, "E-1")
	id := f.log("E-1", "in", at(8, 0))
	f.log("E-1", "out", at(17, 0))
	f.odoo.SetDown(true)
	_, err := f.run(0)
	var appErr *temporal.ApplicationError
	require.True(t, errors.As(err, &appErr), "%v", err)
	require.Equal(t, contract.ErrTypeOdooUnavailable, appErr.Type())
	require.False(t, appErr.NonRetryable())
	require.Equal(t, store.SyncPending, f.logState(id).SyncState)
	f.odoo.SetDown(false)
	tot, err := f.run(0)
	require.NoError(t, err)
	require.Equal(t, 2, tot.Synced)
	require.Len(t, f.odoo.Attendances(), 1)
}

// Odoo commits the create but its answer is lost: the retried batch finds
// the interval and adopts it, creating nothing twice.
func TestOdooSyncNoDuplicateAfterLostAnswer(t *testing.T) {
	f := newOdooFixture(t, odoo.ProtocolJSON2, "E-1", "E-2")
	in := f.log("E-1", "in", at(8, 0))
	f.log("E-1", "out", at(17, 0))
	f.log("E-2", "in", at(9, 0))
	f.odoo.FailAfterCommit(1)
	tot, err := f.run(1)
	require.NoError(t, err)
	require.Equal(t, 3, tot.Synced)
	require.Len(t, f.odoo.Attendances(), 2, "one interval per person, none twice")
	require.NotNil(t, f.logState(in).OdooAttendanceID)
}

// An attendance already in Odoo that overlaps: that log fails with Odoo's
// reason; the others are synced.
func TestOdooSyncOverlapFailsThatRecordOnly(t *testing.T) {
	f := newOdooFixture(t, odoo.ProtocolJSONRPC, "E-1", "E-2")
	_, err := f.odoo.AddAttendance(f.emps["E-2"], at(7, 0), at(12, 0))
	require.NoError(t, err)
	f.log("E-1", "in", at(8, 0))
	f.log("E-1", "out", at(17, 0))
	bad := f.log("E-2", "in", at(9, 0))
	badOut := f.log("E-2", "out", at(11, 0))
	tot, err := f.run(0)
	require.NoError(t, err)
	require.Equal(t, 2, tot.Synced)
	require.Equal(t, 2, tot.Failed)
	l := f.logState(bad)
	require.Equal(t, store.SyncFailed, l.SyncState)
	require.Contains(t, l.SyncError, "Cannot create new attendance record for Person E-2")
	require.Equal(t, store.SyncFailed, f.logState(badOut).SyncState)
	require.Len(t, f.intervals("E-1"), 1)
}

// An employee missing in Odoo: its logs fail, and the run names it once.
func TestOdooSyncUnknownEmployeeReportedOnce(t *testing.T) {
	f := newOdooFixture(t, odoo.ProtocolJSONRPC, "E-1")
	ctx := context.Background()
	p := &store.FaceProfile{ID: uuid.NewString(), EmployeeCode: "E-404", Name: "Nobody", Status: contract.FaceStatusActive}
	require.NoError(t, store.CreateFaceProfile(ctx, f.a.DB, p))
	f.people["E-404"] = p.ID
	for h := 8; h < 12; h++ {
		f.log("E-404", "in", at(h, 0))
		f.log("E-404", "out", at(h, 30))
	}
	f.log("E-1", "in", at(8, 0))
	tot, err := f.run(0)
	require.NoError(t, err)
	require.Equal(t, 1, tot.Synced)
	require.Equal(t, 8, tot.Failed)
	require.Equal(t, []string{"E-404"}, tot.Missing)
}

// A wrong API key: the batch fails without retrying, saying so.
func TestOdooSyncWrongKey(t *testing.T) {
	for _, protocol := range []string{odoo.ProtocolJSONRPC, odoo.ProtocolJSON2} {
		t.Run(protocol, func(t *testing.T) {
			f := newOdooFixture(t, protocol, "E-1")
			ctx := context.Background()
			cfg, err := store.GetOdooConfig(ctx, f.a.DB)
			require.NoError(t, err)
			cfg.APIKey, err = f.a.Secrets.Seal([]byte("wrong-key"), odoo.APIKeyAAD)
			require.NoError(t, err)
			require.NoError(t, store.SaveOdooConfig(ctx, f.a.DB, cfg))
			f.log("E-1", "in", at(8, 0))
			_, err = f.run(3)
			var appErr *temporal.ApplicationError
			require.True(t, errors.As(err, &appErr), "%v", err)
			require.Equal(t, contract.ErrTypeOdooAuth, appErr.Type())
			require.True(t, appErr.NonRetryable())
			require.NotContains(t, err.Error(), "wrong-key")
		})
	}
}
