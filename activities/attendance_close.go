package activities

import (
	"context"

	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/temporal"

	"github.com/rollcall/rollcall/contract"
	"github.com/rollcall/rollcall/internal/attendance"
	"github.com/rollcall/rollcall/store"
)

// CloseAttendanceDays closes each person's day on the given dates once
// that day has ended in their shift's zone: scheduled people with no
// check-in become absent, open days incomplete. A closed day is not
// offered again, so the hourly run only does new work, and re-running a
// date is safe. It heartbeats the dates and people done.
func (a *Activities) CloseAttendanceDays(ctx context.Context, in contract.CloseDaysInput) (contract.CloseDaysResult, error) {
	var res contract.CloseDaysResult
	const page = 500
	for _, s := range in.Dates {
		d, err := attendance.ParseDate(s)
		if err != nil {
			return res, temporal.NewNonRetryableApplicationError("bad work date "+s, contract.ErrTypeBadDate, err)
		}
		after := ""
		for {
			ids, err := store.PeopleToClose(ctx, a.DB, d, after, page)
			if err != nil {
				return res, err
			}
			for _, id := range ids {
				_, closed, err := store.CloseDayIfEnded(ctx, a.DB, id, d, in.Now)
				if err != nil {
					return res, err
				}
				if closed {
					res.Closed++
				} else {
					res.Pending++
				}
			}
			if activity.IsActivity(ctx) {
				activity.RecordHeartbeat(ctx, res)
			}
			if len(ids) < page {
				break
			}
			after = ids[len(ids)-1]
		}
	}
	return res, nil
}
