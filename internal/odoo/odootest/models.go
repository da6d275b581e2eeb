package odootest

import (
	"fmt"
	"sort"
	"strings"
	"time"
)

const (
	kindInt  = "integer"
	kindChar = "char"
	kindM2O  = "many2one"
	kindDT   = "datetime"
)

type fieldDef struct{ name, kind, label string }

type param struct {
	name     string
	required bool
}

type methodSpec struct {
	record bool     // takes ids (browse) before its parameters
	params []param  // in positional order
	extra  []string // further keyword arguments accepted
	since  int      // first Odoo major version with the method
}

func (m methodSpec) required() int {
	n := 0
	for _, p := range m.params {
		if p.required {
			n++
		}
	}
	return n
}

func (m methodSpec) accepts(k string) bool {
	for _, p := range m.params {
		if p.name == k {
			return true
		}
	}
	for _, e := range m.extra {
		if e == k {
			return true
		}
	}
	return false
}

type modelDef struct {
	name, label, order string
	fields             []fieldDef
	methods            map[string]methodSpec
}

func (md *modelDef) field(name string) (fieldDef, bool) {
	for _, f := range md.fields {
		if f.name == name {
			return f, true
		}
	}
	return fieldDef{}, false
}

var readMethods = map[string]methodSpec{
	"search_read":         {params: []param{{"domain", false}, {"fields", false}, {"offset", false}, {"limit", false}, {"order", false}}, extra: []string{"load"}},
	"search":              {params: []param{{"domain", true}, {"offset", false}, {"limit", false}, {"order", false}}},
	"search_count":        {params: []param{{"domain", true}, {"limit", false}}},
	"read":                {record: true, params: []param{{"fields", false}, {"load", false}}},
	"check_access_rights": {params: []param{{"operation", true}, {"raise_exception", false}}},
	"has_access":          {record: true, params: []param{{"operation", true}}, since: 18},
}

func withWrites(m map[string]methodSpec) map[string]methodSpec {
	out := map[string]methodSpec{
		"create": {params: []param{{"vals_list", true}}},
		"write":  {record: true, params: []param{{"vals", true}}},
	}
	for k, v := range m {
		out[k] = v
	}
	return out
}

var models = map[string]*modelDef{
	"hr.employee": {
		name: "hr.employee", label: "Employee", order: "name",
		fields: []fieldDef{
			{"id", kindInt, "ID"}, {"name", kindChar, "Employee Name"}, {"barcode", kindChar, "Badge ID"},
			{"identification_id", kindChar, "Identification No"}, {"work_email", kindChar, "Work Email"},
		},
		methods: readMethods,
	},
	"hr.attendance": {
		name: "hr.attendance", label: "Attendance", order: "check_in desc",
		fields: []fieldDef{
			{"id", kindInt, "ID"}, {"employee_id", kindM2O, "Employee"},
			{"check_in", kindDT, "Check In"}, {"check_out", kindDT, "Check Out"},
		},
		methods: withWrites(readMethods),
	},
}

// call is one bound model method invocation.
type call struct {
	model  *modelDef
	method string
	ids    []int
	args   map[string]any
	rpc    bool // JSON-RPC (create answers an id for a single dict)
	single bool // JSON-RPC create called with a dict
}

var accessVerb = map[string]string{"read": "access", "write": "modify", "create": "create", "unlink": "delete"}

func (s *Server) accessErr(md *modelDef, op string) *Error {
	return newErr("odoo.exceptions.AccessError", fmt.Sprintf(
		"You are not allowed to %s '%s' (%s) records.\n\nNo group currently allows this operation.\n\nContact your administrator to request access if necessary.",
		accessVerb[op], md.label, md.name))
}

func (s *Server) checkAccess(md *modelDef, op string) *Error {
	if s.denied[[2]string{md.name, op}] {
		return s.accessErr(md, op)
	}
	return nil
}

