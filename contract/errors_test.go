package contract

import (
	"errors"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"regexp"
	"slices"
	"strings"
	"testing"

	"go.temporal.io/sdk/temporal"
)

func TestErrorTypes(t *testing.T) {
	// Earlier releases spelled some types in PascalCase (and one with a
	// doubled prefix); running workflows still see them in their histories.
	for old, want := range map[string]string{
		"CameraNotFound":          ErrTypeCameraNotFound,
		"CredentialsUnreadable":   ErrTypeCredentials,
		"CameraInactive":          ErrTypeCameraInactive,
		"FaceProfileNotFound":     ErrTypeProfileNotFound,
		"ProviderMisconfigured":   ErrTypeProviderConfig,
		"provider_provider_error": ErrTypeProviderError,
		ErrTypeUnreachable:        ErrTypeUnreachable,
	} {
		if got := NormalizeErrorType(old); got != want {
			t.Errorf("NormalizeErrorType(%q) = %q, want %q", old, got, want)
		}
	}
	wrapped := fmt.Errorf("activity: %w", temporal.NewApplicationError("gone", "CameraNotFound"))
	if got := ErrorType(wrapped); got != ErrTypeCameraNotFound {
		t.Errorf("ErrorType of a wrapped legacy error = %q", got)
	}
	if got := ErrorType(errors.New("plain")); got != "" {
		t.Errorf("ErrorType of a plain error = %q", got)
	}

	list := NonRetryable(ErrTypeCameraNotFound, ErrTypeTimeout)
	if !slices.Contains(list, "CameraNotFound") || !slices.Contains(list, ErrTypeCameraNotFound) || !slices.Contains(list, ErrTypeTimeout) || len(list) != 3 {
		t.Errorf("NonRetryable = %v, want today's types and the legacy spelling", list)
	}

	for code, want := range map[string]string{
		"unreachable": ErrTypeProviderUnreachable, "unauthorized": ErrTypeProviderUnauthorized,
		"bad_image": ErrTypeProviderBadImage, "timeout": ErrTypeProviderTimeout,
		"unsupported": ErrTypeProviderUnsupported, "provider_error": ErrTypeProviderError,
	} {
		if got := ProviderErrorType(code); got != want {
			t.Errorf("ProviderErrorType(%q) = %q, want %q", code, got, want)
		}
	}
}

// TestErrorTypeSpelling: every error type is snake_case.
func TestErrorTypeSpelling(t *testing.T) {
	f, err := parser.ParseFile(token.NewFileSet(), "errors.go", nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	snake := regexp.MustCompile(`^"[a-z]+(_[a-z]+)*"$`)
	n := 0
	for _, d := range f.Decls {
		g, ok := d.(*ast.GenDecl)
		if !ok || g.Tok != token.CONST {
			continue
		}
		for _, s := range g.Specs {
			v := s.(*ast.ValueSpec)
			for i, name := range v.Names {
				lit, ok := v.Values[i].(*ast.BasicLit)
				if !strings.HasPrefix(name.Name, "ErrType") || !ok {
					continue
				}
				n++
				if !snake.MatchString(lit.Value) {
					t.Errorf("%s = %s, want snake_case", name.Name, lit.Value)
				}
			}
		}
	}
	if n < 20 {
		t.Fatalf("found %d error types in errors.go", n)
	}
}
