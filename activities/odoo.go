package activities

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"time"

	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/temporal"

	"github.com/google/uuid"

	"github.com/rollcall/rollcall/contract"
	"github.com/rollcall/rollcall/internal/odoo"
	"github.com/rollcall/rollcall/store"
)

// odooClient builds a client from the stored configuration.
func (a *Activities) odooClient(ctx context.Context) (*odoo.Client, *store.OdooConfig, error) {
	cfg, err := store.GetOdooConfig(ctx, a.DB)
	if err != nil {
		return nil, nil, err
	}
	var box odoo.Opener
	if a.Secrets != nil {
		box = a.Secrets
	}
	c, err := odoo.NewFromSealed(odoo.Config{URL: cfg.URL, Database: cfg.Database, Login: cfg.Login, APIKey: cfg.APIKey,
		Protocol: cfg.Protocol, HTTP: a.OdooHTTP}, box)
	if err != nil {
		return nil, cfg, temporal.NewNonRetryableApplicationError(err.Error(), contract.ErrTypeOdooNotConfigured, nil)
	}
	return c, cfg, nil
}

// odooFailure makes an Odoo error an activity error: refused credentials
// are not retried; everything that stops a whole batch is.
func odooFailure(err error) error {
	var oe *odoo.Error
	if !errors.As(err, &oe) {
		return err
	}
	switch oe.Kind {
	case odoo.KindAuth:
		return temporal.NewNonRetryableApplicationError(oe.Error(), contract.ErrTypeOdooAuth, nil)
	case odoo.KindTransient:
		return temporal.NewApplicationError(oe.Error(), contract.ErrTypeOdooUnavailable)
	}
	return temporal.NewApplicationError(oe.Error(), contract.ErrTypeOdooUnavailable)
}

// BeginOdooRun records a run. A scheduled run (no RunID) is skipped when
// the sync is disabled or the last scheduled run started less than the
// configured interval ago.
func (a *Activities) BeginOdooRun(ctx context.Context, in contract.OdooSyncInput) (contract.OdooRunStart, error) {
	now := a.now()
	runID := in.RunID
	if in.Trigger == contract.OdooTriggerSchedule {
		cfg, err := store.GetOdooConfig(ctx, a.DB)
		if err != nil {
			return contract.OdooRunStart{}, err
		}
		if !cfg.Enabled {
			return contract.OdooRunStart{Skip: true}, nil
		}
		last, err := store.LastOdooRun(ctx, a.DB)
		if err == nil && last.Trigger == contract.OdooTriggerSchedule && now.Sub(last.StartedAt) < time.Duration(cfg.IntervalSeconds)*time.Second-5*time.Second {
			return contract.OdooRunStart{Skip: true}, nil
		} else if err != nil && !errors.Is(err, store.ErrNotFound) {
			return contract.OdooRunStart{}, err
		}
		if runID == "" {
			runID = deterministicRunID(ctx)
		}
	}
	r := &store.OdooRun{ID: runID, Trigger: in.Trigger, StartedAt: now}
	if in.RequestedBy != "" {
		r.RequestedBy = &in.RequestedBy
	}
	if activity.IsActivity(ctx) {
		r.WorkflowID = activity.GetInfo(ctx).WorkflowExecution.ID
	}
	if err := store.StartOdooRun(ctx, a.DB, r); err != nil {
		return contract.OdooRunStart{}, err
	}
	return contract.OdooRunStart{RunID: runID}, nil
}

// deterministicRunID names a scheduled run after its workflow run, so a
// retried BeginOdooRun records one run.
func deterministicRunID(ctx context.Context) string {
	if activity.IsActivity(ctx) {
		info := activity.GetInfo(ctx)
		return uuidFrom(info.WorkflowExecution.ID + "/" + info.WorkflowExecution.RunID)
	}
	return uuidFrom(strconv.FormatInt(time.Now().UnixNano(), 10))
}

// FinishOdooRun records a run's end.
func (a *Activities) FinishOdooRun(ctx context.Context, in contract.OdooFinishInput) error {
	if err := store.FinishOdooRun(ctx, a.DB, in.RunID, in.Status, in.Error, in.Missing, a.now()); err != nil {
		return err
	}
	a.odooRunAlerts(ctx, in)
	return nil
}

