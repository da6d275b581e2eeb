package odootest

import (
	"encoding/json"
	"fmt"
	"io"
	"mime"
	"net/http"
	"regexp"
	"strings"
)

// Error is an Odoo exception as the server serialises it.
type Error struct {
	// Name is the dotted Python class, e.g. "odoo.exceptions.ValidationError".
	Name string
	// Message is the exception text.
	Message string
	// Arguments are the exception arguments; nil means [Message].
	Arguments []any
	// Status is the HTTP status JSON-2 answers with.
	Status int
}

// Error returns "<Name>: <Message>".
func (e *Error) Error() string { return e.Name + ": " + e.Message }

func newErr(name, msg string) *Error {
	return &Error{Name: name, Message: msg, Status: statusFor(name)}
}

func statusFor(name string) int {
	switch name {
	case "odoo.exceptions.UserError", "odoo.exceptions.ValidationError", "odoo.exceptions.RedirectWarning":
		return http.StatusUnprocessableEntity
	case "odoo.exceptions.AccessError", "odoo.exceptions.AccessDenied", "odoo.http.SessionExpiredException":
		return http.StatusForbidden
	case "odoo.exceptions.MissingError":
		return http.StatusNotFound
	}
	return http.StatusInternalServerError
}

func werkzeugErr(status int, msg string) *Error {
	name := map[int]string{
		400: "BadRequest", 401: "Unauthorized", 404: "NotFound", 405: "MethodNotAllowed", 422: "UnprocessableEntity",
	}[status]
	return &Error{Name: "werkzeug.exceptions." + name, Message: msg, Arguments: []any{msg, status}, Status: status}
}

func validationErr(msg string) *Error { return newErr("odoo.exceptions.ValidationError", msg) }
func valueErr(msg string) *Error      { return newErr("builtins.ValueError", msg) }
func typeErr(msg string) *Error       { return newErr("builtins.TypeError", msg) }

func (e *Error) args() []any {
	if e.Arguments != nil {
		return e.Arguments
	}
	return []any{e.Message}
}

func (e *Error) debug() string {
	short := strings.TrimPrefix(e.Name, "builtins.")
	return "Traceback (most recent call last):\n" +
		"  File \"/usr/lib/python3/dist-packages/odoo/http.py\", line 1770, in _serve_db\n" +
		"    return service_model.retrying(self._serve_ir_http, self.env)\n" +
		"  File \"/usr/lib/python3/dist-packages/odoo/service/model.py\", line 133, in retrying\n" +
		"    result = func()\n" +
		short + ": " + e.Message + "\n"
}

// body is http.serialize_exception's dict.
func (e *Error) body() map[string]any {
	return map[string]any{
		"name":      e.Name,
		"message":   e.Message,
		"arguments": e.args(),
		"context":   map[string]any{},
		"debug":     e.debug(),
	}
}

// ---------------------------------------------------------------- JSON-RPC

func (s *Server) serveJSONRPC(w http.ResponseWriter, r *http.Request) {
	id := json.RawMessage("null")
	body, err := io.ReadAll(io.LimitReader(r.Body, 64<<20))
	if err != nil {
		return
	}
	var env struct {
		ID     json.RawMessage `json:"id"`
		Params json.RawMessage `json:"params"`
	}
	if err := json.Unmarshal(body, &env); err != nil {
		s.rpcError(w, id, werkzeugErr(400, "Invalid JSON data: "+err.Error()))
		return
	}
	if len(env.ID) > 0 {
		id = env.ID
	}
	s.mu.Lock()
	expired := s.expire
	s.expire = false
	s.mu.Unlock()
	if expired {
		s.rpcError(w, id, sessionExpired())
		return
	}
	var params map[string]any
	if len(env.Params) > 0 {
		v, err := decodeJSON(env.Params)
		if err != nil {
			s.rpcError(w, id, werkzeugErr(400, "Invalid JSON data: "+err.Error()))
			return
		}
		params, _ = v.(map[string]any)
	}
	service, _ := params["service"].(string)
	method, _ := params["method"].(string)
	args, _ := params["args"].([]any)
	res, e, fail := s.dispatchRPC(service, method, args)
	if fail {
		w.WriteHeader(http.StatusBadGateway)
		return
	}
	if e != nil {
		s.rpcError(w, id, e)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"jsonrpc": "2.0", "id": id, "result": res})
}

