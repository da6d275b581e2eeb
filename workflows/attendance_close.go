package workflows

import (
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/rollcall/rollcall/contract"
	"github.com/rollcall/rollcall/internal/attendance"
)

// AttendanceCloseWorkflowID is the ID of the scheduled day close.
const AttendanceCloseWorkflowID = "attendance-close"

// AttendanceCloseLookback is how many past days each run closes: a day
// ends in its shift's zone, up to a day after its UTC date (night shifts,
// zones east and west of UTC), and a run missed while the system was down
// is made up by the next.
const AttendanceCloseLookback = 3

// AttendanceCloseWorkflow closes attendance days that have ended: run
// hourly by a schedule, it marks absent the scheduled people with no
// check-in and incomplete the ones never checked out, each in their
// shift's zone. Re-running it for a day changes nothing.
func AttendanceCloseWorkflow(ctx workflow.Context, in contract.AttendanceCloseInput) (contract.CloseDaysResult, error) {
	ctx = workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		StartToCloseTimeout: 30 * time.Minute,
		HeartbeatTimeout:    2 * time.Minute,
		RetryPolicy: &temporal.RetryPolicy{
			InitialInterval:        5 * time.Second,
			BackoffCoefficient:     2,
			MaximumInterval:        time.Minute,
			MaximumAttempts:        5,
			NonRetryableErrorTypes: []string{contract.ErrTypeBadDate},
		},
	})
	now := workflow.Now(ctx)
	var dates []string
	if in.Date != "" {
		dates = []string{in.Date}
	} else {
		today := attendance.DateOf(now, time.UTC)
		for i := AttendanceCloseLookback; i >= 0; i-- {
			dates = append(dates, today.AddDays(-i).String())
		}
	}
	var res contract.CloseDaysResult
	err := workflow.ExecuteActivity(ctx, a.CloseAttendanceDays, contract.CloseDaysInput{Dates: dates, Now: now}).Get(ctx, &res)
	return res, err
}