// run executes c with s.mu held; the bool asks for a 502 after commit.
func (s *Server) run(c *call) (any, *Error, bool) {
	md, a := c.model, c.args
	switch c.method {
	case "check_access_rights":
		op, ok := a["operation"].(string)
		if _, known := accessVerb[op]; !ok || !known {
			return nil, valueErr(fmt.Sprintf("Invalid access mode: %s", pyRepr(a["operation"]))), false
		}
		raise := true
		if v, ok := a["raise_exception"]; ok {
			raise = truthy(v)
		}
		if e := s.checkAccess(md, op); e != nil {
			if raise {
				return nil, e, false
			}
			return false, nil, false
		}
		return true, nil, false
	case "has_access":
		op, ok := a["operation"].(string)
		if _, known := accessVerb[op]; !ok || !known {
			return nil, valueErr(fmt.Sprintf("Invalid access mode: %s", pyRepr(a["operation"]))), false
		}
		if s.checkAccess(md, op) != nil {
			return false, nil, false
		}
		if e := s.missing(md, c.ids); e != nil {
			return false, nil, false
		}
		return true, nil, false
	case "search", "search_count", "search_read":
		if e := s.checkAccess(md, "read"); e != nil {
			return nil, e, false
		}
		offset, limit, e := intArg(a, "offset"), intArg(a, "limit"), (*Error)(nil)
		if c.method == "search_count" {
			offset = 0
		}
		order, _ := a["order"].(string)
		var fields []string
		if c.method == "search_read" {
			if fields, e = s.fieldList(md, a["fields"]); e != nil {
				return nil, e, false
			}
		}
		ids, e := s.search(md, a["domain"], offset, limit, order)
		if e != nil {
			return nil, e, false
		}
		switch c.method {
		case "search":
			return ids, nil, false
		case "search_count":
			return len(ids), nil, false
		}
		return s.readIDs(md, ids, fields), nil, false
	case "read":
		if e := s.checkAccess(md, "read"); e != nil {
			return nil, e, false
		}
		fields, e := s.fieldList(md, a["fields"])
		if e != nil {
			return nil, e, false
		}
		if e := s.missing(md, c.ids); e != nil {
			return nil, e, false
		}
		return s.readIDs(md, c.ids, fields), nil, false
	case "create":
		if e := s.checkAccess(md, "create"); e != nil {
			return nil, e, false
		}
		var list []any
		switch v := a["vals_list"].(type) {
		case map[string]any:
			list = []any{v}
		case []any:
			list = v
		default:
			return nil, typeErr(fmt.Sprintf("'%s' object is not iterable", pyType(v))), false
		}
		recs := make([]newAtt, 0, len(list))
		for _, it := range list {
			vals, ok := it.(map[string]any)
			if !ok {
				return nil, newErr("builtins.AttributeError", fmt.Sprintf("'%s' object has no attribute 'items'", pyType(it))), false
			}
			r, e := s.convertVals(vals)
			if e != nil {
				return nil, e, false
			}
			recs = append(recs, newAtt{Attendance: r.Attendance, hasEmp: r.hasEmp, hasIn: r.hasIn})
		}
		ids, e := s.insertAttendances(recs)
		if e != nil {
			return nil, e, false
		}
		fail := s.takeFail()
		if c.rpc && c.single {
			return ids[0], nil, fail
		}
		return ids, nil, fail
	case "write":
		if e := s.checkAccess(md, "write"); e != nil {
			return nil, e, false
		}
		vals, ok := a["vals"].(map[string]any)
		if !ok {
			return nil, newErr("builtins.AttributeError", fmt.Sprintf("'%s' object has no attribute 'items'", pyType(a["vals"]))), false
		}
		if e := s.missing(md, c.ids); e != nil {
			return nil, e, false
		}
		if e := s.writeAttendances(c.ids, vals); e != nil {
			return nil, e, false
		}
		return true, nil, s.takeFail()
	}
	return nil, newErr("builtins.AttributeError", fmt.Sprintf("The method '%s' does not exist on the model '%s'", c.method, md.name)), false
}

func (s *Server) takeFail() bool {
	if s.failNext > 0 {
		s.failNext--
		return true
	}
	return false
}