// SyncOdooBatch pushes one batch of attendance logs to Odoo as
// hr.attendance intervals: a check-in opens one, the following check-out
// closes it (an in/out pair of one batch is created closed, in one call).
// It looks before it creates: an interval that already starts (or ends) at
// a log's time is that log's, so a retry after Odoo committed but before
// the logs were updated creates nothing twice. Odoo's refusals (overlaps,
// access) mark the log failed with Odoo's message; an employee missing in
// Odoo fails its logs and is reported once. Connection failures fail the
// batch, to be retried with backoff.
func (a *Activities) SyncOdooBatch(ctx context.Context, in contract.OdooBatchInput) (contract.OdooBatchResult, error) {
	var res contract.OdooBatchResult
	client, cfg, err := a.odooClient(ctx)
	if err != nil {
		return res, err
	}
	f := store.OdooLogFilter{States: []string{store.SyncPending}, From: in.From, To: in.To, PersonID: in.PersonID, Limit: cfg.BatchSize}
	if in.OnlyFailed {
		f.States = []string{store.SyncFailed}
	}
	if in.After != nil {
		f.After = &store.Cursor{Time: in.After.At, ID: in.After.ID}
	}
	logs, err := store.FindOdooLogs(ctx, a.DB, f)
	if err != nil || len(logs) == 0 {
		return res, err
	}
	last := logs[len(logs)-1]
	res.Next = &contract.OdooCursor{At: last.LoggedAt, ID: last.ID}

	plan, err := a.planOdoo(ctx, client, cfg.MatchField, logs)
	if err != nil {
		return res, odooFailure(err)
	}
	if err := plan.run(ctx, client); err != nil {
		return res, odooFailure(err)
	}
	now := a.now()
	items := make([]store.OdooItem, 0, len(logs))
	for _, l := range logs {
		o := plan.outcome[l.ID]
		it := store.OdooItem{RunID: in.RunID, LogID: l.ID, Outcome: o.state, Reason: o.reason, At: now}
		if o.odooID > 0 {
			id := int64(o.odooID)
			it.OdooAttendanceID = &id
		}
		items = append(items, it)
		switch o.state {
		case store.SyncSynced:
			res.Synced++
		case store.SyncFailed:
			res.Failed++
			if !slices.Contains(res.FailedEmployees, l.EmployeeCode) {
				res.FailedEmployees = append(res.FailedEmployees, l.EmployeeCode)
			}
		default:
			res.Skipped++
		}
	}
	res.Missing = plan.missing
	if err := store.RecordOdooItems(ctx, a.DB, items); err != nil {
		return res, err
	}
	for _, it := range items {
		a.Telemetry.OdooRecord(it.Outcome)
	}
	return res, nil
}

type odooOutcome struct {
	state  string
	reason string
	odooID int
	plan   int // index in creates, -1 none
}

// odooPlan is what a batch will do in Odoo.
type odooPlan struct {
	creates   []odoo.NewAttendance
	createFor [][]string // log IDs per create
	writes    []odooWrite
	outcome   map[string]*odooOutcome
	missing   []string
}

type odooWrite struct {
	id    int
	at    time.Time
	logID string
}

// matchKey is the value a log's person is found by in Odoo.
func matchKey(field string, l *store.OdooLog) string {
	switch field {
	case store.OdooMatchWorkEmail:
		return l.Email
	case store.OdooMatchOdooID:
		if l.OdooEmployeeID != nil {
			return strconv.Itoa(*l.OdooEmployeeID)
		}
		return ""
	}
	return l.EmployeeCode
}

func odooField(match string) string {
	if match == store.OdooMatchOdooID {
		return "id"
	}
	if match == "" {
		return store.OdooMatchBarcode
	}
	return match
}

