package api

import (
	"bytes"
	"context"
	"encoding/json"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/danielgtaylor/huma/v2"

	"github.com/rollcall/rollcall/internal/auth"
)

// The developer console lists Rollcall's own operations and invokes them
// in-process, through the same router and middleware, with the caller's
// own identity and permissions: it never reaches anything but Rollcall's
// routes, and grants nothing the caller's token does not.

// DeveloperEndpoint is one operation of the API.
type DeveloperEndpoint struct {
	ID             string       `json:"id" example:"list-cameras"`
	Method         string       `json:"method" example:"GET"`
	Path           string       `json:"path" example:"/api/v1/cameras"`
	Summary        string       `json:"summary,omitempty"`
	Description    string       `json:"description,omitempty"`
	Tag            string       `json:"tag,omitempty" example:"Cameras"`
	Permission     string       `json:"permission,omitempty" example:"cameras:read" doc:"Empty for public operations"`
	PathParams     []string     `json:"pathParams,omitempty" example:"[\"id\"]"`
	QueryParams    []string     `json:"queryParams,omitempty"`
	RequestSchema  *huma.Schema `json:"requestSchema,omitempty" doc:"The JSON body's schema, when it takes one"`
	ResponseSchema *huma.Schema `json:"responseSchema,omitempty" doc:"The success response's schema"`
}

// DeveloperEndpointsOutput is GET /developer/endpoints.
type DeveloperEndpointsOutput struct {
	Body struct {
		Items []DeveloperEndpoint `json:"items"`
	}
}

// InvokeInput is POST /developer/endpoints/{id}/invoke.
type InvokeInput struct {
	ID   string `path:"id" maxLength:"100" example:"list-cameras"`
	Body struct {
		PathParams map[string]string `json:"pathParams,omitempty" doc:"Values of the path's {parameters}" example:"{\"id\":\"6f1c2d3e-0000-4000-8000-000000000001\"}"`
		Query      map[string]string `json:"query,omitempty" example:"{\"limit\":\"10\"}"`
		Body       json.RawMessage   `json:"body,omitempty" doc:"The JSON request body"`
	}
}

// InvokeOutput is the invoked operation's answer.
type InvokeOutput struct {
	Body struct {
		Status     int               `json:"status" example:"200"`
		Headers    map[string]string `json:"headers"`
		Body       json.RawMessage   `json:"body,omitempty" doc:"The answer, when it is JSON"`
		Text       string            `json:"text,omitempty" doc:"The answer, when it is not JSON"`
		Truncated  bool              `json:"truncated,omitempty" doc:"The answer was longer than 1 MiB and was cut"`
		DurationMs float64           `json:"durationMs" example:"3.2"`
	}
}

// consoleHeader marks a request made by the console (it cannot invoke
// the console again).
const consoleHeader = "X-Rollcall-Console"

// consoleMaxAnswer bounds what the console returns of an answer.
const consoleMaxAnswer = 1 << 20

func registerDeveloper(api huma.API, s *Server) {
	register(api, op{ID: "list-endpoints", Method: http.MethodGet, Path: "/developer/endpoints", Tag: "Developer", Perm: auth.PermDeveloperUse,
		Summary: "The API's operations, with their permissions and schemas"}, s.listEndpoints)
	register(api, op{ID: "invoke-endpoint", Method: http.MethodPost, Path: "/developer/endpoints/{id}/invoke", Tag: "Developer", Perm: auth.PermDeveloperUse,
		Summary: "Call one of the API's operations as yourself",
		Desc: "Dispatched in-process through the same router, with your own token and permissions (never to another URL); " +
			"answers the status, headers, body and duration. The call itself is audited, as is a mutation it makes."}, s.invokeEndpoint)
}

// operations lists the API's operations under /api/v1 (those of the
// console itself excluded), by ID.
func (s *Server) operations() map[string]DeveloperEndpoint {
	out := map[string]DeveloperEndpoint{}
	oapi := s.humaAPI.OpenAPI()
	for path, item := range oapi.Paths {
		if !strings.HasPrefix(path, "/api/v1/") {
			continue
		}
		for method, o := range map[string]*huma.Operation{http.MethodGet: item.Get, http.MethodPost: item.Post, http.MethodPut: item.Put,
			http.MethodPatch: item.Patch, http.MethodDelete: item.Delete} {
			if o == nil || o.OperationID == "list-endpoints" || o.OperationID == "invoke-endpoint" {
				continue
			}
			e := DeveloperEndpoint{ID: o.OperationID, Method: method, Path: path, Summary: o.Summary, Description: o.Description}
			if len(o.Tags) > 0 {
				e.Tag = o.Tags[0]
			}
			if p, ok := o.Metadata[metaPermission].(auth.Permission); ok {
				e.Permission = string(p)
			}
			for _, p := range o.Parameters {
				switch p.In {
				case "path":
					e.PathParams = append(e.PathParams, p.Name)
				case "query":
					e.QueryParams = append(e.QueryParams, p.Name)
				}
			}
			if o.RequestBody != nil {
				if mt := o.RequestBody.Content["application/json"]; mt != nil {
					e.RequestSchema = resolveSchema(oapi, mt.Schema)
				}
			}
			for _, code := range []string{"200", "201", "202"} {
				if r := o.Responses[code]; r != nil {
					if mt := r.Content["application/json"]; mt != nil {
						e.ResponseSchema = resolveSchema(oapi, mt.Schema)
						break
					}
				}
			}
			out[e.ID] = e
		}
	}
	return out
}

