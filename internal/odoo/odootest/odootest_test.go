package odootest

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func post(t *testing.T, url string, h map[string]string, body any) (int, http.Header, []byte) {
	t.Helper()
	b, err := json.Marshal(body)
	require.NoError(t, err)
	req, err := http.NewRequest(http.MethodPost, url, bytes.NewReader(b))
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/json")
	for k, v := range h {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	out, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp.StatusCode, resp.Header, out
}

// rpc calls /jsonrpc and returns the HTTP status and the decoded envelope.
func rpc(t *testing.T, s *Server, service, method string, args ...any) (int, map[string]any) {
	t.Helper()
	st, _, b := post(t, s.URL+"/jsonrpc", nil, map[string]any{
		"jsonrpc": "2.0", "method": "call", "id": 7,
		"params": map[string]any{"service": service, "method": method, "args": args},
	})
	var env map[string]any
	if st == http.StatusOK {
		require.NoError(t, json.Unmarshal(b, &env), string(b))
	}
	return st, env
}

func execKw(t *testing.T, s *Server, model, method string, args []any, kw map[string]any) (int, map[string]any) {
	t.Helper()
	if kw == nil {
		kw = map[string]any{}
	}
	return rpc(t, s, "object", "execute_kw", "rollcall", 2, "test-api-key", model, method, args, kw)
}

func errName(env map[string]any) string {
	e, _ := env["error"].(map[string]any)
	d, _ := e["data"].(map[string]any)
	n, _ := d["name"].(string)
	return n
}

func errMessage(env map[string]any) string {
	e, _ := env["error"].(map[string]any)
	d, _ := e["data"].(map[string]any)
	n, _ := d["message"].(string)
	return n
}

func json2(t *testing.T, s *Server, key, model, method string, body map[string]any) (int, http.Header, []byte) {
	t.Helper()
	return post(t, s.URL+"/json/2/"+model+"/"+method, map[string]string{
		"Authorization": "bearer " + key, "X-Odoo-Database": "rollcall",
	}, body)
}

func at(v string) time.Time {
	t, err := time.Parse(odooLayout, v)
	if err != nil {
		panic(err)
	}
	return t
}

func TestVersionAndAuthenticate(t *testing.T) {
	s := New(Options{})
	defer s.Close()
	_, env := rpc(t, s, "common", "version")
	assert.Equal(t, map[string]any{
		"server_version": "17.0", "server_version_info": []any{17.0, 0.0, 0.0, "final", 0.0, ""},
		"server_serie": "17.0", "protocol_version": 1.0,
	}, env["result"])

	tests := []struct {
		name         string
		db, login, k string
		want         any
		errName      string
	}{
		{"good", "rollcall", "rollcall-bot", "test-api-key", 2.0, ""},
		{"bad key", "rollcall", "rollcall-bot", "nope", false, ""},
		{"bad login", "rollcall", "someone", "test-api-key", false, ""},
		{"bad db", "other", "rollcall-bot", "test-api-key", nil, "psycopg2.OperationalError"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			st, env := rpc(t, s, "common", "authenticate", tc.db, tc.login, tc.k, map[string]any{})
			require.Equal(t, http.StatusOK, st)
			assert.Equal(t, tc.errName, errName(env))
			if tc.errName == "" {
				assert.Equal(t, tc.want, env["result"])
			}
		})
	}

	_, env = rpc(t, s, "object", "execute_kw", "rollcall", 2, "wrong", "hr.employee", "search", []any{[]any{}}, map[string]any{})
	assert.Equal(t, "odoo.exceptions.AccessDenied", errName(env))
	assert.Equal(t, "Access Denied", errMessage(env))
}

