// Package odootest is an in-process stand-in for an Odoo server, for tests.
//
// It serves Odoo's external JSON-RPC API (POST /jsonrpc: common.version,
// common.authenticate, common.login, object.execute_kw, object.execute), the
// Odoo 19 JSON-2 API (POST /json/2/<model>/<method> with a bearer API key) and
// GET /web/version, over the models hr.employee and hr.attendance. The
// attendance constraints, the error envelopes and the value parsing follow
// Odoo's own code (odoo/http.py, odoo/service/model.py, odoo/fields.py and
// addons/hr_attendance/models/hr_attendance.py).
package odootest

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Options configures a Server; zero fields take their defaults.
type Options struct {
	Database string // default "rollcall"
	Login    string // default "rollcall-bot"
	APIKey   string // the only accepted key/password; default "test-api-key"
	Version  string // server_version, e.g. "17.0" (default) or "19.0"
	UID      int    // uid returned by authenticate; default 2
	// StrictDatetimes refuses every datetime value that is not exactly
	// "YYYY-MM-DD HH:MM:SS". Odoo itself (and the default here) keeps the
	// first 19 characters, so fractional seconds and offsets are silently
	// dropped, and takes a bare "YYYY-MM-DD" as midnight.
	StrictDatetimes bool
}

// Employee is an hr.employee record; empty strings read as false.
type Employee struct {
	Name, Barcode, IdentificationID, WorkEmail string
}

// Attendance is an hr.attendance record; a zero CheckOut means still open.
type Attendance struct {
	ID, EmployeeID int
	CheckIn        time.Time
	CheckOut       time.Time // zero = open
}

// Server is a running fake Odoo server.
type Server struct {
	// URL is the base URL of the server, without a trailing slash.
	URL string

	opts   Options
	major  int
	ts     *httptest.Server
	closed chan struct{}
	once   sync.Once

	mu       sync.Mutex
	emps     []Employee   // id = index+1
	atts     []Attendance // id = index+1
	down     bool
	delay    time.Duration
	expire   bool
	failNext int
	limited  int
	denied   map[[2]string]bool
	calls    int
	callsOf  map[[2]string]int
	now      func() time.Time
}

// New starts a Server listening on a local port.
func New(o Options) *Server {
	if o.Database == "" {
		o.Database = "rollcall"
	}
	if o.Login == "" {
		o.Login = "rollcall-bot"
	}
	if o.APIKey == "" {
		o.APIKey = "test-api-key"
	}
	if o.Version == "" {
		o.Version = "17.0"
	}
	if o.UID == 0 {
		o.UID = 2
	}
	s := &Server{
		opts:    o,
		major:   versionInfo(o.Version)[0].(int),
		closed:  make(chan struct{}),
		denied:  map[[2]string]bool{},
		callsOf: map[[2]string]int{},
		now:     func() time.Time { return time.Now().UTC().Truncate(time.Second) },
	}
	s.ts = httptest.NewServer(http.HandlerFunc(s.serve))
	s.URL = strings.TrimSuffix(s.ts.URL, "/")
	return s
}

// Close stops the server, cutting short any request still being delayed.
func (s *Server) Close() {
	s.once.Do(func() { close(s.closed) })
	s.ts.CloseClientConnections()
	s.ts.Close()
}

// AddEmployee stores an hr.employee record and returns its id (ids start at 1).
func (s *Server) AddEmployee(e Employee) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.emps = append(s.emps, e)
	return len(s.emps)
}

// AddAttendance creates an hr.attendance under the same constraints as the
// API's create; a zero out leaves it open and the times are taken as UTC.
func (s *Server) AddAttendance(employeeID int, in, out time.Time) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	a := newAtt{Attendance: Attendance{EmployeeID: employeeID}, hasEmp: true, hasIn: true}
	if !in.IsZero() {
		a.CheckIn = in.UTC().Truncate(time.Second)
	}
	if !out.IsZero() {
		a.CheckOut = out.UTC().Truncate(time.Second)
	}
	ids, e := s.insertAttendances([]newAtt{a})
	if e != nil {
		return 0, e
	}
	return ids[0], nil
}

// Attendances returns every hr.attendance record sorted by id, in UTC.
func (s *Server) Attendances() []Attendance {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Attendance(nil), s.atts...)
}

// SetDown makes every request end with the connection closed and no response.
func (s *Server) SetDown(down bool) {
	s.mu.Lock()
	s.down = down
	s.mu.Unlock()
}

