package odoo

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

func TestTimes(t *testing.T) {
	at := time.Date(2026, 12, 1, 9, 3, 7, 999_000_000, time.FixedZone("CET", 3600))
	if got := FormatTime(at); got != "2026-12-01 08:03:07" {
		t.Fatalf("FormatTime = %q (want naive UTC, no T or zone)", got)
	}
	back, err := ParseTime("2026-12-01 08:03:07")
	if err != nil || !back.Equal(at.Truncate(time.Second)) {
		t.Fatalf("ParseTime = %v, %v", back, err)
	}
	for _, bad := range []string{"2026-12-01T08:03:07Z", "2026-12-01 08:03:07+01:00"} {
		if _, err := ParseTime(bad); err == nil {
			t.Errorf("ParseTime accepted %q", bad)
		}
	}
}

// odooStub answers JSON-RPC and JSON-2 calls with canned bodies.
func odooStub(t *testing.T, handle func(w http.ResponseWriter, path string, body map[string]any)) *httptest.Server {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var body map[string]any
		b, _ := io.ReadAll(r.Body)
		_ = json.Unmarshal(b, &body)
		handle(w, r.URL.Path, body)
	}))
	t.Cleanup(srv.Close)
	return srv
}

func rpcError(w http.ResponseWriter, code int, name, msg string) {
	_ = json.NewEncoder(w).Encode(map[string]any{"jsonrpc": "2.0", "id": 1, "error": map[string]any{"code": code, "message": "Odoo Server Error",
		"data": map[string]any{"name": name, "message": msg, "arguments": []any{msg}, "debug": "Traceback (most recent call last): secret-key"}}})
}

// JSON-RPC answers errors with HTTP 200: the kind comes from
// error.data.name; Odoo's message is kept, its traceback dropped, and the
// key never appears.
func TestJSONRPCErrors(t *testing.T) {
	for _, tc := range []struct {
		name, odooName, msg string
		code                int
		kind                Kind
	}{
		{"overlap", "odoo.exceptions.ValidationError", "Cannot create new attendance record for Ana, the employee was already checked in on 12/01/2026 08:00:00", 200, KindBusiness},
		{"access", "odoo.exceptions.AccessError", "You are not allowed to create 'Attendance' (hr.attendance) records.", 200, KindBusiness},
		{"bad key", "odoo.exceptions.AccessDenied", "Access Denied", 200, KindAuth},
		{"session", "odoo.http.SessionExpiredException", "Session expired", 100, KindTransient},
		{"serialization", "psycopg2.errors.SerializationFailure", "could not serialize access", 200, KindTransient},
		{"no database", "psycopg2.OperationalError", `FATAL:  database "x" does not exist`, 200, KindAuth},
		{"echoed key", "odoo.exceptions.UserError", "bad value secret-key", 200, KindBusiness},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := odooStub(t, func(w http.ResponseWriter, path string, body map[string]any) {
				params, _ := body["params"].(map[string]any)
				if params["method"] == "authenticate" {
					_ = json.NewEncoder(w).Encode(map[string]any{"jsonrpc": "2.0", "id": 1, "result": 2})
					return
				}
				rpcError(w, tc.code, tc.odooName, tc.msg)
			})
			c, err := New(Config{URL: srv.URL, Database: "db", Login: "bot", APIKey: "secret-key", Protocol: ProtocolJSONRPC})
			if err != nil {
				t.Fatal(err)
			}
			_, err = c.CreateAttendances(context.Background(), []NewAttendance{{EmployeeID: 1, CheckIn: time.Now()}})
			var oe *Error
			if !errors.As(err, &oe) || oe.Kind != tc.kind || oe.Name != tc.odooName {
				t.Fatalf("err = %#v, want kind %s", err, tc.kind)
			}
			if strings.Contains(err.Error(), "secret-key") || strings.Contains(err.Error(), "Traceback") {
				t.Fatalf("error shows the key or traceback: %v", err)
			}
			if tc.kind == KindBusiness && tc.name != "echoed key" && !strings.Contains(err.Error(), tc.msg) {
				t.Fatalf("Odoo's message is lost: %v", err)
			}
		})
	}
}

func TestAuthenticateFalse(t *testing.T) {
	srv := odooStub(t, func(w http.ResponseWriter, _ string, _ map[string]any) {
		_ = json.NewEncoder(w).Encode(map[string]any{"jsonrpc": "2.0", "id": 1, "result": false})
	})
	c, _ := New(Config{URL: srv.URL, Database: "db", Login: "bot", APIKey: "k", Protocol: ProtocolJSONRPC})
	if err := c.Authenticate(context.Background()); KindOf(err) != KindAuth {
		t.Fatalf("authenticate false: %v, want an auth error", err)
	}
}