func truthy(v any) bool {
	switch x := v.(type) {
	case nil:
		return false
	case bool:
		return x
	case int:
		return x != 0
	case float64:
		return x != 0
	case string:
		return x != ""
	case []any:
		return len(x) > 0
	case map[string]any:
		return len(x) > 0
	}
	return true
}

func intArg(a map[string]any, k string) int {
	if i, ok := a[k].(int); ok {
		return i
	}
	return 0
}

func (s *Server) count(md *modelDef) int {
	if md.name == "hr.employee" {
		return len(s.emps)
	}
	return len(s.atts)
}

// missing raises Odoo's MissingError when some ids do not exist.
func (s *Server) missing(md *modelDef, ids []int) *Error {
	var gone []string
	n := s.count(md)
	for _, id := range ids {
		if id < 1 || id > n {
			gone = append(gone, fmt.Sprint(id))
		}
	}
	if len(gone) == 0 {
		return nil
	}
	if len(gone) > 6 {
		gone = gone[:6]
	}
	rec := strings.Join(gone, ", ")
	if len(gone) == 1 {
		rec += ","
	}
	return newErr("odoo.exceptions.MissingError", fmt.Sprintf(
		"Record does not exist or has been deleted.\n(Record: %s(%s), User: %d)", md.name, rec, s.opts.UID))
}

func (s *Server) fieldList(md *modelDef, v any) ([]string, *Error) {
	var out []string
	switch x := v.(type) {
	case nil, bool:
	case []any:
		for _, f := range x {
			name, ok := f.(string)
			if _, known := md.field(name); !ok || !known {
				return nil, valueErr(fmt.Sprintf("Invalid field %s on model %s", pyRepr(f), pyRepr(md.name)))
			}
			out = append(out, name)
		}
	default:
		return nil, valueErr(fmt.Sprintf("Invalid field %s on model %s", pyRepr(v), pyRepr(md.name)))
	}
	if len(out) == 0 {
		for _, f := range md.fields {
			out = append(out, f.name)
		}
	}
	return out, nil
}

// get is the stored value of field on record id: int, string, time.Time or nil (NULL).
func (s *Server) get(md *modelDef, id int, field string) any {
	if field == "id" {
		return id
	}
	if md.name == "hr.employee" {
		e := s.emps[id-1]
		v := map[string]string{"name": e.Name, "barcode": e.Barcode, "identification_id": e.IdentificationID, "work_email": e.WorkEmail}[field]
		if v == "" {
			return nil
		}
		return v
	}
	a := s.atts[id-1]
	switch field {
	case "employee_id":
		if a.EmployeeID == 0 {
			return nil
		}
		return a.EmployeeID
	case "check_in":
		if a.CheckIn.IsZero() {
			return nil
		}
		return a.CheckIn
	case "check_out":
		if a.CheckOut.IsZero() {
			return nil
		}
		return a.CheckOut
	}
	return nil
}

func (s *Server) empName(id int) any {
	if id < 1 || id > len(s.emps) || s.emps[id-1].Name == "" {
		return false
	}
	return s.emps[id-1].Name
}

func (s *Server) readIDs(md *modelDef, ids []int, fields []string) []map[string]any {
	out := make([]map[string]any, 0, len(ids))
	for _, id := range ids {
		row := map[string]any{"id": id}
		for _, f := range fields {
			fd, _ := md.field(f)
			v := s.get(md, id, f)
			switch {
			case v == nil:
				row[f] = false
			case fd.kind == kindDT:
				row[f] = v.(time.Time).Format(odooLayout)
			case fd.kind == kindM2O:
				row[f] = []any{v, s.empName(v.(int))}
			default:
				row[f] = v
			}
		}
		out = append(out, row)
	}
	return out
}

// ---------------------------------------------------------------- writes

type newAtt struct {
	Attendance
	hasEmp, hasIn bool // the vals named the field
}

