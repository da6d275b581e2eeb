package sysmetrics

import (
	"context"
	"fmt"

	enumspb "go.temporal.io/api/enums/v1"
	taskqueuepb "go.temporal.io/api/taskqueue/v1"
	"go.temporal.io/api/workflowservice/v1"
)

// DescribeQueue asks Temporal about one task queue: its workflow and
// activity pollers (a worker polls both kinds unless it runs activities
// only, so pollers are counted by identity) and their backlog. Temporal
// forgets a poller a few minutes after its last poll, so a stopped worker
// drops out of the count after that.
func DescribeQueue(ctx context.Context, svc workflowservice.WorkflowServiceClient, namespace, queue string) (QueueState, error) {
	st := QueueState{Queue: queue}
	identities := map[string]bool{}
	for _, kind := range []enumspb.TaskQueueType{enumspb.TASK_QUEUE_TYPE_WORKFLOW, enumspb.TASK_QUEUE_TYPE_ACTIVITY} {
		resp, err := svc.DescribeTaskQueue(ctx, &workflowservice.DescribeTaskQueueRequest{
			Namespace:     namespace,
			TaskQueue:     &taskqueuepb.TaskQueue{Name: queue, Kind: enumspb.TASK_QUEUE_KIND_NORMAL},
			TaskQueueType: kind,
			ReportStats:   true,
		})
		if err != nil {
			return st, fmt.Errorf("sysmetrics: describe task queue %s: %w", queue, err)
		}
		for _, p := range resp.GetPollers() {
			identities[p.GetIdentity()] = true
			if p.GetLastAccessTime() != nil {
				t := p.GetLastAccessTime().AsTime()
				if st.LastAccess == nil || t.After(*st.LastAccess) {
					st.LastAccess = &t
				}
			}
		}
		st.Backlog += resp.GetStats().GetApproximateBacklogCount()
	}
	st.Pollers = len(identities)
	return st, nil
}

// queueStatus is a queue's status: up with pollers, no_workers without.
func queueStatus(q QueueState) string {
	if q.Pollers > 0 {
		return StatusUp
	}
	return StatusNoWorkers
}
