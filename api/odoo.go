package api

import (
	"cmp"
	"context"
	"errors"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/danielgtaylor/huma/v2"
	"github.com/google/uuid"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"

	"github.com/rollcall/rollcall/contract"
	"github.com/rollcall/rollcall/internal/auth"
	"github.com/rollcall/rollcall/internal/odoo"
	"github.com/rollcall/rollcall/internal/urlsafe"
	"github.com/rollcall/rollcall/store"
	rctemporal "github.com/rollcall/rollcall/temporal"
	"github.com/rollcall/rollcall/workflows"
)

// OdooConfigBody is the Odoo connection as shown (never the API key).
type OdooConfigBody struct {
	URL             string    `json:"url" example:"https://mycompany.odoo.com"`
	Database        string    `json:"database" example:"mycompany"`
	Login           string    `json:"login" example:"rollcall-bot@mycompany.com" doc:"The Odoo user the API key belongs to (JSON-RPC signs in with it)"`
	HasAPIKey       bool      `json:"hasApiKey"`
	Protocol        string    `json:"protocol" enum:"auto,jsonrpc,json2" doc:"auto: JSON-2 from Odoo 19, JSON-RPC before"`
	MatchField      string    `json:"matchField" enum:"barcode,identification_id,work_email,odoo_id" doc:"How a person is found in Odoo: their employee code as the employee's badge (barcode) or identification number, their email as the work email, or the Odoo employee id stored on the person"`
	Enabled         bool      `json:"enabled"`
	IntervalSeconds int       `json:"intervalSeconds" example:"300"`
	BatchSize       int       `json:"batchSize" example:"200"`
	UpdatedAt       time.Time `json:"updatedAt"`
}

// OdooConfigOutput wraps OdooConfigBody.
type OdooConfigOutput struct{ Body OdooConfigBody }

// PutOdooConfigInput is PUT /odoo/config.
type PutOdooConfigInput struct {
	Body struct {
		URL             string `json:"url" maxLength:"2048" example:"https://mycompany.odoo.com" doc:"http(s) base URL of Odoo, no path"`
		Database        string `json:"database" maxLength:"128" example:"mycompany"`
		Login           string `json:"login" maxLength:"256" example:"rollcall-bot@mycompany.com"`
		APIKey          string `json:"apiKey,omitempty" maxLength:"512" writeOnly:"true" doc:"An API key of the Odoo user (Preferences → Account Security → New API Key). Stored encrypted, never returned. Omitted keeps the stored key while the URL's scheme, host and port stay the same; otherwise it is dropped."`
		ClearAPIKey     bool   `json:"clearApiKey,omitempty"`
		Protocol        string `json:"protocol,omitempty" enum:"auto,jsonrpc,json2" default:"auto"`
		MatchField      string `json:"matchField,omitempty" enum:"barcode,identification_id,work_email,odoo_id" default:"barcode"`
		Enabled         bool   `json:"enabled"`
		IntervalSeconds int    `json:"intervalSeconds,omitempty" minimum:"60" maximum:"86400" default:"300"`
		BatchSize       int    `json:"batchSize,omitempty" minimum:"1" maximum:"1000" default:"200"`
	}
}

// OdooCheck is one step of a connection test.
type OdooCheck struct {
	Name   string `json:"name" enum:"version,authenticate,read_employees,create_attendance,write_attendance"`
	OK     bool   `json:"ok"`
	Detail string `json:"detail,omitempty" example:"Odoo 17.0"`
}

// OdooTestOutput is POST /odoo/test.
type OdooTestOutput struct {
	Body struct {
		OK            bool        `json:"ok"`
		ServerVersion string      `json:"serverVersion,omitempty" example:"17.0"`
		Protocol      string      `json:"protocol,omitempty" enum:"jsonrpc,json2"`
		Checks        []OdooCheck `json:"checks"`
	}
}