// resolveSchema follows a $ref into the components.
func resolveSchema(oapi *huma.OpenAPI, sch *huma.Schema) *huma.Schema {
	if sch != nil && sch.Ref != "" && oapi.Components != nil && oapi.Components.Schemas != nil {
		if r := oapi.Components.Schemas.SchemaFromRef(sch.Ref); r != nil {
			return r
		}
	}
	return sch
}

func (s *Server) listEndpoints(context.Context, *struct{}) (*DeveloperEndpointsOutput, error) {
	ops := s.operations()
	out := &DeveloperEndpointsOutput{}
	out.Body.Items = make([]DeveloperEndpoint, 0, len(ops))
	for _, e := range ops {
		out.Body.Items = append(out.Body.Items, e)
	}
	sort.Slice(out.Body.Items, func(i, j int) bool {
		a, b := out.Body.Items[i], out.Body.Items[j]
		return a.Path < b.Path || a.Path == b.Path && a.Method < b.Method
	})
	return out, nil
}

func (s *Server) invokeEndpoint(ctx context.Context, in *InvokeInput) (*InvokeOutput, error) {
	info := infoFrom(ctx)
	if info == nil || info.Principal == nil {
		return nil, newProblem(http.StatusUnauthorized, CodeUnauthorized, "sign in first")
	}
	if info.Console {
		return nil, newProblem(http.StatusBadRequest, CodeBadRequest, "the console cannot invoke itself")
	}
	e, ok := s.operations()[in.ID]
	if !ok {
		return nil, newProblem(http.StatusNotFound, CodeNotFound, "no such operation (GET /developer/endpoints lists them)")
	}
	path := e.Path
	for _, name := range e.PathParams {
		v, ok := in.Body.PathParams[name]
		if !ok || v == "" {
			return nil, fieldError("body.pathParams."+name, "is required by "+e.Path, nil)
		}
		if v == "." || v == ".." || strings.ContainsAny(v, "/\\?#") {
			return nil, fieldError("body.pathParams."+name, "must be one path segment", v)
		}
		path = strings.ReplaceAll(path, "{"+name+"}", url.PathEscape(v))
	}
	for name := range in.Body.PathParams {
		if !slices.Contains(e.PathParams, name) {
			return nil, fieldError("body.pathParams."+name, "is not a parameter of "+e.Path, nil)
		}
	}
	q := url.Values{}
	for k, v := range in.Body.Query {
		q.Set(k, v)
	}
	target := path
	if len(q) > 0 {
		target += "?" + q.Encode()
	}
	var body []byte
	if len(in.Body.Body) > 0 && string(in.Body.Body) != "null" {
		body = in.Body.Body
	}
	// A fresh context: the outer request's values (its route, its request
	// info, its principal) must not leak into the call; it still ends with
	// the outer request.
	callCtx, cancel := context.WithCancel(context.Background())
	defer cancel()
	stop := context.AfterFunc(ctx, cancel)
	defer stop()
	req := httptest.NewRequestWithContext(callCtx, e.Method, target, bytes.NewReader(body))
	req.RemoteAddr = net.JoinHostPort(info.ClientIP, "0")
	req.Header.Set("Authorization", "Bearer "+info.bearer)
	req.Header.Set(consoleHeader, "1")
	req.Header.Set("User-Agent", "rollcall-console ("+info.UserAgent+")")
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	rec := httptest.NewRecorder()
	start := time.Now()
	s.router.ServeHTTP(rec, req)
	out := &InvokeOutput{}
	out.Body.DurationMs = float64(time.Since(start).Microseconds()) / 1000
	out.Body.Status = rec.Code
	out.Body.Headers = map[string]string{}
	for _, h := range []string{"Content-Type", "Location", "Retry-After", "RateLimit-Limit", "RateLimit-Remaining", "RateLimit-Reset", "X-Request-ID"} {
		if v := rec.Header().Get(h); v != "" {
			out.Body.Headers[h] = v
		}
	}
	answer := rec.Body.Bytes()
	if len(answer) > consoleMaxAnswer {
		answer, out.Body.Truncated = answer[:consoleMaxAnswer], true
	}
	if !out.Body.Truncated && json.Valid(answer) && len(answer) > 0 {
		out.Body.Body = answer
	} else {
		out.Body.Text = string(answer)
	}
	return out, nil
}