func sessionExpired() *Error {
	return newErr("odoo.http.SessionExpiredException", "Session expired")
}

func (s *Server) rpcError(w http.ResponseWriter, id json.RawMessage, e *Error) {
	code, msg := 200, "Odoo Server Error"
	switch {
	case e.Name == "odoo.http.SessionExpiredException":
		code, msg = 100, "Odoo Session Expired"
	case e.Name == "werkzeug.exceptions.NotFound":
		code, msg = 404, "404: Not Found"
	}
	writeJSON(w, http.StatusOK, map[string]any{
		"jsonrpc": "2.0", "id": id,
		"error": map[string]any{"code": code, "message": msg, "data": e.body()},
	})
}

// positional checks a Python function's positional arity.
func positional(fn string, names []string, given int) *Error {
	if given > len(names) {
		return typeErr(fmt.Sprintf("%s() takes %d positional arguments but %d were given", fn, len(names), given))
	}
	if missing := names[given:]; len(missing) > 0 {
		q := make([]string, len(missing))
		for i, n := range missing {
			q[i] = "'" + n + "'"
		}
		list := strings.Join(q, ", ")
		if len(q) > 1 {
			list = strings.Join(q[:len(q)-1], ", ") + " and " + q[len(q)-1]
		}
		plural := "argument"
		if len(q) > 1 {
			plural = "arguments"
		}
		return typeErr(fmt.Sprintf("%s() missing %d required positional %s: %s", fn, len(q), plural, list))
	}
	return nil
}

func (s *Server) dispatchRPC(service, method string, args []any) (any, *Error, bool) {
	switch service {
	case "common":
		switch method {
		case "version":
			return map[string]any{
				"server_version":      s.opts.Version,
				"server_version_info": versionInfo(s.opts.Version),
				"server_serie":        s.opts.Version,
				"protocol_version":    1,
			}, nil, false
		case "login":
			if e := positional("exp_login", []string{"db", "login", "password"}, len(args)); e != nil {
				return nil, e, false
			}
			r, e := s.authenticate(args[0], args[1], args[2])
			return r, e, false
		case "authenticate":
			if e := positional("exp_authenticate", []string{"db", "login", "password", "user_agent_env"}, len(args)); e != nil {
				return nil, e, false
			}
			r, e := s.authenticate(args[0], args[1], args[2])
			return r, e, false
		}
		return nil, newErr("builtins.Exception", "Method not found: "+method), false
	case "object":
		if method != "execute_kw" && method != "execute" {
			return nil, newErr("builtins.NameError", fmt.Sprintf("Method not available %s", method)), false
		}
		return s.executeKw(method, args)
	}
	return nil, newErr("builtins.KeyError", pyRepr(service)), false
}

func (s *Server) checkDB(db any) *Error {
	if name, ok := db.(string); !ok || name != s.opts.Database {
		return newErr("psycopg2.OperationalError", fmt.Sprintf("FATAL:  database \"%v\" does not exist\n", db))
	}
	return nil
}

func (s *Server) authenticate(db, login, password any) (any, *Error) {
	if e := s.checkDB(db); e != nil {
		return nil, e
	}
	if l, ok := login.(string); !ok || l != s.opts.Login {
		return false, nil
	}
	if p, ok := password.(string); !ok || p != s.opts.APIKey {
		return false, nil
	}
	return s.opts.UID, nil
}