// JSON-2 errors come with their HTTP status.
func TestJSON2Errors(t *testing.T) {
	for _, tc := range []struct {
		status int
		name   string
		kind   Kind
	}{
		{401, "werkzeug.exceptions.Unauthorized", KindAuth},
		{422, "odoo.exceptions.ValidationError", KindBusiness},
		{403, "odoo.exceptions.AccessError", KindBusiness},
		{404, "odoo.exceptions.MissingError", KindBusiness},
		{429, "", KindTransient},
		{502, "", KindTransient},
		{503, "", KindTransient},
		{500, "odoo.exceptions.ValidationError", KindBusiness},
		{500, "builtins.RuntimeError", KindTransient},
	} {
		srv := odooStub(t, func(w http.ResponseWriter, path string, body map[string]any) {
			if tc.name == "" {
				w.WriteHeader(tc.status)
				return
			}
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(tc.status)
			_ = json.NewEncoder(w).Encode(map[string]any{"name": tc.name, "message": "refused", "arguments": []any{"refused"}})
		})
		c, _ := New(Config{URL: srv.URL, Database: "db", APIKey: "k", Protocol: ProtocolJSON2})
		err := c.CloseAttendance(context.Background(), 1, time.Now())
		if KindOf(err) != tc.kind {
			t.Errorf("%d %s: kind %s (%v), want %s", tc.status, tc.name, KindOf(err), err, tc.kind)
		}
	}
}

// JSON-2 sends named arguments with the bearer key and database header.
func TestJSON2Request(t *testing.T) {
	var got *http.Request
	var body map[string]any
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got = r
		b, _ := io.ReadAll(r.Body)
		_ = json.Unmarshal(b, &body)
		_, _ = w.Write([]byte(`[7, 8]`))
	}))
	defer srv.Close()
	c, _ := New(Config{URL: srv.URL + "/", Database: "mycompany", APIKey: "k1", Protocol: ProtocolJSON2})
	ids, err := c.CreateAttendances(context.Background(), []NewAttendance{
		{EmployeeID: 3, CheckIn: time.Date(2026, 12, 1, 8, 0, 0, 0, time.UTC), CheckOut: time.Date(2026, 12, 1, 16, 0, 0, 0, time.UTC)},
		{EmployeeID: 4, CheckIn: time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)}})
	if err != nil || len(ids) != 2 || ids[0] != 7 {
		t.Fatalf("create: %v %v", ids, err)
	}
	if got.URL.Path != "/json/2/hr.attendance/create" || got.Header.Get("Authorization") != "bearer k1" || got.Header.Get("X-Odoo-Database") != "mycompany" {
		t.Fatalf("request: %s %v", got.URL.Path, got.Header)
	}
	vals, _ := body["vals_list"].([]any)
	first, _ := vals[0].(map[string]any)
	second, _ := vals[1].(map[string]any)
	if len(vals) != 2 || first["check_in"] != "2026-12-01 08:00:00" || first["check_out"] != "2026-12-01 16:00:00" || second["check_out"] != nil {
		t.Fatalf("body: %v", body)
	}
}

// A redirect is never followed (it would take the key elsewhere), and
// a dead server is transient.
func TestRedirectAndDown(t *testing.T) {
	hit := false
	elsewhere := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { hit = true }))
	defer elsewhere.Close()
	srv := httptest.NewServer(http.RedirectHandler(elsewhere.URL+"/jsonrpc", http.StatusTemporaryRedirect))
	c, _ := New(Config{URL: srv.URL, Database: "db", APIKey: "k", Protocol: ProtocolJSON2})
	err := c.CloseAttendance(context.Background(), 1, time.Now())
	if err == nil || hit {
		t.Fatalf("redirect followed (%v, hit %v)", err, hit)
	}
	srv.Close()
	if err := c.CloseAttendance(context.Background(), 1, time.Now()); KindOf(err) != KindTransient {
		t.Fatalf("down: %v", err)
	}
	if _, err := New(Config{URL: "https://user:pw@odoo.example.com"}); err == nil {
		t.Fatal("a URL with credentials was accepted")
	}
}

func TestProtocolByVersion(t *testing.T) {
	for version, want := range map[string]string{"17.0": ProtocolJSONRPC, "saas~18.3": ProtocolJSONRPC, "19.0": ProtocolJSON2} {
		srv := odooStub(t, func(w http.ResponseWriter, _ string, _ map[string]any) {
			_ = json.NewEncoder(w).Encode(map[string]any{"jsonrpc": "2.0", "id": 1, "result": map[string]any{"server_version": version}})
		})
		c, _ := New(Config{URL: srv.URL, Database: "db", APIKey: "k"})
		if p, err := c.Protocol(context.Background()); err != nil || p != want {
			t.Errorf("%s: %s %v, want %s", version, p, err, want)
		}
	}
}

type fakeBox map[string]string

func (b fakeBox) Open(sealed, aad string) ([]byte, error) {
	if v, ok := b[sealed+"|"+aad]; ok {
		return []byte(v), nil
	}
	return nil, errors.New("cannot open")
}

func TestNewFromSealed(t *testing.T) {
	box := fakeBox{"sealed|" + APIKeyAAD: "k"}
	if _, err := NewFromSealed(Config{URL: "https://odoo.example.com", Database: "db"}, box); !errors.Is(err, ErrNotConfigured) {
		t.Fatalf("no key: %v", err)
	}
	if _, err := NewFromSealed(Config{URL: "https://odoo.example.com", Database: "db", APIKey: "other"}, box); !errors.Is(err, ErrKeyUnreadable) {
		t.Fatalf("unreadable key: %v", err)
	}
	c, err := NewFromSealed(Config{URL: "https://odoo.example.com", Database: "db", APIKey: "sealed"}, box)
	if err != nil || c.cfg.APIKey != "k" {
		t.Fatalf("opened: %v", err)
	}
}