// OdooSyncInputBody is POST /odoo/sync.
type OdooSyncInputBody struct {
	Body struct {
		From       time.Time `json:"from,omitzero" doc:"Only logs at or after this time"`
		To         time.Time `json:"to,omitzero" doc:"Only logs before this time"`
		PersonID   string    `json:"personId,omitempty" format:"uuid" doc:"Only this person's logs"`
		OnlyFailed bool      `json:"onlyFailed,omitempty" doc:"Retry the failed logs (instead of the pending ones)"`
	}
}

// OdooSyncStartedOutput answers a started sync.
type OdooSyncStartedOutput struct {
	Body struct {
		RunID      string `json:"runId" format:"uuid"`
		WorkflowID string `json:"workflowId" example:"odoo-sync/6f1c…"`
		Retried    int    `json:"retried,omitempty" doc:"Failed logs made pending again (retry)"`
	}
}

// OdooRunBody is one sync run.
type OdooRunBody struct {
	ID          string     `json:"id"`
	Trigger     string     `json:"trigger" enum:"schedule,manual,retry"`
	RequestedBy string     `json:"requestedBy,omitempty"`
	StartedAt   time.Time  `json:"startedAt"`
	FinishedAt  *time.Time `json:"finishedAt,omitempty"`
	DurationMs  *int64     `json:"durationMs,omitempty"`
	Status      string     `json:"status" enum:"running,succeeded,partial,failed"`
	Synced      int        `json:"synced"`
	Failed      int        `json:"failed"`
	Skipped     int        `json:"skipped"`
	Error       string     `json:"error,omitempty" doc:"Why the run stopped (Odoo's reason)"`
	Missing     []string   `json:"missingEmployees,omitempty" doc:"Employees not found in Odoo, each once"`
	WorkflowID  string     `json:"workflowId,omitempty"`
}

// OdooItemBody is what a run did to one log.
type OdooItemBody struct {
	LogID            string    `json:"logId"`
	Outcome          string    `json:"outcome" enum:"synced,failed,skipped"`
	OdooAttendanceID *int64    `json:"odooAttendanceId,omitempty"`
	Reason           string    `json:"reason,omitempty" doc:"Odoo's own message for a refused record"`
	At               time.Time `json:"at"`
}

// OdooStatusOutput is GET /odoo/status.
type OdooStatusOutput struct {
	Body struct {
		Configured bool         `json:"configured"`
		Enabled    bool         `json:"enabled"`
		Pending    int          `json:"pending"`
		Failed     int          `json:"failed"`
		LastRun    *OdooRunBody `json:"lastRun,omitempty"`
		NextRunAt  *time.Time   `json:"nextRunAt,omitempty" doc:"When the schedule next pushes (enabled only)"`
	}
}

// OdooRunsInput pages GET /odoo/logs.
type OdooRunsInput struct {
	Cursor string `query:"cursor" maxLength:"512"`
	Limit  int    `query:"limit" minimum:"1" maximum:"200" default:"50"`
}

// OdooRunsOutput is a page of runs.
type OdooRunsOutput struct {
	Body struct {
		Items      []OdooRunBody `json:"items"`
		NextCursor string        `json:"nextCursor,omitempty"`
	}
}

// OdooRunInput names a run.
type OdooRunInput struct {
	ID string `path:"id" format:"uuid"`
}

// OdooRunOutput is a run with what it did to each log.
type OdooRunOutput struct {
	Body struct {
		OdooRunBody
		Items []OdooItemBody `json:"items" doc:"Up to 1000, in log order"`
	}
}

// OdooRetryInput names a log to retry.
type OdooRetryInput struct {
	ID string `path:"id" format:"uuid"`
}