// convertVals is the ORM's conversion of vals, before any SQL runs.
func (s *Server) convertVals(vals map[string]any) (newAtt, *Error) {
	var r newAtt
	for _, k := range sortedKeys(vals) {
		v := vals[k]
		switch k {
		case "employee_id":
			r.hasEmp = true
			switch x := v.(type) {
			case nil:
			case bool:
				if x {
					return r, valueErr(fmt.Sprintf("Wrong value for hr.attendance.employee_id: %s", pyRepr(v)))
				}
			case int:
				r.EmployeeID = x
			default:
				return r, valueErr(fmt.Sprintf("Wrong value for hr.attendance.employee_id: %s", pyRepr(v)))
			}
		case "check_in", "check_out":
			t, e := s.toDatetime(v)
			if e != nil {
				return r, e
			}
			if k == "check_in" {
				r.hasIn, r.CheckIn = true, t
			} else {
				r.CheckOut = t
			}
		case "id":
		default:
			return r, valueErr(fmt.Sprintf("Invalid field %s on model 'hr.attendance'", pyRepr(k)))
		}
	}
	return r, nil
}

func notNull(field, label string) *Error {
	return validationErr(fmt.Sprintf("The operation cannot be completed:\n"+
		"- Create/update: a mandatory field is not set.\n"+
		"- Delete: another model requires the record being deleted. If possible, archive it instead.\n\n"+
		"Model: Attendance (hr.attendance)\nField: %s (%s)\n", label, field))
}

func fkViolation() *Error {
	return validationErr("The operation cannot be completed: another model requires the record being deleted. " +
		"If possible, archive it instead.\n\nModel: Attendance (hr.attendance)\nConstraint: hr_attendance_employee_id_fkey\n")
}

// sqlChecks are the table's NOT NULL and foreign key constraints, which
// Odoo's service layer turns into ValidationErrors.
func (s *Server) sqlChecks(a Attendance) *Error {
	switch {
	case a.EmployeeID == 0:
		return notNull("employee_id", "Employee")
	case a.CheckIn.IsZero():
		return notNull("check_in", "Check In")
	case a.EmployeeID < 1 || a.EmployeeID > len(s.emps):
		return fkViolation()
	}
	return nil
}

// tx is the attendance table with pending changes laid over it.
type tx struct {
	s       *Server
	pending map[int]Attendance
	added   []int
}

func (s *Server) begin() *tx { return &tx{s: s, pending: map[int]Attendance{}} }

func (t *tx) put(a Attendance) {
	if a.ID == 0 {
		a.ID = len(t.s.atts) + len(t.added) + 1
		t.added = append(t.added, a.ID)
	}
	t.pending[a.ID] = a
}

func (t *tx) get(id int) Attendance {
	if a, ok := t.pending[id]; ok {
		return a
	}
	return t.s.atts[id-1]
}

func (t *tx) commit() {
	for id, a := range t.pending {
		if id <= len(t.s.atts) {
			t.s.atts[id-1] = a
		}
	}
	for _, id := range t.added {
		t.s.atts = append(t.s.atts, t.pending[id])
	}
}

// others are the employee's attendances other than id, in the transaction's view.
func (t *tx) others(emp, id int) []Attendance {
	var out []Attendance
	n := len(t.s.atts) + len(t.added)
	for i := 1; i <= n; i++ {
		if i == id {
			continue
		}
		if a := t.get(i); a.EmployeeID == emp {
			out = append(out, a)
		}
	}
	return out
}

// latest is the attendance with the greatest check_in among those keep
// accepts (search order "check_in desc", limit 1), ties going to the highest id.
func latest(list []Attendance, keep func(Attendance) bool) *Attendance {
	var best *Attendance
	for i := range list {
		a := &list[i]
		if !keep(*a) {
			continue
		}
		if best == nil || a.CheckIn.After(best.CheckIn) || a.CheckIn.Equal(best.CheckIn) && a.ID > best.ID {
			best = a
		}
	}
	return best
}

const msgLayout = "01/02/2006 15:04:05"