func TestCreateWriteOneInterval(t *testing.T) {
	s := New(Options{})
	defer s.Close()
	emp := s.AddEmployee(Employee{Name: "Ada"})
	_, env := execKw(t, s, "hr.attendance", "create", []any{map[string]any{"employee_id": emp, "check_in": "2026-03-02 08:00:00"}}, nil)
	require.Empty(t, errName(env), env)
	assert.Equal(t, 1.0, env["result"])
	_, env = execKw(t, s, "hr.attendance", "write", []any{[]any{1}, map[string]any{"check_out": "2026-03-02 12:00:00"}}, nil)
	require.Empty(t, errName(env), env)
	assert.Equal(t, true, env["result"])
	assert.Equal(t, []Attendance{{ID: 1, EmployeeID: emp, CheckIn: at("2026-03-02 08:00:00"), CheckOut: at("2026-03-02 12:00:00")}}, s.Attendances())

	_, env = execKw(t, s, "hr.attendance", "search_read", []any{[]any{[]any{"employee_id", "=", emp}}}, map[string]any{"fields": []any{"employee_id", "check_in", "check_out"}, "order": "check_in asc"})
	assert.Equal(t, []any{map[string]any{"id": 1.0, "employee_id": []any{1.0, "Ada"}, "check_in": "2026-03-02 08:00:00", "check_out": "2026-03-02 12:00:00"}}, env["result"])
	assert.Equal(t, 1, s.CallsOf("hr.attendance", "create"))
	assert.Equal(t, 3, s.Calls())
}

func TestConstraints(t *testing.T) {
	const (
		earlier = `"Check Out" time cannot be earlier than "Check In" time.`
	)
	tests := []struct {
		name     string
		existing [][2]string // check_in, check_out ("" = open)
		vals     map[string]any
		message  string
	}{
		{"check out before check in", nil,
			map[string]any{"check_in": "2026-03-02 10:00:00", "check_out": "2026-03-02 09:00:00"}, earlier},
		{"check in inside a closed attendance", [][2]string{{"2026-03-02 08:00:00", "2026-03-02 12:00:00"}},
			map[string]any{"check_in": "2026-03-02 11:00:00", "check_out": "2026-03-02 13:00:00"},
			"Cannot create new attendance record for Ada, the employee was already checked in on 03/02/2026 11:00:00"},
		{"second open attendance", [][2]string{{"2026-03-02 08:00:00", ""}},
			map[string]any{"check_in": "2026-03-02 09:00:00"},
			"Cannot create new attendance record for Ada, the employee hasn't checked out since 03/02/2026 08:00:00"},
		{"interval covering another", [][2]string{{"2026-03-02 10:00:00", "2026-03-02 11:00:00"}},
			map[string]any{"check_in": "2026-03-02 09:00:00", "check_out": "2026-03-02 12:00:00"},
			"Cannot create new attendance record for Ada, the employee was already checked in on 03/02/2026 10:00:00"},
	}
	for _, tc := range tests {
		for _, proto := range []string{"jsonrpc", "json2"} {
			t.Run(tc.name+"/"+proto, func(t *testing.T) {
				s := New(Options{Version: "19.0"})
				defer s.Close()
				emp := s.AddEmployee(Employee{Name: "Ada"})
				for _, ex := range tc.existing {
					var out time.Time
					if ex[1] != "" {
						out = at(ex[1])
					}
					_, err := s.AddAttendance(emp, at(ex[0]), out)
					require.NoError(t, err)
				}
				vals := map[string]any{"employee_id": emp}
				for k, v := range tc.vals {
					vals[k] = v
				}
				if proto == "jsonrpc" {
					st, env := execKw(t, s, "hr.attendance", "create", []any{vals}, nil)
					require.Equal(t, http.StatusOK, st)
					assert.Equal(t, "odoo.exceptions.ValidationError", errName(env))
					assert.Equal(t, tc.message, errMessage(env))
					assert.Equal(t, 200.0, env["error"].(map[string]any)["code"])
				} else {
					st, _, b := json2(t, s, "test-api-key", "hr.attendance", "create", map[string]any{"vals_list": []any{vals}})
					require.Equal(t, http.StatusUnprocessableEntity, st, string(b))
					var body map[string]any
					require.NoError(t, json.Unmarshal(b, &body))
					assert.Equal(t, "odoo.exceptions.ValidationError", body["name"])
					assert.Equal(t, tc.message, body["message"])
					assert.Equal(t, []any{tc.message}, body["arguments"])
				}
				assert.Len(t, s.Attendances(), len(tc.existing))
			})
		}
	}
}

func TestClosedAfterOpenAllowed(t *testing.T) {
	s := New(Options{})
	defer s.Close()
	emp := s.AddEmployee(Employee{Name: "Ada"})
	_, err := s.AddAttendance(emp, at("2026-03-02 08:00:00"), time.Time{})
	require.NoError(t, err)
	_, err = s.AddAttendance(emp, at("2026-03-02 09:00:00"), at("2026-03-02 10:00:00"))
	require.NoError(t, err, "Odoo's rule 4 lets a closed attendance follow an open one")
}