func registerOdoo(api huma.API, s *Server) {
	register(api, op{ID: "get-odoo-config", Method: http.MethodGet, Path: "/odoo/config", Tag: "Odoo", Perm: auth.PermOdooConfigure,
		Summary: "The Odoo connection (never the API key)"}, s.getOdooConfig)
	register(api, op{ID: "put-odoo-config", Method: http.MethodPut, Path: "/odoo/config", Tag: "Odoo", Perm: auth.PermOdooConfigure,
		Summary: "Configure the Odoo connection and the sync",
		Desc:    "The API key is stored encrypted and never returned. Check the connection with POST /odoo/test."}, s.putOdooConfig)
	register(api, op{ID: "test-odoo", Method: http.MethodPost, Path: "/odoo/test", Tag: "Odoo", Perm: auth.PermOdooConfigure,
		Summary: "Test the Odoo connection",
		Desc:    "Reads the server version, signs in, and checks read access to hr.employee and create/write access to hr.attendance; each step says why it failed."}, s.testOdoo)
	register(api, op{ID: "start-odoo-sync", Method: http.MethodPost, Path: "/odoo/sync", Tag: "Odoo", Perm: auth.PermOdooManage, Status: http.StatusAccepted,
		Summary: "Push attendance to Odoo now",
		Desc:    "Starts a sync run (a Temporal workflow): pending logs, or only the failed ones, optionally of one person and a time range. Follow it with GET /odoo/logs/{runId}."}, s.startOdooSync)
	register(api, op{ID: "get-odoo-status", Method: http.MethodGet, Path: "/odoo/status", Tag: "Odoo", Perm: auth.PermOdooRead,
		Summary: "The sync's state: enabled, last run, pending and failed logs, next run"}, s.odooStatus)
	register(api, op{ID: "list-odoo-runs", Method: http.MethodGet, Path: "/odoo/logs", Tag: "Odoo", Perm: auth.PermOdooRead,
		Summary: "Sync runs, newest first"}, s.listOdooRuns)
	register(api, op{ID: "get-odoo-run", Method: http.MethodGet, Path: "/odoo/logs/{id}", Tag: "Odoo", Perm: auth.PermOdooRead,
		Summary: "One sync run and what it did to each attendance log"}, s.getOdooRun)
	register(api, op{ID: "retry-odoo-log", Method: http.MethodPost, Path: "/odoo/retry/{id}", Tag: "Odoo", Perm: auth.PermOdooManage, Status: http.StatusAccepted,
		Summary: "Retry one failed attendance log",
		Desc:    "Makes the log pending again and starts a sync of its person."}, s.retryOdooLog)
}

func odooConfigBody(c *store.OdooConfig) OdooConfigBody {
	p := c.Protocol
	if p == "" {
		p = "auto"
	}
	return OdooConfigBody{URL: c.URL, Database: c.Database, Login: c.Login, HasAPIKey: c.APIKey != "", Protocol: p,
		MatchField: c.MatchField, Enabled: c.Enabled, IntervalSeconds: c.IntervalSeconds, BatchSize: c.BatchSize, UpdatedAt: c.UpdatedAt}
}

func (s *Server) getOdooConfig(ctx context.Context, _ *struct{}) (*OdooConfigOutput, error) {
	c, err := store.GetOdooConfig(ctx, s.db)
	if err != nil {
		return nil, err
	}
	return &OdooConfigOutput{Body: odooConfigBody(c)}, nil
}

