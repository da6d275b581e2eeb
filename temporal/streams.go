package temporal

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"

	"github.com/rollcall/rollcall/contract"
	"github.com/rollcall/rollcall/workflows"
)

// Streams starts, stops, signals and lists camera stream workflows by their
// stable IDs. It implements activities.StreamControl and is used by the API.
type Streams struct {
	Client    client.Client
	Namespace string
	// PlacementTimeout is how long a session may wait for a stream slot
	// (0: the default, 2 minutes).
	PlacementTimeout time.Duration
}

// Start starts the camera's stream workflow unless it is already running.
func (s *Streams) Start(ctx context.Context, cameraID string) error {
	_, err := s.Client.ExecuteWorkflow(ctx, client.StartWorkflowOptions{
		ID:                       workflows.CameraStreamWorkflowID(cameraID),
		TaskQueue:                TaskQueueStreams,
		WorkflowIDConflictPolicy: enumspb.WORKFLOW_ID_CONFLICT_POLICY_USE_EXISTING,
		WorkflowIDReusePolicy:    enumspb.WORKFLOW_ID_REUSE_POLICY_ALLOW_DUPLICATE,
	}, workflows.CameraStreamWorkflow, contract.CameraStreamWorkflowInput{CameraID: cameraID, SessionQueue: TaskQueueStreamSessions,
		PlacementTimeout: cmp.Or(s.PlacementTimeout, 2*time.Minute)})
	if err != nil {
		return fmt.Errorf("temporal: start camera stream %s: %w", cameraID, err)
	}
	return nil
}

// Stop cancels the camera's stream workflow; one that is not running is not an error.
func (s *Streams) Stop(ctx context.Context, cameraID string) error {
	err := s.Client.CancelWorkflow(ctx, workflows.CameraStreamWorkflowID(cameraID), "")
	if err != nil && !isGone(err) {
		return fmt.Errorf("temporal: stop camera stream %s: %w", cameraID, err)
	}
	return nil
}

// Reconfigure tells a running stream that its camera's settings changed.
func (s *Streams) Reconfigure(ctx context.Context, cameraID string) error {
	if err := s.signal(ctx, cameraID, workflows.SignalCameraReconfigure, nil); !errors.Is(err, ErrStreamNotRunning) {
		return err
	}
	return nil // a stream that is not running reads the new settings when it starts
}

// Pause stops a running stream without ending its workflow.
func (s *Streams) Pause(ctx context.Context, cameraID string) error {
	return s.signal(ctx, cameraID, workflows.SignalCameraPause, nil)
}

// Resume reopens a paused stream.
func (s *Streams) Resume(ctx context.Context, cameraID string) error {
	return s.signal(ctx, cameraID, workflows.SignalCameraResume, nil)
}

// ErrStreamNotRunning says a camera has no running stream workflow.
var ErrStreamNotRunning = errors.New("temporal: camera stream is not running")

func (s *Streams) signal(ctx context.Context, cameraID, name string, arg any) error {
	err := s.Client.SignalWorkflow(ctx, workflows.CameraStreamWorkflowID(cameraID), "", name, arg)
	if isGone(err) {
		return ErrStreamNotRunning
	}
	if err != nil {
		return fmt.Errorf("temporal: signal camera stream %s: %w", cameraID, err)
	}
	return nil
}

// Status queries a camera's running stream; ErrStreamNotRunning if none.
func (s *Streams) Status(ctx context.Context, cameraID string) (contract.CameraStreamStatus, error) {
	var st contract.CameraStreamStatus
	resp, err := s.Client.QueryWorkflowWithOptions(ctx, &client.QueryWorkflowWithOptionsRequest{
		WorkflowID: workflows.CameraStreamWorkflowID(cameraID), QueryType: workflows.QueryCameraStreamStatus,
		// A closed run would still answer, with its last state.
		QueryRejectCondition: enumspb.QUERY_REJECT_CONDITION_NOT_OPEN,
	})
	if isGone(err) || err == nil && resp.QueryRejected != nil {
		return st, ErrStreamNotRunning
	}
	if err != nil {
		return st, fmt.Errorf("temporal: query camera stream %s: %w", cameraID, err)
	}
	if err := resp.QueryResult.Get(&st); err != nil {
		return st, fmt.Errorf("temporal: camera stream %s status: %w", cameraID, err)
	}
	return st, nil
}

// ReportStream delivers a running stream's report to its workflow run
// (activities.StreamReporter); a report to a run that ended is dropped.
func (s *Streams) ReportStream(ctx context.Context, cameraID, runID string, r contract.StreamReport) error {
	err := s.Client.SignalWorkflow(ctx, workflows.CameraStreamWorkflowID(cameraID), runID, workflows.SignalCameraStreamReport, r)
	if err != nil && !isGone(err) {
		return fmt.Errorf("temporal: report camera stream %s: %w", cameraID, err)
	}
	return nil
}

// Running lists the camera IDs whose stream workflow is running.
func (s *Streams) Running(ctx context.Context) ([]string, error) {
	var ids []string
	var token []byte
	for {
		resp, err := s.Client.ListWorkflow(ctx, &workflowservice.ListWorkflowExecutionsRequest{
			Namespace:     s.Namespace,
			Query:         "WorkflowType = 'CameraStreamWorkflow' AND ExecutionStatus = 'Running'",
			PageSize:      1000,
			NextPageToken: token,
		})
		if err != nil {
			return nil, fmt.Errorf("temporal: list camera streams: %w", err)
		}
		for _, e := range resp.Executions {
			if id, ok := strings.CutPrefix(e.GetExecution().GetWorkflowId(), workflows.CameraStreamWorkflowIDPrefix); ok {
				ids = append(ids, id)
			}
		}
		if token = resp.NextPageToken; len(token) == 0 {
			return ids, nil
		}
	}
}

// WorkflowRunning reports whether the workflow with that ID has a running
// execution (activities.WorkflowReader).
func (s *Streams) WorkflowRunning(ctx context.Context, workflowID string) (bool, error) {
	d, err := s.Client.DescribeWorkflow(ctx, workflowID, "")
	if isGone(err) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("temporal: describe %s: %w", workflowID, err)
	}
	return d.Status == enumspb.WORKFLOW_EXECUTION_STATUS_RUNNING, nil
}

// StartWorkflow starts a workflow by type name on the default task queue;
// one already running under that ID is left alone.
func (s *Streams) StartWorkflow(ctx context.Context, workflowID, workflowType string, arg any) error {
	_, err := s.Client.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: workflowID, TaskQueue: TaskQueueDefault,
		WorkflowExecutionErrorWhenAlreadyStarted: true, WorkflowExecutionTimeout: time.Hour}, workflowType, arg)
	var started *serviceerror.WorkflowExecutionAlreadyStarted
	if errors.As(err, &started) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("temporal: start %s: %w", workflowID, err)
	}
	return nil
}

func isGone(err error) bool {
	var nf *serviceerror.NotFound
	return errors.As(err, &nf)
}
