package api

import (
	"context"
	"net/http"

	"github.com/danielgtaylor/huma/v2"

	"github.com/rollcall/rollcall/internal/auth"
)

// RoleBody is a role and the permissions it grants.
type RoleBody struct {
	Name        string   `json:"name" example:"operator"`
	Description string   `json:"description"`
	Permissions []string `json:"permissions" example:"[\"cameras:read\",\"cameras:write\"]"`
}

// RoleListOutput lists the built-in roles.
type RoleListOutput struct {
	Body struct {
		Items []RoleBody `json:"items"`
	}
}

func registerRoles(api huma.API, s *Server) {
	register(api, op{ID: "list-roles", Method: http.MethodGet, Path: "/roles", Tag: "Users", Perm: auth.PermUsersRead,
		Summary: "List roles and their permissions"}, s.listRoles)
}

func (s *Server) listRoles(context.Context, *struct{}) (*RoleListOutput, error) {
	out := &RoleListOutput{}
	for _, r := range auth.Roles() {
		rb := RoleBody{Name: string(r.Name), Description: r.Description}
		for _, p := range r.Permissions {
			rb.Permissions = append(rb.Permissions, string(p))
		}
		out.Body.Items = append(out.Body.Items, rb)
	}
	return out, nil
}