func (s *Server) putOdooConfig(ctx context.Context, in *PutOdooConfigInput) (*OdooConfigOutput, error) {
	b := in.Body
	c, err := store.GetOdooConfig(ctx, s.db)
	if err != nil {
		return nil, err
	}
	url := strings.TrimRight(strings.TrimSpace(b.URL), "/")
	if url != "" {
		if _, err := odoo.New(odoo.Config{URL: url}); err != nil {
			return nil, fieldError("body.url", "must be an http(s) URL with a host and no credentials", urlsafe.Redact(url))
		}
	}
	for field, v := range map[string]string{"body.database": b.Database, "body.login": b.Login, "body.apiKey": b.APIKey} {
		if strings.ContainsFunc(v, isCtl) {
			return nil, fieldError(field, "must not contain control characters", nil)
		}
	}
	if b.Enabled && (url == "" || strings.TrimSpace(b.Database) == "") {
		return nil, fieldError("body.enabled", "needs url and database", nil)
	}
	moved := url != c.URL && !urlsafe.SameEndpoint(c.URL, url)
	hadKey := c.APIKey != ""
	before := map[string]any{"url": urlsafe.Redact(c.URL), "database": c.Database, "enabled": c.Enabled, "key": storedOrNone(hadKey)}
	switch {
	case b.APIKey != "":
		if c.APIKey, err = s.secrets.Seal([]byte(b.APIKey), odoo.APIKeyAAD); err != nil {
			return nil, err
		}
	case b.ClearAPIKey || moved:
		c.APIKey = ""
	}
	if b.Enabled && c.APIKey == "" {
		return nil, fieldError("body.apiKey", "is needed to enable the sync", nil)
	}
	c.URL, c.Database, c.Login = url, strings.TrimSpace(b.Database), strings.TrimSpace(b.Login)
	c.Protocol = b.Protocol
	if c.Protocol == "auto" {
		c.Protocol = ""
	}
	c.MatchField = cmp.Or(b.MatchField, store.OdooMatchBarcode)
	c.Enabled = b.Enabled
	c.IntervalSeconds = cmp.Or(b.IntervalSeconds, 300)
	c.BatchSize = cmp.Or(b.BatchSize, 200)
	if err := store.SaveOdooConfig(ctx, s.db, c); err != nil {
		return nil, err
	}
	if info := infoFrom(ctx); info != nil {
		info.AuditBefore = before
		after := storedOrNone(c.APIKey != "")
		if moved && hadKey && c.APIKey == "" && b.APIKey == "" && !b.ClearAPIKey {
			after = "dropped"
		}
		info.AuditAfter = map[string]any{"url": urlsafe.Redact(c.URL), "database": c.Database, "enabled": c.Enabled, "key": after}
	}
	return &OdooConfigOutput{Body: odooConfigBody(c)}, nil
}

// odooClient builds a client of the stored connection.
func (s *Server) odooClient(ctx context.Context) (*odoo.Client, error) {
	c, err := store.GetOdooConfig(ctx, s.db)
	if err != nil {
		return nil, err
	}
	oc, err := odoo.NewFromSealed(odoo.Config{URL: c.URL, Database: c.Database, Login: c.Login, APIKey: c.APIKey, Protocol: c.Protocol,
		Timeout: 15 * time.Second, HTTP: s.odooHTTP}, s.secrets)
	switch {
	case errors.Is(err, odoo.ErrNotConfigured):
		return nil, odooNotConfigured()
	case errors.Is(err, odoo.ErrKeyUnreadable):
		return nil, newProblem(http.StatusConflict, CodeCredentials, err.Error())
	}
	return oc, err
}

// odooNotConfigured answers what needs a configured connection.
func odooNotConfigured() *Problem {
	return newProblem(http.StatusConflict, CodeOdooNotConfigured, "configure the Odoo URL, database and API key first (PUT /odoo/config)")
}

func (s *Server) testOdoo(ctx context.Context, _ *struct{}) (*OdooTestOutput, error) {
	oc, err := s.odooClient(ctx)
	if err != nil {
		return nil, err
	}
	out := &OdooTestOutput{}
	add := func(name string, err error, detail string) bool {
		c := OdooCheck{Name: name, OK: err == nil, Detail: detail}
		if err != nil {
			c.Detail = odooDetail(err)
		}
		out.Body.Checks = append(out.Body.Checks, c)
		return err == nil
	}
	v, err := oc.ServerVersion(ctx)
	if !add("version", err, "Odoo "+v.ServerVersion) {
		return out, nil
	}
	out.Body.ServerVersion = v.ServerVersion
	p, _ := oc.Protocol(ctx)
	out.Body.Protocol = p
	if !add("authenticate", oc.Authenticate(ctx), "signed in") {
		return out, nil
	}
	access := func(name, model, operation string) {
		ok, err := oc.HasAccess(ctx, model, operation)
		if err == nil && !ok {
			err = &odoo.Error{Kind: odoo.KindBusiness, Message: "the user may not " + operation + " " + model + " records: give it the Attendances officer (or administrator) right"}
		}
		add(name, err, "allowed")
	}
	access("read_employees", "hr.employee", "read")
	access("create_attendance", "hr.attendance", "create")
	access("write_attendance", "hr.attendance", "write")
	out.Body.OK = true
	for _, c := range out.Body.Checks {
		out.Body.OK = out.Body.OK && c.OK
	}
	return out, nil
}

