package api

import (
	"time"

	"github.com/rollcall/rollcall/store"
)

// page turns rows fetched with limit+1 into one page of items and the
// cursor of the next page ("" when there is none): the extra row only
// proves there is more.
func page[T, B any](rows []T, limit int, item func(*T) B, cursor func(*T) store.Cursor) ([]B, string) {
	items := make([]B, 0, min(len(rows), limit))
	for i := range rows {
		if i == limit {
			return items, cursor(&rows[i-1]).Encode()
		}
		items = append(items, item(&rows[i]))
	}
	return items, ""
}

// timeRange reads a list's since/until query parameters (zero: unset);
// until must come after since.
func timeRange(since, until time.Time) (from, to *time.Time, err error) {
	if !since.IsZero() {
		from = &since
	}
	if !until.IsZero() {
		to = &until
	}
	if from != nil && to != nil && !to.After(*from) {
		return nil, nil, fieldError("query.until", "must be after since", until)
	}
	return from, to, nil
}