// planOdoo reads what Odoo has for the batch's employees and decides, log
// by log in time order, what to create, close or adopt.
func (a *Activities) planOdoo(ctx context.Context, c *odoo.Client, match string, logs []store.OdooLog) (*odooPlan, error) {
	p := &odooPlan{outcome: make(map[string]*odooOutcome, len(logs))}
	field := odooField(match)
	var keys []string
	for i := range logs {
		if k := matchKey(match, &logs[i]); k != "" && !slices.Contains(keys, k) {
			keys = append(keys, k)
		}
	}
	emps, err := c.Employees(ctx, field, keys)
	if err != nil {
		return nil, err
	}
	var empIDs []int
	since := logs[0].LoggedAt
	for _, e := range emps {
		empIDs = append(empIDs, e.ID)
	}
	slices.Sort(empIDs)
	// What Odoo has: every open interval, and those since a day before the
	// batch's first log (an interval a crashed attempt created is found).
	open, err := c.Attendances(ctx, empIDs, []any{"check_out", "=", false})
	if err != nil {
		return nil, err
	}
	recent, err := c.Attendances(ctx, empIDs, []any{"check_in", ">=", odoo.FormatTime(since.Add(-24 * time.Hour))})
	if err != nil {
		return nil, err
	}
	byEmp := map[int][]*odoo.Attendance{}
	seen := map[int]bool{}
	for _, list := range [][]odoo.Attendance{open, recent} {
		for i := range list {
			att := list[i]
			if !seen[att.ID] {
				seen[att.ID] = true
				byEmp[att.EmployeeID] = append(byEmp[att.EmployeeID], &att)
			}
		}
	}
	// planned open intervals by employee: index into creates
	planned := map[int]int{}
	for i := range logs {
		l := &logs[i]
		o := &odooOutcome{plan: -1}
		p.outcome[l.ID] = o
		key := matchKey(match, l)
		emp, ok := emps[key]
		if !ok {
			o.state = store.SyncFailed
			if key == "" {
				o.reason = fmt.Sprintf("the person %s has no %s to find them in Odoo by", l.EmployeeCode, matchLabel(match))
			} else {
				o.reason = fmt.Sprintf("no Odoo employee with %s %q", matchLabel(match), key)
				if !slices.Contains(p.missing, key) {
					p.missing = append(p.missing, key)
				}
			}
			continue
		}
		t := l.LoggedAt.UTC().Truncate(time.Second)
		atts := byEmp[emp.ID]
		if l.Direction == "in" {
			if att := findAtt(atts, func(x *odoo.Attendance) bool { return x.CheckIn.Equal(t) }); att != nil {
				o.state, o.odooID = store.SyncSynced, att.ID // created before (a retried batch)
				continue
			}
			if idx, ok := planned[emp.ID]; ok {
				o.state, o.reason = store.SyncSkipped, fmt.Sprintf("already checked in at %s (this batch)", odoo.FormatTime(p.creates[idx].CheckIn))
				continue
			}
			if att := findAtt(atts, func(x *odoo.Attendance) bool { return x.Open() }); att != nil {
				o.state, o.reason = store.SyncSkipped, fmt.Sprintf("already checked in in Odoo since %s (attendance %d)", odoo.FormatTime(att.CheckIn), att.ID)
				continue
			}
			planned[emp.ID] = len(p.creates)
			o.plan = len(p.creates)
			p.creates = append(p.creates, odoo.NewAttendance{EmployeeID: emp.ID, CheckIn: t})
			p.createFor = append(p.createFor, []string{l.ID})
			continue
		}
		// a check-out
		if att := findAtt(atts, func(x *odoo.Attendance) bool { return x.CheckOut.Equal(t) }); att != nil {
			o.state, o.odooID = store.SyncSynced, att.ID
			continue
		}
		if idx, ok := planned[emp.ID]; ok && !p.creates[idx].CheckIn.After(t) {
			p.creates[idx].CheckOut = t
			p.createFor[idx] = append(p.createFor[idx], l.ID)
			o.plan = idx
			delete(planned, emp.ID)
			continue
		}
		if att := findAtt(atts, func(x *odoo.Attendance) bool { return x.Open() && !x.CheckIn.After(t) }); att != nil {
			p.writes = append(p.writes, odooWrite{id: att.ID, at: t, logID: l.ID})
			att.CheckOut = t // closed from here on
			o.odooID = att.ID
			continue
		}
		o.state, o.reason = store.SyncFailed, fmt.Sprintf("no open attendance in Odoo to close at %s: the check-in is missing or failed", odoo.FormatTime(t))
	}
	return p, nil
}

func matchLabel(match string) string {
	switch match {
	case store.OdooMatchWorkEmail:
		return "work email"
	case store.OdooMatchOdooID:
		return "employee id"
	case store.OdooMatchIdent:
		return "identification number"
	}
	return "badge (barcode)"
}

func findAtt(atts []*odoo.Attendance, ok func(*odoo.Attendance) bool) *odoo.Attendance {
	for i := len(atts) - 1; i >= 0; i-- {
		if ok(atts[i]) {
			return atts[i]
		}
	}
	return nil
}

// run carries the plan out: the creates in one call (one by one when Odoo
// refuses the list, to find which), then the closes.
func (p *odooPlan) run(ctx context.Context, c *odoo.Client) error {
	if len(p.creates) > 0 {
		ids, err := c.CreateAttendances(ctx, p.creates)
		switch {
		case err == nil:
			for i, id := range ids {
				p.settle(p.createFor[i], store.SyncSynced, "", id)
			}
		case odoo.KindOf(err) != odoo.KindBusiness:
			return err
		default:
			for i, a := range p.creates {
				ids, err := c.CreateAttendances(ctx, []odoo.NewAttendance{a})
				switch {
				case err == nil:
					p.settle(p.createFor[i], store.SyncSynced, "", ids[0])
				case odoo.KindOf(err) == odoo.KindBusiness:
					p.settle(p.createFor[i], store.SyncFailed, odooReason(err), 0)
				default:
					return err
				}
			}
		}
	}
	for _, w := range p.writes {
		err := c.CloseAttendance(ctx, w.id, w.at)
		switch {
		case err == nil:
			p.settle([]string{w.logID}, store.SyncSynced, "", w.id)
		case odoo.KindOf(err) == odoo.KindBusiness:
			p.settle([]string{w.logID}, store.SyncFailed, odooReason(err), 0)
		default:
			return err
		}
	}
	return nil
}

func (p *odooPlan) settle(logIDs []string, state, reason string, id int) {
	for _, l := range logIDs {
		o := p.outcome[l]
		o.state, o.reason, o.odooID = state, reason, id
	}
}

// odooReason is Odoo's own message for a refused record.
func odooReason(err error) string {
	var oe *odoo.Error
	if errors.As(err, &oe) {
		return oe.Message
	}
	return err.Error()
}

// odooRunSpace names the IDs of scheduled runs.
var odooRunSpace = uuid.MustParse("0c7b2f1e-58a4-4d6b-9e3a-2f61d0a4c9b7")

func uuidFrom(s string) string { return uuid.NewSHA1(odooRunSpace, []byte(s)).String() }