// odooDetail is what an admin sees of a failed step (Odoo's reason, never
// the key).
func odooDetail(err error) string {
	var oe *odoo.Error
	if errors.As(err, &oe) {
		switch oe.Kind {
		case odoo.KindAuth:
			return "Odoo refused the login and API key: " + oe.Message
		case odoo.KindTransient:
			return "Odoo could not be reached: " + oe.Message
		}
		return oe.Message
	}
	return "Odoo could not be reached"
}

func (s *Server) startOdooSync(ctx context.Context, in *OdooSyncInputBody) (*OdooSyncStartedOutput, error) {
	b := in.Body
	if !b.From.IsZero() && !b.To.IsZero() && !b.To.After(b.From) {
		return nil, fieldError("body.to", "must be after from", b.To)
	}
	run := contract.OdooSyncInput{Trigger: contract.OdooTriggerManual, OnlyFailed: b.OnlyFailed, PersonID: b.PersonID}
	if !b.From.IsZero() {
		run.From = &b.From
	}
	if !b.To.IsZero() {
		run.To = &b.To
	}
	return s.startOdooRun(ctx, run, 0)
}

func (s *Server) startOdooRun(ctx context.Context, run contract.OdooSyncInput, retried int) (*OdooSyncStartedOutput, error) {
	code := ""
	if run.PersonID != "" {
		p, err := store.FindFaceProfile(ctx, s.db, run.PersonID)
		if err != nil {
			if errors.Is(err, store.ErrNotFound) {
				return nil, fieldError("body.personId", "names no person", run.PersonID)
			}
			return nil, err
		}
		code = p.EmployeeCode
	}
	c, err := store.GetOdooConfig(ctx, s.db)
	if err != nil {
		return nil, err
	}
	if c.URL == "" || c.Database == "" || c.APIKey == "" {
		return nil, odooNotConfigured()
	}
	run.RunID = uuid.NewString()
	info := infoFrom(ctx)
	if info != nil && info.Principal != nil {
		run.RequestedBy = info.Principal.UserID
		info.AuditResourceID = run.RunID
	}
	id := workflows.OdooSyncWorkflowID(run.RunID)
	opts := client.StartWorkflowOptions{ID: id, TaskQueue: rctemporal.TaskQueueDefault, WorkflowExecutionTimeout: 48 * time.Hour}
	// The run records its trigger, outcome and employees where the
	// namespace has the search attributes (the worker registers them).
	if ok, _ := rctemporal.HasSearchAttributes(ctx, s.temporal, s.cfg.TemporalNamespace); ok {
		run.SearchAttributes = true
		attrs := []temporal.SearchAttributeUpdate{workflows.SearchSyncTrigger.ValueSet(run.Trigger)}
		if code != "" {
			attrs = append(attrs, workflows.SearchSyncEmployees.ValueSet([]string{code}))
		}
		opts.TypedSearchAttributes = temporal.NewSearchAttributes(attrs...)
	}
	if _, err := s.temporal.ExecuteWorkflow(ctx, opts, workflows.OdooSyncWorkflow, run); err != nil {
		s.log.ErrorContext(ctx, "odoo sync not started", slog.String("error", err.Error()))
		return nil, newProblem(http.StatusServiceUnavailable, CodeUnavailable, "the workflow service is unavailable; the sync was not started")
	}
	out := &OdooSyncStartedOutput{}
	out.Body.RunID, out.Body.WorkflowID, out.Body.Retried = run.RunID, id, retried
	return out, nil
}