func (s *Server) executeKw(service string, args []any) (any, *Error, bool) {
	if len(args) < 3 {
		return nil, newErr("builtins.IndexError", "list index out of range"), false
	}
	if e := s.checkDB(args[0]); e != nil {
		return nil, e, false
	}
	uid, ok := args[1].(int)
	if pw, isStr := args[2].(string); !ok || uid != s.opts.UID || !isStr || pw != s.opts.APIKey {
		return nil, &Error{Name: "odoo.exceptions.AccessDenied", Message: "Access Denied", Status: 403}, false
	}
	rest := args[3:]
	var model, method any
	var margs []any
	var kwargs map[string]any
	if service == "execute_kw" {
		if len(rest) < 3 {
			return nil, positional("execute_kw", []string{"obj", "method", "args"}, len(rest)), false
		}
		if len(rest) > 4 {
			return nil, typeErr(fmt.Sprintf("execute_kw() takes from 5 to 6 positional arguments but %d were given", 2+len(rest))), false
		}
		model, method = rest[0], rest[1]
		var ok bool
		if margs, ok = rest[2].([]any); !ok {
			return nil, typeErr(fmt.Sprintf("odoo.api.call_kw() argument after * must be an iterable, not %s", pyType(rest[2]))), false
		}
		if len(rest) == 4 && rest[3] != nil && rest[3] != false {
			if kwargs, ok = rest[3].(map[string]any); !ok {
				return nil, typeErr(fmt.Sprintf("odoo.api.call_kw() argument after ** must be a mapping, not %s", pyType(rest[3]))), false
			}
		}
	} else {
		if len(rest) < 2 {
			return nil, positional("execute", []string{"obj", "method"}, len(rest)), false
		}
		model, method, margs = rest[0], rest[1], rest[2:]
	}
	modelName, _ := model.(string)
	methodName, _ := method.(string)
	s.mu.Lock()
	defer s.mu.Unlock()
	s.countCall(modelName, methodName)
	if strings.HasPrefix(methodName, "_") {
		return nil, newErr("odoo.exceptions.AccessError", fmt.Sprintf("Private methods (such as %s) cannot be called remotely.", methodName)), false
	}
	md := models[modelName]
	if md == nil {
		return nil, newErr("odoo.exceptions.UserError", fmt.Sprintf("Object %s doesn't exist", modelName)), false
	}
	spec, ok := md.methods[methodName]
	if !ok || spec.since > s.major {
		return nil, newErr("builtins.AttributeError", fmt.Sprintf("The method '%s' does not exist on the model '%s'", methodName, modelName)), false
	}
	c := &call{model: md, method: methodName, rpc: true}
	if spec.record {
		if len(margs) == 0 {
			return nil, newErr("builtins.IndexError", "list index out of range"), false
		}
		ids, e := toIDs(margs[0])
		if e != nil {
			return nil, e, false
		}
		c.ids = ids
		margs = margs[1:]
	}
	if methodName == "create" && len(margs) > 0 {
		_, c.single = margs[0].(map[string]any)
	}
	bound, e := bindRPC(spec, methodName, margs, kwargs)
	if e != nil {
		return nil, e, false
	}
	c.args = bound
	return s.run(c)
}

func bindRPC(spec methodSpec, name string, args []any, kwargs map[string]any) (map[string]any, *Error) {
	if len(args) > len(spec.params) {
		return nil, typeErr(fmt.Sprintf("%s() takes from %d to %d positional arguments but %d were given",
			name, 1+spec.required(), 1+len(spec.params), 1+len(args)))
	}
	bound := map[string]any{}
	for i, a := range args {
		bound[spec.params[i].name] = a
	}
	for _, k := range sortedKeys(kwargs) {
		if k == "context" {
			continue
		}
		if _, dup := bound[k]; dup {
			return nil, typeErr(fmt.Sprintf("%s() got multiple values for argument '%s'", name, k))
		}
		if !spec.accepts(k) {
			return nil, typeErr(fmt.Sprintf("%s() got an unexpected keyword argument '%s'", name, k))
		}
		bound[k] = kwargs[k]
	}
	for _, p := range spec.params {
		if _, ok := bound[p.name]; p.required && !ok {
			return nil, typeErr(fmt.Sprintf("%s() missing 1 required positional argument: '%s'", name, p.name))
		}
	}
	return bound, nil
}

// ---------------------------------------------------------------- JSON-2

var bearerRe = regexp.MustCompile(`(?i)^bearer\s+(.+)$`)

func (s *Server) json2Error(w http.ResponseWriter, e *Error) {
	if e.Name == "werkzeug.exceptions.Unauthorized" {
		w.Header().Set("WWW-Authenticate", "Bearer")
	}
	writeJSON(w, e.Status, e.body())
}

