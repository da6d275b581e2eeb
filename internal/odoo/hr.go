package odoo

import (
	"context"
	"encoding/json"
	"fmt"
	"time"
)

// TimeLayout is how Odoo reads and writes datetimes: naive UTC, no "T",
// no zone (Odoo refuses ISO 8601 forms).
const TimeLayout = "2006-01-02 15:04:05"

// FormatTime writes t for Odoo (in UTC, to the second).
func FormatTime(t time.Time) string { return t.UTC().Format(TimeLayout) }

// ParseTime reads an Odoo datetime (naive UTC).
func ParseTime(s string) (time.Time, error) { return time.ParseInLocation(TimeLayout, s, time.UTC) }

// Employee is an hr.employee as matched by the sync.
type Employee struct {
	ID   int
	Name string
	// Key is the value of the matching field that found it.
	Key string
}

// Employees finds the employees whose field (barcode, identification_id,
// work_email or id) is one of values, by that value. Values that find
// none are missing from the answer.
func (c *Client) Employees(ctx context.Context, field string, values []string) (map[string]Employee, error) {
	out := map[string]Employee{}
	if len(values) == 0 {
		return out, nil
	}
	var in []any
	for _, v := range values {
		if field == "id" {
			var id int
			if _, err := fmt.Sscan(v, &id); err != nil || id <= 0 {
				continue
			}
			in = append(in, id)
		} else {
			in = append(in, v)
		}
	}
	if len(in) == 0 {
		return out, nil
	}
	fields := []string{"id", "name"}
	if field != "id" {
		fields = append(fields, field)
	}
	var rows []map[string]json.RawMessage
	if err := c.SearchRead(ctx, "hr.employee", []any{[]any{field, "in", in}}, fields, 0, "", &rows); err != nil {
		return nil, err
	}
	for _, r := range rows {
		var e Employee
		_ = json.Unmarshal(r["id"], &e.ID)
		_ = json.Unmarshal(r["name"], &e.Name)
		if field == "id" {
			e.Key = fmt.Sprint(e.ID)
		} else if json.Unmarshal(r[field], &e.Key) != nil {
			continue // false: unset
		}
		out[e.Key] = e
	}
	return out, nil
}

// Attendance is an hr.attendance interval; CheckOut is zero while open.
type Attendance struct {
	ID         int
	EmployeeID int
	CheckIn    time.Time
	CheckOut   time.Time
}

// Open reports whether the attendance has no check-out yet.
func (a Attendance) Open() bool { return a.CheckOut.IsZero() }

// Attendances reads the attendances of employees matching domain terms
// (appended to employee_id in employees), oldest first.
func (c *Client) Attendances(ctx context.Context, employees []int, terms ...[]any) ([]Attendance, error) {
	if len(employees) == 0 {
		return nil, nil
	}
	ids := make([]any, len(employees))
	for i, e := range employees {
		ids[i] = e
	}
	domain := []any{[]any{"employee_id", "in", ids}}
	for _, t := range terms {
		domain = append(domain, t)
	}
	var rows []struct {
		ID         int               `json:"id"`
		EmployeeID []json.RawMessage `json:"employee_id"`
		CheckIn    json.RawMessage   `json:"check_in"`
		CheckOut   json.RawMessage   `json:"check_out"`
	}
	if err := c.SearchRead(ctx, "hr.attendance", domain, []string{"id", "employee_id", "check_in", "check_out"}, 0, "check_in asc", &rows); err != nil {
		return nil, err
	}
	out := make([]Attendance, 0, len(rows))
	for _, r := range rows {
		a := Attendance{ID: r.ID}
		if len(r.EmployeeID) > 0 {
			_ = json.Unmarshal(r.EmployeeID[0], &a.EmployeeID)
		}
		a.CheckIn, _ = odooTime(r.CheckIn)
		a.CheckOut, _ = odooTime(r.CheckOut)
		out = append(out, a)
	}
	return out, nil
}

// odooTime reads a datetime field (false: zero).
func odooTime(raw json.RawMessage) (time.Time, error) {
	var s string
	if json.Unmarshal(raw, &s) != nil || s == "" {
		return time.Time{}, nil
	}
	return ParseTime(s)
}

// SearchRead runs search_read on model; rows are decoded into out.
func (c *Client) SearchRead(ctx context.Context, model string, domain []any, fields []string, limit int, order string, out any) error {
	kw := map[string]any{"fields": fields}
	if limit > 0 {
		kw["limit"] = limit
	}
	if order != "" {
		kw["order"] = order
	}
	return c.Execute(ctx, model, "search_read", []string{"domain"}, []any{domain}, kw, out)
}

// NewAttendance is an interval to create; a zero CheckOut leaves it open.
type NewAttendance struct {
	EmployeeID int
	CheckIn    time.Time
	CheckOut   time.Time
}

// CreateAttendances creates intervals in one call (one transaction: if
// Odoo refuses one, none is created) and returns their ids, in order.
func (c *Client) CreateAttendances(ctx context.Context, list []NewAttendance) ([]int, error) {
	vals := make([]any, len(list))
	for i, a := range list {
		v := map[string]any{"employee_id": a.EmployeeID, "check_in": FormatTime(a.CheckIn)}
		if !a.CheckOut.IsZero() {
			v["check_out"] = FormatTime(a.CheckOut)
		}
		vals[i] = v
	}
	var ids []int
	if err := c.Execute(ctx, "hr.attendance", "create", []string{"vals_list"}, []any{vals}, nil, &ids); err != nil {
		return nil, err
	}
	if len(ids) != len(list) {
		return nil, &Error{Kind: KindBusiness, Op: "hr.attendance.create", Message: fmt.Sprintf("Odoo created %d attendances for %d asked", len(ids), len(list))}
	}
	return ids, nil
}

// CloseAttendance sets an open interval's check-out.
func (c *Client) CloseAttendance(ctx context.Context, id int, checkOut time.Time) error {
	var ok bool
	return c.Execute(ctx, "hr.attendance", "write", []string{"ids", "vals"},
		[]any{[]any{id}, map[string]any{"check_out": FormatTime(checkOut)}}, nil, &ok)
}

// HasAccess reports whether the user may do operation (read, create,
// write) on model: has_access from Odoo 18, check_access_rights before.
func (c *Client) HasAccess(ctx context.Context, model, operation string) (bool, error) {
	v, err := c.ServerVersion(ctx)
	if err != nil {
		return false, err
	}
	var ok bool
	if v.Major >= 18 {
		// A record method since 18: called on no records.
		err = c.Execute(ctx, model, "has_access", []string{"ids", "operation"}, []any{[]any{}, operation}, nil, &ok)
	} else {
		err = c.Execute(ctx, model, "check_access_rights", []string{"operation"}, []any{operation}, map[string]any{"raise_exception": false}, &ok)
	}
	return ok, err
}
