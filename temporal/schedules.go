package temporal

import (
	"context"
	"errors"
	"fmt"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"
)

// Schedule is the desired state of one Temporal Schedule.
type Schedule struct {
	ID         string
	Every      time.Duration
	Workflow   any // workflow function
	WorkflowID string
	Args       []any
	TaskQueue  string
	Note       string
}

// UpsertSchedule creates the schedule, or brings an existing one with the
// same ID to the desired spec and action. Running it at every worker start
// is safe: it never duplicates a schedule.
func UpsertSchedule(ctx context.Context, c client.Client, s Schedule) error {
	spec := client.ScheduleSpec{Intervals: []client.ScheduleIntervalSpec{{Every: s.Every}}}
	action := &client.ScheduleWorkflowAction{
		ID:                       s.WorkflowID,
		Workflow:                 s.Workflow,
		Args:                     s.Args,
		TaskQueue:                s.TaskQueue,
		WorkflowExecutionTimeout: s.Every * 10,
	}
	// Skip a run while the previous one is still going; after an outage
	// take at most the one missed run that still matters (the server's
	// default catch-up window is a year of runs).
	policies := &client.SchedulePolicies{Overlap: enumspb.SCHEDULE_OVERLAP_POLICY_SKIP, CatchupWindow: catchupWindow(s.Every)}
	_, err := c.ScheduleClient().Create(ctx, client.ScheduleOptions{
		ID:            s.ID,
		Spec:          spec,
		Action:        action,
		Overlap:       policies.Overlap,
		CatchupWindow: policies.CatchupWindow,
		Note:          s.Note,
	})
	if err == nil {
		return nil
	}
	if !errors.Is(err, temporal.ErrScheduleAlreadyRunning) {
		return fmt.Errorf("temporal: create schedule %s: %w", s.ID, err)
	}
	err = c.ScheduleClient().GetHandle(ctx, s.ID).Update(ctx, client.ScheduleUpdateOptions{
		DoUpdate: func(in client.ScheduleUpdateInput) (*client.ScheduleUpdate, error) {
			sched := in.Description.Schedule
			sched.Spec = &spec
			sched.Action = action
			sched.Policy = policies // an update replaces the policies too
			return &client.ScheduleUpdate{Schedule: &sched}, nil
		},
	})
	if err != nil {
		return fmt.Errorf("temporal: update schedule %s: %w", s.ID, err)
	}
	return nil
}

// catchupWindow is how late a missed run may still start: one interval,
// at least a minute (the server's minimum is 10 s).
func catchupWindow(every time.Duration) time.Duration { return max(every, time.Minute) }