func TestDatetimeValues(t *testing.T) {
	tests := []struct {
		value   string
		strict  bool
		errName string
		message string
	}{
		{"2026-03-02T08:00:00Z", false, "builtins.ValueError", "time data '2026-03-02T08:00:00' does not match format '%Y-%m-%d %H:%M:%S'"},
		{"2026-03-02T08:00:00", true, "builtins.ValueError", "time data '2026-03-02T08:00:00' does not match format '%Y-%m-%d %H:%M:%S'"},
		{"2026-03-02 08:00:00.123456", true, "builtins.ValueError", "time data '2026-03-02 08:00:00.123456' does not match format '%Y-%m-%d %H:%M:%S'"},
		{"2026-03-02 08:00:00+02:00", true, "builtins.ValueError", "time data '2026-03-02 08:00:00+02:00' does not match format '%Y-%m-%d %H:%M:%S'"},
		{"2026-02-30 08:00:00", false, "builtins.ValueError", "day is out of range for month"},
		{"2026-03-02 08:00:00.123456", false, "", ""}, // Odoo keeps the first 19 characters
		{"2026-03-02 08:00:00", true, "", ""},
	}
	for _, tc := range tests {
		t.Run(tc.value, func(t *testing.T) {
			s := New(Options{StrictDatetimes: tc.strict})
			defer s.Close()
			emp := s.AddEmployee(Employee{Name: "Ada"})
			_, env := execKw(t, s, "hr.attendance", "create", []any{map[string]any{"employee_id": emp, "check_in": tc.value}}, nil)
			assert.Equal(t, tc.errName, errName(env))
			assert.Equal(t, tc.message, errMessage(env))
			st, _, _ := json2(t, s, "test-api-key", "hr.attendance", "create", map[string]any{"vals_list": []any{map[string]any{"employee_id": emp, "check_in": tc.value}}})
			if tc.errName != "" {
				assert.Equal(t, http.StatusInternalServerError, st, "a ValueError is not a UserError")
			}
		})
	}
}

func TestCreateListIsAtomic(t *testing.T) {
	s := New(Options{})
	defer s.Close()
	emp := s.AddEmployee(Employee{Name: "Ada"})
	list := []any{
		map[string]any{"employee_id": emp, "check_in": "2026-03-02 08:00:00", "check_out": "2026-03-02 12:00:00"},
		map[string]any{"employee_id": emp, "check_in": "2026-03-02 11:00:00", "check_out": "2026-03-02 13:00:00"},
	}
	_, env := execKw(t, s, "hr.attendance", "create", []any{list}, nil)
	assert.Equal(t, "odoo.exceptions.ValidationError", errName(env))
	assert.Empty(t, s.Attendances())

	_, env = execKw(t, s, "hr.attendance", "create", []any{list[:1]}, nil)
	assert.Equal(t, []any{1.0}, env["result"], "a list answers a list of ids")

	_, env = execKw(t, s, "hr.attendance", "create", []any{map[string]any{"employee_id": 99, "check_in": "2026-03-03 08:00:00"}}, nil)
	assert.Equal(t, "odoo.exceptions.ValidationError", errName(env))
	assert.Contains(t, errMessage(env), "hr_attendance_employee_id_fkey")
}

func TestFailAfterCommit(t *testing.T) {
	s := New(Options{})
	defer s.Close()
	emp := s.AddEmployee(Employee{Name: "Ada"})
	s.FailAfterCommit(1)
	st, _ := execKw(t, s, "hr.attendance", "create", []any{map[string]any{"employee_id": emp, "check_in": "2026-03-02 08:00:00"}}, nil)
	assert.Equal(t, http.StatusBadGateway, st)
	assert.Len(t, s.Attendances(), 1)
	st, _, b := json2(t, s, "test-api-key", "hr.attendance", "write", map[string]any{"ids": []any{1}, "vals": map[string]any{"check_out": "2026-03-02 09:00:00"}})
	assert.Equal(t, http.StatusOK, st)
	assert.Equal(t, "true\n", string(b))
}

