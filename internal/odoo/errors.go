package odoo

import (
	"errors"
	"fmt"
	"strings"
)

// Kind classifies an Odoo failure by what fixes it.
type Kind string

// Kinds of failure.
const (
	// KindAuth: Odoo refused the credentials (authenticate answered false,
	// the API key is invalid or expired, Access Denied). Retrying does not
	// help; an administrator must fix the configuration.
	KindAuth Kind = "auth"
	// KindBusiness: Odoo refused the operation for a reason a person must
	// look at: ValidationError (e.g. an overlapping attendance), UserError,
	// AccessError, MissingError, bad data.
	KindBusiness Kind = "business"
	// KindTransient: Odoo could not be reached or was busy: connection
	// errors, timeouts, 429, 5xx, an expired session. Retrying helps.
	KindTransient Kind = "transient"
)

// Error is a failed Odoo call. Message is Odoo's own (never a credential;
// the traceback Odoo sends is dropped); Name the Odoo exception, e.g.
// "odoo.exceptions.ValidationError"; Status the HTTP status when there was
// one.
type Error struct {
	Kind    Kind
	Name    string
	Message string
	Status  int
	Op      string // "hr.attendance.create", "common.authenticate", …
}

func (e *Error) Error() string {
	name := e.Name
	if i := strings.LastIndexByte(name, '.'); i >= 0 {
		name = name[i+1:]
	}
	var b strings.Builder
	b.WriteString("odoo: ")
	if e.Op != "" {
		b.WriteString(e.Op + ": ")
	}
	if name != "" {
		b.WriteString(name + ": ")
	} else if e.Status != 0 {
		fmt.Fprintf(&b, "HTTP %d: ", e.Status)
	}
	b.WriteString(e.Message)
	return b.String()
}

// KindOf is err's kind; an error not from this package is transient (a
// broken connection, a cancelled context).
func KindOf(err error) Kind {
	var e *Error
	if errors.As(err, &e) {
		return e.Kind
	}
	return KindTransient
}

// IsTransient reports whether retrying err may succeed.
func IsTransient(err error) bool { return err != nil && KindOf(err) == KindTransient }

// businessNames are the Odoo exceptions a person must act on.
var businessNames = []string{
	"odoo.exceptions.ValidationError", "odoo.exceptions.UserError", "odoo.exceptions.AccessError",
	"odoo.exceptions.MissingError", "odoo.exceptions.RedirectWarning", "odoo.exceptions.LockError",
	"builtins.ValueError", "builtins.TypeError", "builtins.KeyError", "builtins.AttributeError",
	"psycopg2.errors.ForeignKeyViolation", "psycopg2.errors.CheckViolation", "psycopg2.errors.NotNullViolation",
}

// classify is the kind of an Odoo exception by its name and the HTTP status.
func classify(name string, status int) Kind {
	switch {
	case name == "odoo.exceptions.AccessDenied", name == "werkzeug.exceptions.Unauthorized", status == 401:
		return KindAuth
	case strings.Contains(name, "SessionExpired"):
		return KindTransient
	case status == 429 || status >= 500 && name == "":
		return KindTransient
	}
	for _, n := range businessNames {
		if name == n {
			return KindBusiness
		}
	}
	if strings.HasPrefix(name, "psycopg2.errors.SerializationFailure") || strings.HasPrefix(name, "psycopg2.OperationalError") && status == 0 {
		return KindTransient
	}
	if status >= 400 && status < 500 {
		return KindBusiness
	}
	if strings.HasPrefix(name, "odoo.exceptions.") {
		return KindBusiness
	}
	return KindTransient
}
