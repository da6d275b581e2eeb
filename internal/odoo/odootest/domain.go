package odootest

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"
)

const odooLayout = "2006-01-02 15:04:05"

// pyDatetime is the regular expression Python's strptime builds for
// '%Y-%m-%d %H:%M:%S' (matched at the start, like re.match).
var pyDatetime = regexp.MustCompile(`^(\d\d\d\d)-(1[0-2]|0[1-9]|[1-9])-(3[01]|[12]\d|0[1-9]|[1-9]| [1-9])\s+(2[0-3]|[0-1]\d|\d):([0-5]\d|\d):(6[0-1]|[0-5]\d|\d)`)

// toDatetime is fields.Datetime.to_datetime for a value sent over the API:
// false/null is NULL, a string keeps its first 19 characters, a bare date
// means midnight, and what remains must parse as '%Y-%m-%d %H:%M:%S'.
func (s *Server) toDatetime(v any) (time.Time, *Error) {
	switch x := v.(type) {
	case nil:
		return time.Time{}, nil
	case bool:
		if !x {
			return time.Time{}, nil
		}
		return time.Time{}, typeErr("'bool' object is not subscriptable")
	case string:
		if x == "" {
			return time.Time{}, nil
		}
		if s.opts.StrictDatetimes {
			t, err := time.Parse(odooLayout, x)
			if err != nil || t.Format(odooLayout) != x {
				return time.Time{}, valueErr(fmt.Sprintf("time data %s does not match format '%%Y-%%m-%%d %%H:%%M:%%S'", pyRepr(x)))
			}
			return t, nil
		}
		return parsePyDatetime(x)
	case int, float64:
		return time.Time{}, typeErr(fmt.Sprintf("'%s' object is not subscriptable", pyType(v)))
	}
	return time.Time{}, typeErr(fmt.Sprintf("strptime() argument 1 must be str, not %s", pyType(v)))
}

func parsePyDatetime(x string) (time.Time, *Error) {
	r := []rune(x)
	if len(r) > 19 {
		r = r[:19]
	}
	if len(r) == 10 {
		r = append(r, []rune(" 00:00:00")...)
	}
	v := string(r)
	m := pyDatetime.FindStringSubmatch(v)
	if m == nil {
		return time.Time{}, valueErr(fmt.Sprintf("time data %s does not match format '%%Y-%%m-%%d %%H:%%M:%%S'", pyRepr(v)))
	}
	if len(m[0]) != len(v) {
		return time.Time{}, valueErr("unconverted data remains: " + v[len(m[0]):])
	}
	n := make([]int, 6)
	for i := range n {
		n[i], _ = strconv.Atoi(strings.TrimSpace(m[i+1]))
	}
	if n[0] < 1 {
		return time.Time{}, valueErr(fmt.Sprintf("year %d is out of range", n[0]))
	}
	if n[2] > time.Date(n[0], time.Month(n[1])+1, 0, 0, 0, 0, 0, time.UTC).Day() {
		return time.Time{}, valueErr("day is out of range for month")
	}
	if n[5] > 59 {
		return time.Time{}, valueErr("second must be in 0..59")
	}
	return time.Date(n[0], time.Month(n[1]), n[2], n[3], n[4], n[5], 0, time.UTC), nil
}

// pyType is Python's type name for a decoded JSON value.
func pyType(v any) string {
	switch v.(type) {
	case nil:
		return "NoneType"
	case bool:
		return "bool"
	case int:
		return "int"
	case float64:
		return "float"
	case string:
		return "str"
	case []any:
		return "list"
	case map[string]any:
		return "dict"
	}
	return fmt.Sprintf("%T", v)
}