func TestFaults(t *testing.T) {
	s := New(Options{})
	defer s.Close()

	s.SetDown(true)
	_, err := http.Post(s.URL+"/jsonrpc", "application/json", bytes.NewReader([]byte(`{}`)))
	assert.Error(t, err, "the connection is closed without a response")
	s.SetDown(false)

	s.SetRateLimited(1)
	st, h, _ := post(t, s.URL+"/jsonrpc", nil, map[string]any{})
	assert.Equal(t, http.StatusTooManyRequests, st)
	assert.Equal(t, "1", h.Get("Retry-After"))

	s.ExpireSessionOnce()
	_, env := rpc(t, s, "common", "version")
	assert.Equal(t, "odoo.http.SessionExpiredException", errName(env))
	assert.Equal(t, 100.0, env["error"].(map[string]any)["code"])
	_, env = rpc(t, s, "common", "version")
	assert.Empty(t, errName(env))

	s.DenyAccess("hr.attendance", "create")
	_, env = execKw(t, s, "hr.attendance", "check_access_rights", []any{"create"}, map[string]any{"raise_exception": false})
	assert.Equal(t, false, env["result"])
	_, env = execKw(t, s, "hr.attendance", "create", []any{map[string]any{}}, nil)
	assert.Equal(t, "odoo.exceptions.AccessError", errName(env))
}

func TestJSON2(t *testing.T) {
	s := New(Options{Version: "19.0"})
	defer s.Close()
	s.AddEmployee(Employee{Name: "Ada", Barcode: "042"})

	st, h, b := json2(t, s, "bad-key", "hr.employee", "search_read", map[string]any{})
	assert.Equal(t, http.StatusUnauthorized, st)
	assert.Equal(t, "Bearer", h.Get("WWW-Authenticate"))
	var body map[string]any
	require.NoError(t, json.Unmarshal(b, &body))
	assert.Equal(t, "werkzeug.exceptions.Unauthorized", body["name"])
	assert.Equal(t, "Invalid apikey", body["message"])
	assert.Equal(t, []any{"Invalid apikey", 401.0}, body["arguments"])

	st, _, b = json2(t, s, "test-api-key", "hr.employee", "search_read", map[string]any{
		"domain": []any{[]any{"barcode", "in", []any{"042"}}}, "fields": []any{"name", "work_email"},
	})
	assert.Equal(t, http.StatusOK, st)
	assert.JSONEq(t, `[{"id":1,"name":"Ada","work_email":false}]`, string(b))

	st, _, b = json2(t, s, "test-api-key", "hr.employee", "has_access", map[string]any{"operation": "read"})
	assert.Equal(t, http.StatusOK, st)
	assert.Equal(t, "true\n", string(b))

	st, _, _ = json2(t, s, "test-api-key", "no.such", "search", map[string]any{"domain": []any{}})
	assert.Equal(t, http.StatusNotFound, st)

	resp, err := http.Get(s.URL + "/web/version")
	require.NoError(t, err)
	defer resp.Body.Close()
	b, _ = io.ReadAll(resp.Body)
	assert.JSONEq(t, `{"version":"19.0","version_info":[19,0,0,"final",0,""]}`, string(b))
}

func TestDomainOperators(t *testing.T) {
	s := New(Options{})
	defer s.Close()
	a := s.AddEmployee(Employee{Name: "Ada"})
	b := s.AddEmployee(Employee{Name: "Bob"})
	_, err := s.AddAttendance(a, at("2026-03-02 08:00:00"), at("2026-03-02 09:00:00"))
	require.NoError(t, err)
	_, err = s.AddAttendance(b, at("2026-03-02 10:00:00"), time.Time{})
	require.NoError(t, err)
	tests := []struct {
		domain []any
		want   []any
	}{
		{[]any{}, []any{2.0, 1.0}}, // default order check_in desc
		{[]any{[]any{"check_out", "=", false}}, []any{2.0}},
		{[]any{[]any{"check_in", ">=", "2026-03-02 09:00:00"}}, []any{2.0}},
		{[]any{"|", []any{"employee_id", "=", a}, []any{"check_out", "!=", false}}, []any{1.0}},
		{[]any{"!", []any{"employee_id", "in", []any{a}}}, []any{2.0}},
		{[]any{[]any{"employee_id", "not in", []any{b}}, []any{"id", ">", 0}}, []any{1.0}},
	}
	for _, tc := range tests {
		_, env := execKw(t, s, "hr.attendance", "search", []any{tc.domain}, nil)
		assert.Equal(t, tc.want, env["result"], "%v", tc.domain)
	}
}