// validate runs hr.attendance's Python constraints on ids, in the order Odoo
// runs them: _check_validity on every record, then
// _check_validity_check_in_check_out on every record.
func (t *tx) validate(ids []int) *Error {
	for _, id := range ids {
		a := t.get(id)
		name := fmt.Sprint(t.s.empName(a.EmployeeID))
		if name == "false" {
			name = "False"
		}
		others := t.others(a.EmployeeID, id)
		lastIn := latest(others, func(o Attendance) bool { return !o.CheckIn.After(a.CheckIn) })
		if lastIn != nil && !lastIn.CheckOut.IsZero() && lastIn.CheckOut.After(a.CheckIn) {
			return validationErr(fmt.Sprintf("Cannot create new attendance record for %s, the employee was already checked in on %s",
				name, a.CheckIn.Format(msgLayout)))
		}
		if a.CheckOut.IsZero() {
			open := latest(others, func(o Attendance) bool { return o.CheckOut.IsZero() })
			if open != nil {
				return validationErr(fmt.Sprintf("Cannot create new attendance record for %s, the employee hasn't checked out since %s",
					name, open.CheckIn.Format(msgLayout)))
			}
		} else {
			lastOut := latest(others, func(o Attendance) bool { return o.CheckIn.Before(a.CheckOut) })
			if lastOut != nil && (lastIn == nil || lastIn.ID != lastOut.ID) {
				return validationErr(fmt.Sprintf("Cannot create new attendance record for %s, the employee was already checked in on %s",
					name, lastOut.CheckIn.Format(msgLayout)))
			}
		}
	}
	for _, id := range ids {
		if a := t.get(id); !a.CheckOut.IsZero() && a.CheckOut.Before(a.CheckIn) {
			return validationErr(`"Check Out" time cannot be earlier than "Check In" time.`)
		}
	}
	return nil
}

// insertAttendances creates recs in one transaction: all or nothing.
func (s *Server) insertAttendances(recs []newAtt) ([]int, *Error) {
	t := s.begin()
	ids := make([]int, 0, len(recs))
	for _, r := range recs {
		a := r.Attendance
		a.ID = 0
		if !r.hasIn {
			a.CheckIn = s.now() // the field's default, fields.Datetime.now
		}
		if e := s.sqlChecks(a); e != nil {
			return nil, e
		}
		t.put(a)
		ids = append(ids, t.added[len(t.added)-1])
	}
	if e := t.validate(ids); e != nil {
		return nil, e
	}
	t.commit()
	return ids, nil
}

// writeAttendances applies vals to ids in one transaction.
func (s *Server) writeAttendances(ids []int, vals map[string]any) *Error {
	r, e := s.convertVals(vals)
	if e != nil {
		return e
	}
	_, setOut := vals["check_out"]
	t := s.begin()
	seen := map[int]bool{}
	var uniq []int
	for _, id := range ids {
		a := t.get(id)
		if r.hasEmp {
			a.EmployeeID = r.EmployeeID
		}
		if r.hasIn {
			a.CheckIn = r.CheckIn
		}
		if setOut {
			a.CheckOut = r.CheckOut
		}
		if e := s.sqlChecks(a); e != nil {
			return e
		}
		t.put(a)
		if !seen[id] {
			seen[id] = true
			uniq = append(uniq, id)
		}
	}
	if e := t.validate(uniq); e != nil {
		return e
	}
	t.commit()
	return nil
}

// search is _search: the ids matching domain, ordered, then offset and limit.
func (s *Server) search(md *modelDef, domain any, offset, limit int, order string) ([]int, *Error) {
	match, e := s.parseDomain(md, domain)
	if e != nil {
		return nil, e
	}
	keys, e := parseOrder(md, order)
	if e != nil {
		return nil, e
	}
	var ids []int
	for id := 1; id <= s.count(md); id++ {
		if match(id) {
			ids = append(ids, id)
		}
	}
	sort.SliceStable(ids, func(i, j int) bool { return s.less(md, keys, ids[i], ids[j]) })
	if offset > 0 {
		if offset >= len(ids) {
			return []int{}, nil
		}
		ids = ids[offset:]
	}
	if limit > 0 && limit < len(ids) {
		ids = ids[:limit]
	}
	if ids == nil {
		ids = []int{}
	}
	return ids, nil
}
