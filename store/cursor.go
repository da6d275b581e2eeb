package store

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"strconv"
	"time"

	"github.com/uptrace/bun"
)

// Cursor is a keyset position: the (time, id) of the last row of a page.
type Cursor struct {
	Time time.Time `json:"t,omitzero"`
	Text string    `json:"s,omitempty"` // for keysets on a text column
	ID   string    `json:"i"`
}

// ErrBadCursor is returned by DecodeCursor for a cursor this API did not issue.
var ErrBadCursor = errors.New("store: malformed cursor")

// Encode returns the opaque form of c given to API clients.
func (c Cursor) Encode() string {
	b, _ := json.Marshal(c)
	return base64.RawURLEncoding.EncodeToString(b)
}

// DecodeCursor parses an opaque cursor; "" gives nil.
func DecodeCursor(s string) (*Cursor, error) {
	if s == "" {
		return nil, nil
	}
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return nil, ErrBadCursor
	}
	var c Cursor
	if err := json.Unmarshal(b, &c); err != nil || c.ID == "" || (c.Time.IsZero() && c.Text == "") {
		return nil, ErrBadCursor
	}
	return &c, nil
}

// newestFirst restricts q to occurred_at in [since, until) and to the rows
// after the keyset position (occurred_at, bigint id), newest first, at
// most limit rows. A cursor whose ID is not a number gives ErrBadCursor.
func newestFirst(q *bun.SelectQuery, since, until *time.Time, after *Cursor, limit int) (*bun.SelectQuery, error) {
	if since != nil {
		q = q.Where("occurred_at >= ?", *since)
	}
	if until != nil {
		q = q.Where("occurred_at < ?", *until)
	}
	if after != nil {
		id, err := strconv.ParseInt(after.ID, 10, 64)
		if err != nil {
			return nil, ErrBadCursor
		}
		q = q.Where("(occurred_at, id) < (?, ?)", after.Time, id)
	}
	return q.Order("occurred_at DESC", "id DESC").Limit(int64(limit)), nil
}