func odooRunBody(r *store.OdooRun) OdooRunBody {
	b := OdooRunBody{ID: r.ID, Trigger: r.Trigger, StartedAt: r.StartedAt, FinishedAt: r.FinishedAt, Status: r.Status,
		Synced: r.Synced, Failed: r.Failed, Skipped: r.Skipped, Error: r.Error, Missing: r.Missing, WorkflowID: r.WorkflowID}
	if r.RequestedBy != nil {
		b.RequestedBy = *r.RequestedBy
	}
	if r.FinishedAt != nil {
		d := r.FinishedAt.Sub(r.StartedAt).Milliseconds()
		b.DurationMs = &d
	}
	return b
}

func (s *Server) odooStatus(ctx context.Context, _ *struct{}) (*OdooStatusOutput, error) {
	c, err := store.GetOdooConfig(ctx, s.db)
	if err != nil {
		return nil, err
	}
	out := &OdooStatusOutput{}
	out.Body.Configured = c.URL != "" && c.Database != "" && c.APIKey != ""
	out.Body.Enabled = c.Enabled
	if out.Body.Pending, err = store.CountOdooLogs(ctx, s.db, store.SyncPending); err != nil {
		return nil, err
	}
	if out.Body.Failed, err = store.CountOdooLogs(ctx, s.db, store.SyncFailed); err != nil {
		return nil, err
	}
	last, err := store.LastOdooRun(ctx, s.db)
	switch {
	case err == nil:
		b := odooRunBody(last)
		out.Body.LastRun = &b
	case !errors.Is(err, store.ErrNotFound):
		return nil, err
	}
	if c.Enabled {
		next := s.now().UTC().Truncate(time.Minute).Add(time.Minute)
		if last != nil && last.Trigger == contract.OdooTriggerSchedule {
			if due := last.StartedAt.Add(time.Duration(c.IntervalSeconds) * time.Second); due.After(next) {
				next = due.Truncate(time.Minute).Add(time.Minute)
			}
		}
		out.Body.NextRunAt = &next
	}
	return out, nil
}

func (s *Server) listOdooRuns(ctx context.Context, in *OdooRunsInput) (*OdooRunsOutput, error) {
	after, err := decodeCursor(in.Cursor)
	if err != nil {
		return nil, err
	}
	runs, err := store.FindOdooRuns(ctx, s.db, after, in.Limit+1)
	if err != nil {
		return nil, problemFor(err, "")
	}
	out := &OdooRunsOutput{}
	out.Body.Items, out.Body.NextCursor = page(runs, in.Limit, odooRunBody,
		func(r *store.OdooRun) store.Cursor { return store.Cursor{Time: r.StartedAt, ID: r.ID} })
	return out, nil
}

func (s *Server) getOdooRun(ctx context.Context, in *OdooRunInput) (*OdooRunOutput, error) {
	r, err := store.FindOdooRun(ctx, s.db, in.ID)
	if err != nil {
		return nil, problemFor(err, "sync run")
	}
	items, err := store.OdooRunItems(ctx, s.db, r.ID, 1000)
	if err != nil {
		return nil, err
	}
	out := &OdooRunOutput{}
	out.Body.OdooRunBody = odooRunBody(r)
	out.Body.Items = make([]OdooItemBody, len(items))
	for i, it := range items {
		out.Body.Items[i] = OdooItemBody{LogID: it.LogID, Outcome: it.Outcome, OdooAttendanceID: it.OdooAttendanceID, Reason: it.Reason, At: it.At}
	}
	return out, nil
}

func (s *Server) retryOdooLog(ctx context.Context, in *OdooRetryInput) (*OdooSyncStartedOutput, error) {
	l, err := store.FindAttendanceLog(ctx, s.db, in.ID)
	if err != nil {
		return nil, problemFor(err, "attendance log")
	}
	if l.SyncState != store.SyncFailed {
		return nil, newProblem(http.StatusConflict, CodeConflict, "only a failed log is retried; this one is "+l.SyncState)
	}
	n, err := store.RetryOdooLogs(ctx, s.db, []string{l.ID})
	if err != nil {
		return nil, err
	}
	run := contract.OdooSyncInput{Trigger: contract.OdooTriggerRetry}
	if l.FaceProfileID != nil {
		run.PersonID = *l.FaceProfileID
	}
	return s.startOdooRun(ctx, run, n)
}