func (s *Server) serveJSON2(w http.ResponseWriter, r *http.Request) {
	parts := strings.Split(strings.TrimPrefix(r.URL.Path, "/json/2/"), "/")
	if r.Method != http.MethodPost || len(parts) != 2 || parts[0] == "" || parts[1] == "" {
		s.json2Error(w, werkzeugErr(404, "Did you mean POST /json/2/<model>/<method>?"))
		return
	}
	modelName, methodName := parts[0], parts[1]
	if mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); mt != "application/json" {
		s.json2Error(w, werkzeugErr(400, fmt.Sprintf("Request inferred type is compatible with ['http'] but '/json/2/rpc' was expected (content-type: %q)", mt)))
		return
	}
	if db := r.Header.Get("X-Odoo-Database"); db != "" && db != s.opts.Database {
		s.json2Error(w, werkzeugErr(404, "The requested URL was not found on the server. If you entered the URL manually please check your spelling and try again."))
		return
	}
	s.mu.Lock()
	expired := s.expire
	s.expire = false
	s.mu.Unlock()
	if expired {
		s.json2Error(w, sessionExpired())
		return
	}
	m := bearerRe.FindStringSubmatch(r.Header.Get("Authorization"))
	if m == nil || m[1] != s.opts.APIKey {
		s.json2Error(w, werkzeugErr(401, "Invalid apikey"))
		return
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, 64<<20))
	if err != nil {
		return
	}
	params := map[string]any{}
	if len(body) > 0 {
		v, err := decodeJSON(body)
		if err != nil {
			s.json2Error(w, werkzeugErr(400, "could not parse the body as json: "+err.Error()))
			return
		}
		var ok bool
		if params, ok = v.(map[string]any); !ok {
			s.json2Error(w, werkzeugErr(400, "could not parse the body, expecting a json object"))
			return
		}
	}
	res, e, fail := s.json2Call(modelName, methodName, params)
	switch {
	case fail:
		w.WriteHeader(http.StatusBadGateway)
	case e != nil:
		s.json2Error(w, e)
	default:
		writeJSON(w, http.StatusOK, res)
	}
}

func (s *Server) json2Call(modelName, methodName string, params map[string]any) (any, *Error, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.countCall(modelName, methodName)
	md := models[modelName]
	if md == nil {
		return nil, werkzeugErr(404, fmt.Sprintf("the model %s does not exist", pyRepr(modelName))), false
	}
	if strings.HasPrefix(methodName, "_") {
		return nil, newErr("odoo.exceptions.AccessError", fmt.Sprintf("Private methods (such as %s.%s) cannot be called remotely.", modelName, methodName)), false
	}
	spec, ok := md.methods[methodName]
	if !ok || spec.since > s.major {
		return nil, werkzeugErr(404, fmt.Sprintf("The method '%s' does not exist on the model '%s'", methodName, modelName)), false
	}
	c := &call{model: md, method: methodName}
	if raw, ok := params["ids"]; ok {
		ids, e := toIDs(raw)
		if e != nil {
			return nil, e, false
		}
		c.ids = ids
	}
	if !spec.record && len(c.ids) > 0 {
		return nil, werkzeugErr(422, fmt.Sprintf("cannot call %s.%s with ids", modelName, methodName)), false
	}
	bound := map[string]any{}
	for _, k := range sortedKeys(params) {
		if k == "ids" || k == "context" {
			continue
		}
		if !spec.accepts(k) {
			return nil, werkzeugErr(422, fmt.Sprintf("got an unexpected keyword argument '%s'", k)), false
		}
		bound[k] = params[k]
	}
	for _, p := range spec.params {
		if _, ok := bound[p.name]; p.required && !ok {
			return nil, werkzeugErr(422, fmt.Sprintf("missing a required argument: '%s'", p.name)), false
		}
	}
	c.args = bound
	return s.run(c)
}

func toIDs(v any) ([]int, *Error) {
	switch x := v.(type) {
	case nil, bool:
		if x == true {
			return []int{1}, nil
		}
		return nil, nil
	case int:
		return []int{x}, nil
	case []any:
		ids := make([]int, 0, len(x))
		for _, it := range x {
			i, ok := it.(int)
			if !ok {
				return nil, typeErr(fmt.Sprintf("'%s' object cannot be interpreted as an integer", pyType(it)))
			}
			ids = append(ids, i)
		}
		return ids, nil
	}
	return nil, typeErr(fmt.Sprintf("'%s' object cannot be interpreted as an integer", pyType(v)))
}
