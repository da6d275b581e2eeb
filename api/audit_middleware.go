package api

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/danielgtaylor/huma/v2"

	"github.com/rollcall/rollcall/internal/urlsafe"
	"github.com/rollcall/rollcall/store"
)

// audit records every mutation — successful or refused — after it ran:
// who, which operation on which resource, the status, where from, and the
// request's fields with secrets redacted. It wraps authorize, so 401 and
// 403 answers are recorded too.
func (s *Server) audit(hctx huma.Context, next func(huma.Context)) {
	if !isMutation(hctx.Method()) {
		next(hctx)
		return
	}
	next(hctx)

	ctx := hctx.Context()
	info := infoFrom(ctx)
	if info == nil {
		return
	}
	op := hctx.Operation()
	entry := &store.AuditLog{
		OccurredAt: s.now().UTC(),
		Action:     op.OperationID,
		Method:     hctx.Method(),
		Path:       hctx.URL().Path,
		Resource:   resourceOf(op.Path),
		ResourceID: info.AuditResourceID,
		Status:     hctx.Status(),
		IP:         info.ClientIP,
		UserAgent:  info.UserAgent,
		RequestID:  info.RequestID,
		Changes:    redactedBody(info),
	}
	if info.AuditBefore != nil || info.AuditAfter != nil {
		entry.Changes = beforeAfter(entry.Changes, info.AuditBefore, info.AuditAfter)
	}
	if entry.ResourceID == "" {
		entry.ResourceID = hctx.Param("id")
	}
	switch {
	case info.Principal != nil:
		entry.UserID, entry.Username = &info.Principal.UserID, info.Principal.Username
	case info.AuditActor != "":
		entry.Username = info.AuditActor
		if info.AuditActorID != "" {
			entry.UserID = &info.AuditActorID
		}
	}
	// Refusals of unauthenticated callers are folded: one row per client
	// IP, operation and status per minute, the next one saying how many
	// were folded into it.
	if entry.UserID == nil && entry.Username == "" && (entry.Status == http.StatusUnauthorized || entry.Status == http.StatusTooManyRequests) {
		folded, write := s.refusals.fold(entry.IP+" "+entry.Action+" "+strconv.Itoa(entry.Status), entry.OccurredAt)
		if !write {
			return
		}
		if folded > 0 {
			entry.Changes = withFolded(entry.Changes, folded)
		}
	}
	// The audit row must be written even when the client has gone away.
	wctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 3*time.Second)
	defer cancel()
	if err := store.InsertAudit(wctx, s.db, entry); err != nil {
		s.log.ErrorContext(ctx, "audit write failed", slog.String("action", entry.Action), slog.String("request_id", entry.RequestID), slog.String("error", err.Error()))
	}
}

// resourceOf names the resource of an operation path: /api/v1/users/{id} → users.
func resourceOf(path string) string {
	path = strings.TrimPrefix(path, "/api/v1/")
	first, _, _ := strings.Cut(strings.Trim(path, "/"), "/")
	return first
}

// redactedBody returns the captured JSON body with every secret-looking
// field replaced by "[REDACTED]"; a non-JSON or truncated body is described,
// not stored.
func redactedBody(info *requestInfo) json.RawMessage {
	if info.Body == nil || info.Body.Len() == 0 {
		return nil
	}
	var v any
	if info.Body.Len() >= maxAuditBody || json.Unmarshal(info.Body.Bytes(), &v) != nil {
		b, _ := json.Marshal(map[string]any{"_body": "not recorded (not JSON or larger than 64 KiB)", "_bytes": info.Body.Len()})
		return b
	}
	b, err := json.Marshal(redact(v))
	if err != nil {
		return nil
	}
	return b
}

// beforeAfter combines the request with the resource's state before and
// after: {"request": …, "before": …, "after": …}, secrets redacted.
func beforeAfter(request json.RawMessage, before, after any) json.RawMessage {
	state := func(v any) any {
		if v == nil {
			return nil
		}
		b, err := json.Marshal(v)
		if err != nil {
			return nil
		}
		var out any
		if json.Unmarshal(b, &out) != nil {
			return nil
		}
		return redact(out)
	}
	b, err := json.Marshal(map[string]any{"request": request, "before": state(before), "after": state(after)})
	if err != nil {
		return request
	}
	return b
}

func redact(v any) any {
	switch t := v.(type) {
	case string:
		return urlsafe.Redact(t)
	case map[string]any:
		for k, val := range t {
			if isSecretKey(k) {
				t[k] = "[REDACTED]"
			} else {
				t[k] = redact(val)
			}
		}
	case []any:
		for i := range t {
			t[i] = redact(t[i])
		}
	}
	return v
}

// isSecretKey matches field names that hold secrets in any casing style:
// password, currentPassword, refresh_token, apiKey, secret, credentials, …
func isSecretKey(k string) bool {
	k = strings.ToLower(strings.NewReplacer("_", "", "-", "").Replace(k))
	for _, s := range []string{"password", "secret", "token", "apikey", "credential", "privatekey", "passphrase"} {
		if strings.Contains(k, s) {
			return true
		}
	}
	return false
}

// refusalFolder keeps, per key, the minute of its last audit row and how
// many refusals were not written since.
type refusalFolder struct {
	mu   sync.Mutex
	last map[string]time.Time
	n    map[string]int
}

// fold reports whether a refusal is written (the first of its key in a
// minute) and how many were folded since the key's last row.
func (f *refusalFolder) fold(key string, at time.Time) (folded int, write bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.last == nil {
		f.last, f.n = map[string]time.Time{}, map[string]int{}
	}
	if t, ok := f.last[key]; ok && at.Sub(t) < time.Minute {
		f.n[key]++
		return 0, false
	}
	if len(f.last) > 10000 { // forget old keys rather than grow without bound
		for k, t := range f.last {
			if at.Sub(t) >= time.Minute {
				delete(f.last, k)
				delete(f.n, k)
			}
		}
	}
	folded = f.n[key]
	f.last[key], f.n[key] = at, 0
	return folded, true
}

// withFolded adds the folded count to an audit row's changes.
func withFolded(changes json.RawMessage, n int) json.RawMessage {
	b, err := json.Marshal(map[string]any{"request": changes, "foldedSinceLastRow": n})
	if err != nil {
		return changes
	}
	return b
}
