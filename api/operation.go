package api

import (
	"context"
	"fmt"
	"net/http"
	"reflect"

	"github.com/danielgtaylor/huma/v2"

	"github.com/rollcall/rollcall/internal/auth"
)

// Operation metadata keys read by the auth middleware.
const (
	metaPermission = "permission"
	metaPublic     = "public"
)

// op describes one operation; exactly one of Perm or Public must be set, so
// no operation can be registered without saying who may call it.
type op struct {
	ID      string
	Method  string
	Path    string
	Summary string
	Desc    string
	Tag     string
	Perm    auth.Permission
	Public  bool
	Status  int // default success status
	// MaxBody overrides Huma's default request-body limit (1 MiB).
	MaxBody int64
	// Class is the operation's rate-limit class; empty derives it (see
	// op.rateClass in ratelimit_class.go).
	Class rateClass
	// RawJSON, for a handler answering pre-encoded JSON (RawJSON output),
	// is a value of the type the body encodes, for the OpenAPI schema.
	RawJSON any
}

func (o op) operation() huma.Operation {
	if (o.Perm == "") == !o.Public {
		panic(fmt.Sprintf("api: operation %s must declare exactly one of a permission or public", o.ID))
	}
	hop := huma.Operation{
		OperationID:   o.ID,
		Method:        o.Method,
		Path:          o.Path,
		Summary:       o.Summary,
		Description:   o.Desc,
		Tags:          []string{o.Tag},
		DefaultStatus: o.Status,
		MaxBodyBytes:  o.MaxBody,
		Metadata:      map[string]any{},
		Extensions:    map[string]any{},
	}
	class := o.rateClass()
	hop.Metadata[metaRateClass] = class
	hop.Extensions["x-rate-class"] = string(class)
	if o.Public {
		hop.Metadata[metaPublic] = true
		hop.Security = []map[string][]string{}
	} else {
		hop.Metadata[metaPermission] = o.Perm
		hop.Security = []map[string][]string{{"bearer": {}}}
		hop.Extensions["x-permission"] = string(o.Perm)
		if hop.Description != "" {
			hop.Description += "\n\n"
		}
		hop.Description += fmt.Sprintf("Requires permission `%s`.", o.Perm)
		hop.Errors = []int{http.StatusUnauthorized, http.StatusForbidden}
	}
	return hop
}

// register adds an operation to the API with its access rule.
func register[I, O any](api huma.API, o op, handler func(context.Context, *I) (*O, error)) {
	hop := o.operation()
	if o.RawJSON != nil {
		schema := api.OpenAPI().Components.Schemas.Schema(reflect.TypeOf(o.RawJSON), true, "")
		hop.Responses = map[string]*huma.Response{"200": {
			Description: "OK",
			Content:     map[string]*huma.MediaType{"application/json": {Schema: schema}},
		}}
	}
	huma.Register(api, hop, handler)
}