// SetDelay makes every request wait d before it is handled.
func (s *Server) SetDelay(d time.Duration) {
	s.mu.Lock()
	s.delay = d
	s.mu.Unlock()
}

// ExpireSessionOnce makes the next JSON-RPC or JSON-2 request answer Odoo's
// session-expired error.
func (s *Server) ExpireSessionOnce() {
	s.mu.Lock()
	s.expire = true
	s.mu.Unlock()
}

// FailAfterCommit makes the next n successful create/write calls on
// hr.attendance commit their change and then answer HTTP 502 with an empty body.
func (s *Server) FailAfterCommit(n int) {
	s.mu.Lock()
	s.failNext = n
	s.mu.Unlock()
}

// DenyAccess makes operation ("read", "create", "write" or "unlink") on model
// raise odoo.exceptions.AccessError.
func (s *Server) DenyAccess(model, operation string) {
	s.mu.Lock()
	s.denied[[2]string{model, operation}] = true
	s.mu.Unlock()
}

// SetRateLimited makes the next n requests answer HTTP 429 with Retry-After: 1.
func (s *Server) SetRateLimited(n int) {
	s.mu.Lock()
	s.limited = n
	s.mu.Unlock()
}

// Calls is the number of model method calls served (execute_kw, execute or JSON-2).
func (s *Server) Calls() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.calls
}

// CallsOf is the number of calls served of method on model.
func (s *Server) CallsOf(model, method string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.callsOf[[2]string{model, method}]
}

func (s *Server) countCall(model, method string) {
	s.calls++
	s.callsOf[[2]string{model, method}]++
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	d := s.delay
	s.mu.Unlock()
	if d > 0 {
		t := time.NewTimer(d)
		select {
		case <-t.C:
		case <-r.Context().Done():
			t.Stop()
			return
		case <-s.closed:
			t.Stop()
			return
		}
	}
	s.mu.Lock()
	down := s.down
	limited := false
	if !down && s.limited > 0 {
		s.limited--
		limited = true
	}
	s.mu.Unlock()
	switch {
	case down:
		if hj, ok := w.(http.Hijacker); ok {
			if conn, _, err := hj.Hijack(); err == nil {
				_ = conn.Close()
				return
			}
		}
		panic(http.ErrAbortHandler) // closes the connection without a response
	case limited:
		w.Header().Set("Retry-After", "1")
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.WriteHeader(http.StatusTooManyRequests)
		_, _ = w.Write([]byte("Too Many Requests\n"))
		return
	}
	switch p := r.URL.Path; {
	case p == "/jsonrpc":
		s.serveJSONRPC(w, r)
	case p == "/web/version":
		v := versionInfo(s.opts.Version)
		writeJSON(w, http.StatusOK, map[string]any{"version": s.opts.Version, "version_info": v})
	case p == "/json/2" || strings.HasPrefix(p, "/json/2/"):
		s.serveJSON2(w, r)
	default:
		http.NotFound(w, r)
	}
}

// versionInfo is Odoo's version_info list for version, e.g. [17,0,0,"final",0,""].
func versionInfo(version string) []any {
	v := strings.TrimPrefix(version, "saas~")
	parts := strings.SplitN(v, ".", 3)
	major, minor := 0, 0
	if len(parts) > 0 {
		major, _ = strconv.Atoi(strings.TrimFunc(parts[0], func(r rune) bool { return r < '0' || r > '9' }))
	}
	if len(parts) > 1 {
		minor, _ = strconv.Atoi(strings.TrimFunc(parts[1], func(r rune) bool { return r < '0' || r > '9' }))
	}
	return []any{major, minor, 0, "final", 0, ""}
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
}

// decodeJSON decodes body keeping integers as int and other numbers as float64.
func decodeJSON(body []byte) (any, error) {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, err
	}
	if dec.More() {
		return nil, errTrailing
	}
	return normalize(v), nil
}

type trailingErr struct{}

func (trailingErr) Error() string { return "Extra data" }

var errTrailing = trailingErr{}

func normalize(v any) any {
	switch x := v.(type) {
	case json.Number:
		if i, err := strconv.ParseInt(string(x), 10, 64); err == nil {
			return int(i)
		}
		f, _ := x.Float64()
		return f
	case []any:
		for i := range x {
			x[i] = normalize(x[i])
		}
	case map[string]any:
		for k := range x {
			x[k] = normalize(x[k])
		}
	}
	return v
}

func sortedKeys(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