// pyRepr is Python's repr() of a decoded JSON value.
func pyRepr(v any) string {
	switch x := v.(type) {
	case nil:
		return "None"
	case bool:
		if x {
			return "True"
		}
		return "False"
	case int:
		return strconv.Itoa(x)
	case float64:
		f := strconv.FormatFloat(x, 'g', -1, 64)
		if !strings.ContainsAny(f, ".eEnN") {
			f += ".0"
		}
		return f
	case string:
		q := "'"
		if strings.Contains(x, "'") && !strings.Contains(x, `"`) {
			q = `"`
		}
		var b strings.Builder
		b.WriteString(q)
		for _, r := range x {
			switch {
			case r == '\\':
				b.WriteString(`\\`)
			case string(r) == q:
				b.WriteString(`\` + q)
			case r == '\n':
				b.WriteString(`\n`)
			case r == '\r':
				b.WriteString(`\r`)
			case r == '\t':
				b.WriteString(`\t`)
			case r < 0x20 || r == 0x7f:
				fmt.Fprintf(&b, `\x%02x`, r)
			default:
				b.WriteRune(r)
			}
		}
		b.WriteString(q)
		return b.String()
	case []any:
		parts := make([]string, len(x))
		for i, it := range x {
			parts[i] = pyRepr(it)
		}
		return "[" + strings.Join(parts, ", ") + "]"
	case map[string]any:
		keys := sortedKeys(x)
		parts := make([]string, len(keys))
		for i, k := range keys {
			parts[i] = pyRepr(k) + ": " + pyRepr(x[k])
		}
		return "{" + strings.Join(parts, ", ") + "}"
	}
	return fmt.Sprint(v)
}

// ---------------------------------------------------------------- domains

type matcher func(id int) bool

// parseDomain compiles an Odoo domain in prefix notation ("&", "|", "!"
// operators, implicit AND between terms) into a record predicate.
func (s *Server) parseDomain(md *modelDef, d any) (matcher, *Error) {
	if d == nil || d == false {
		return func(int) bool { return true }, nil
	}
	items, ok := d.([]any)
	if !ok {
		return nil, valueErr(fmt.Sprintf("Invalid domain: %s", pyRepr(d)))
	}
	var stack []matcher
	pop := func() matcher { m := stack[len(stack)-1]; stack = stack[:len(stack)-1]; return m }
	for i := len(items) - 1; i >= 0; i-- {
		switch it := items[i].(type) {
		case string:
			need := 2
			if it == "!" {
				need = 1
			} else if it != "&" && it != "|" {
				return nil, valueErr(fmt.Sprintf("Invalid domain term %s", pyRepr(it)))
			}
			if len(stack) < need {
				return nil, valueErr(fmt.Sprintf("Invalid domain: %s", pyRepr(d)))
			}
			switch it {
			case "!":
				a := pop()
				stack = append(stack, func(id int) bool { return !a(id) })
			case "&":
				a, b := pop(), pop()
				stack = append(stack, func(id int) bool { return a(id) && b(id) })
			case "|":
				a, b := pop(), pop()
				stack = append(stack, func(id int) bool { return a(id) || b(id) })
			}
		case []any:
			m, e := s.parseLeaf(md, it)
			if e != nil {
				return nil, e
			}
			stack = append(stack, m)
		default:
			return nil, valueErr(fmt.Sprintf("Invalid domain term %s", pyRepr(it)))
		}
	}
	return func(id int) bool {
		for _, m := range stack {
			if !m(id) {
				return false
			}
		}
		return true
	}, nil
}

func (s *Server) parseLeaf(md *modelDef, leaf []any) (matcher, *Error) {
	bad := func() *Error { return valueErr(fmt.Sprintf("Invalid leaf %s", pyRepr(leaf))) }
	if len(leaf) != 3 {
		return nil, bad()
	}
	op, ok := leaf[1].(string)
	if !ok {
		return nil, bad()
	}
	op = strings.ToLower(op)
	if c, isInt := leaf[0].(int); isInt && (c == 0 || c == 1) && op == "=" && leaf[2] == 1 {
		return func(int) bool { return c == 1 }, nil // TRUE_LEAF / FALSE_LEAF
	}
	name, _ := leaf[0].(string)
	fd, known := md.field(name)
	if !known {
		return nil, valueErr(fmt.Sprintf("Invalid field %s.%s in leaf %s", md.name, fmt.Sprint(leaf[0]), pyRepr(leaf)))
	}
	val := leaf[2]
	switch op {
	case "=", "!=", "<", "<=", ">", ">=", "in", "not in", "like", "ilike", "not like", "not ilike":
	default:
		return nil, bad()
	}
	conv := func(v any) (any, *Error) {
		if v == false {
			return nil, nil
		}
		if str, isStr := v.(string); isStr && fd.kind == kindDT {
			r := []rune(str)
			if len(r) == 10 {
				if op == ">" || op == "<=" {
					str += " 23:59:59"
				} else {
					str += " 00:00:00"
				}
			}
			t, err := time.Parse(odooLayout, str)
			if err != nil {
				if t, err = time.Parse(time.RFC3339, str); err != nil {
					return nil, newErr("psycopg2.errors.InvalidDatetimeFormat", fmt.Sprintf("invalid input syntax for type timestamp: %q", str))
				}
			}
			return t.UTC(), nil
		}
		return v, nil
	}
	var list []any
	if op == "in" || op == "not in" {
		raw, isList := val.([]any)
		if !isList {
			raw = []any{val}
		}
		for _, v := range raw {
			c, e := conv(v)
			if e != nil {
				return nil, e
			}
			list = append(list, c)
		}
	} else {
		var e *Error
		if val, e = conv(val); e != nil {
			return nil, e
		}
	}
	get := func(id int, v any) any {
		fv := s.get(md, id, name)
		if _, isStr := v.(string); isStr && fd.kind == kindM2O && fv != nil {
			return s.empName(fv.(int)) // a name compared to a many2one: name_search
		}
		return fv
	}
	switch op {
	case "in", "not in":
		hasNull := false
		for _, v := range list {
			if v == nil {
				hasNull = true
			}
		}
		return func(id int) bool {
			in := false
			for _, v := range list {
				fv := get(id, v)
				if fv == nil && v == nil || fv != nil && v != nil && equal(fv, v) {
					in = true
					break
				}
			}
			if op == "not in" {
				return !in && (s.get(md, id, name) != nil || !hasNull)
			}
			return in
		}, nil
	case "like", "ilike", "not like", "not ilike":
		pat := fmt.Sprint(val)
		return func(id int) bool {
			fv := get(id, val)
			str, isStr := fv.(string)
			if fv == nil || !isStr {
				return strings.HasPrefix(op, "not")
			}
			hit := strings.Contains(str, pat)
			if strings.HasSuffix(op, "ilike") {
				hit = strings.Contains(strings.ToLower(str), strings.ToLower(pat))
			}
			return hit != strings.HasPrefix(op, "not")
		}, nil
	}
	return func(id int) bool {
		fv := get(id, val)
		switch op {
		case "=":
			if val == nil {
				return fv == nil
			}
			return fv != nil && equal(fv, val)
		case "!=":
			if val == nil {
				return fv != nil
			}
			return fv == nil || !equal(fv, val)
		}
		if fv == nil || val == nil {
			return false
		}
		c, ok := compare(fv, val)
		if !ok {
			return false
		}
		switch op {
		case "<":
			return c < 0
		case "<=":
			return c <= 0
		case ">":
			return c > 0
		}
		return c >= 0
	}, nil
}

func equal(a, b any) bool {
	c, ok := compare(a, b)
	return ok && c == 0
}

func compare(a, b any) (int, bool) {
	switch x := a.(type) {
	case int:
		switch y := b.(type) {
		case int:
			return cmpOrdered(x, y), true
		case float64:
			return cmpOrdered(float64(x), y), true
		}
	case string:
		if y, ok := b.(string); ok {
			return strings.Compare(x, y), true
		}
	case time.Time:
		if y, ok := b.(time.Time); ok {
			return x.Compare(y), true
		}
	}
	return 0, false
}

func cmpOrdered[T int | float64](a, b T) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// ---------------------------------------------------------------- order

type orderKey struct {
	field string
	desc  bool
}

func parseOrder(md *modelDef, order string) ([]orderKey, *Error) {
	if strings.TrimSpace(order) == "" {
		order = md.order
	}
	var keys []orderKey
	for _, part := range strings.Split(order, ",") {
		words := strings.Fields(part)
		if len(words) == 0 || len(words) > 2 {
			return nil, valueErr(fmt.Sprintf("Invalid order %s for model %s", pyRepr(order), pyRepr(md.name)))
		}
		if _, ok := md.field(words[0]); !ok {
			return nil, valueErr(fmt.Sprintf("Invalid field %s on model %s", pyRepr(words[0]), pyRepr(md.name)))
		}
		k := orderKey{field: words[0]}
		if len(words) == 2 {
			switch strings.ToLower(words[1]) {
			case "asc":
			case "desc":
				k.desc = true
			default:
				return nil, valueErr(fmt.Sprintf("Invalid direction %s for field %s", pyRepr(words[1]), pyRepr(words[0])))
			}
		}
		keys = append(keys, k)
	}
	return append(keys, orderKey{field: "id"}), nil
}

// less orders like PostgreSQL: NULLs sort as the largest value; a
// many2one sorts by the target's name.
func (s *Server) less(md *modelDef, keys []orderKey, a, b int) bool {
	for _, k := range keys {
		va, vb := s.get(md, a, k.field), s.get(md, b, k.field)
		if fd, _ := md.field(k.field); fd.kind == kindM2O {
			if va != nil {
				va = fmt.Sprint(s.empName(va.(int)))
			}
			if vb != nil {
				vb = fmt.Sprint(s.empName(vb.(int)))
			}
		}
		var c int
		switch {
		case va == nil && vb == nil:
			c = 0
		case va == nil:
			c = 1
		case vb == nil:
			c = -1
		default:
			c, _ = compare(va, vb)
		}
		if k.desc {
			c = -c
		}
		if c != 0 {
			return c < 0
		}
	}
	return false
}
