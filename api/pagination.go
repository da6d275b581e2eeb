package api

import "github.com/rollcall/rollcall/store"

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
