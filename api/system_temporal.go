package api

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/danielgtaylor/huma/v2"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"

	"github.com/rollcall/rollcall/internal/auth"
	rctemporal "github.com/rollcall/rollcall/temporal"
)

// The Temporal side of service management: Rollcall's schedules (list,
// pause, unpause, trigger) and its workflows (running and recently
// failed, by type).

// ScheduleBody is one of Rollcall's schedules.
type ScheduleBody struct {
	ID          string      `json:"id" example:"rollcall-cleanup"`
	Workflow    string      `json:"workflow" example:"CleanupWorkflow"`
	Every       string      `json:"every" example:"1h0m0s"`
	Paused      bool        `json:"paused"`
	Note        string      `json:"note,omitempty" doc:"Why it was paused or unpaused, or what it does"`
	NextRuns    []time.Time `json:"nextRuns,omitempty" doc:"The next few times it fires"`
	LastRunAt   *time.Time  `json:"lastRunAt,omitempty"`
	LastRunID   string      `json:"lastRunWorkflowId,omitempty"`
	ActionCount int64       `json:"actions" doc:"Workflows it has started"`
}

// SchedulesOutput lists the schedules.
type SchedulesOutput struct {
	Body struct {
		Items []ScheduleBody `json:"items"`
	}
}

// ScheduleActionInput names a schedule, with a note for pause/unpause.
type ScheduleActionInput struct {
	ID   string `path:"id" maxLength:"100" example:"rollcall-cleanup"`
	Body struct {
		Note string `json:"note,omitempty" maxLength:"200" example:"maintenance window"`
	}
}

// ScheduleOutput is one schedule.
type ScheduleOutput struct{ Body ScheduleBody }

// WorkflowsInput filters GET /system/workflows.
type WorkflowsInput struct {
	Type   string `query:"type" maxLength:"100" example:"OdooSyncWorkflow" doc:"A workflow type; empty: all of Rollcall's"`
	Status string `query:"status" enum:"running,failed" default:"running" doc:"running, or failed in the last 24 hours"`
	Limit  int    `query:"limit" minimum:"1" maximum:"200" default:"50"`
}

// WorkflowBody is one workflow execution.
type WorkflowBody struct {
	WorkflowID string     `json:"workflowId" example:"camera-stream/6f1c…"`
	RunID      string     `json:"runId"`
	Type       string     `json:"type" example:"CameraStreamWorkflow"`
	Status     string     `json:"status" example:"running"`
	StartedAt  time.Time  `json:"startedAt"`
	ClosedAt   *time.Time `json:"closedAt,omitempty"`
	TaskQueue  string     `json:"taskQueue"`
}

// WorkflowsOutput lists workflows.
type WorkflowsOutput struct {
	Body struct {
		Items []WorkflowBody `json:"items"`
	}
}

func registerSystemTemporal(api huma.API, s *Server) {
	register(api, op{ID: "list-schedules", Method: http.MethodGet, Path: "/system/schedules", Tag: "System", Perm: auth.PermSystemRead,
		Summary: "Rollcall's schedules: what they run, how often, paused or not, next and last runs"}, s.listSchedules)
	for _, a := range []struct{ id, path, summary string }{
		{"pause-schedule", "pause", "Pause a schedule (it fires no more until unpaused)"},
		{"unpause-schedule", "unpause", "Unpause a schedule"},
		{"trigger-schedule", "trigger", "Run a schedule's workflow now (skipped if one is running)"},
	} {
		register(api, op{ID: a.id, Method: http.MethodPost, Path: "/system/schedules/{id}/" + a.path, Tag: "System", Perm: auth.PermSystemManage,
			Summary: a.summary}, s.scheduleAction(a.path))
	}
	register(api, op{ID: "list-workflows", Method: http.MethodGet, Path: "/system/workflows", Tag: "System", Perm: auth.PermSystemRead,
		Summary: "Running, or recently failed, workflows by type"}, s.listWorkflows)
}

// knownSchedule refuses IDs that are not Rollcall's schedules (the
// namespace may hold others').
func knownSchedule(id string) error {
	for _, sc := range rctemporal.Schedules(rctemporal.WorkerOptions{}) {
		if sc.ID == id {
			return nil
		}
	}
	return newProblem(http.StatusNotFound, CodeNotFound, "no such schedule (GET /system/schedules lists them)")
}

func (s *Server) scheduleBody(ctx context.Context, id string) (ScheduleBody, error) {
	d, err := s.temporal.ScheduleClient().GetHandle(ctx, id).Describe(ctx)
	if err != nil {
		return ScheduleBody{}, err
	}
	b := ScheduleBody{ID: id, Paused: d.Schedule.State.Paused, Note: d.Schedule.State.Note, ActionCount: int64(d.Info.NumActions)}
	if a, ok := d.Schedule.Action.(*client.ScheduleWorkflowAction); ok {
		b.Workflow = fmt.Sprint(a.Workflow)
	}
	if len(d.Schedule.Spec.Intervals) > 0 {
		b.Every = d.Schedule.Spec.Intervals[0].Every.String()
	}
	b.NextRuns = d.Info.NextActionTimes
	if n := len(d.Info.RecentActions); n > 0 {
		last := d.Info.RecentActions[n-1]
		b.LastRunAt = &last.ActualTime
		if last.StartWorkflowResult != nil {
			b.LastRunID = last.StartWorkflowResult.WorkflowID
		}
	}
	return b, nil
}

func (s *Server) listSchedules(ctx context.Context, _ *struct{}) (*SchedulesOutput, error) {
	out := &SchedulesOutput{}
	for _, sc := range rctemporal.Schedules(rctemporal.WorkerOptions{}) {
		b, err := s.scheduleBody(ctx, sc.ID)
		var nf *serviceerror.NotFound
		if errors.As(err, &nf) {
			continue // not created yet (no worker has started)
		}
		if err != nil {
			return nil, temporalUnavailable(err)
		}
		out.Body.Items = append(out.Body.Items, b)
	}
	if out.Body.Items == nil {
		out.Body.Items = []ScheduleBody{}
	}
	return out, nil
}

func (s *Server) scheduleAction(action string) func(context.Context, *ScheduleActionInput) (*ScheduleOutput, error) {
	return func(ctx context.Context, in *ScheduleActionInput) (*ScheduleOutput, error) {
		if err := knownSchedule(in.ID); err != nil {
			return nil, err
		}
		h := s.temporal.ScheduleClient().GetHandle(ctx, in.ID)
		who := "paused from the API"
		if info := infoFrom(ctx); info != nil && info.Principal != nil {
			who = info.Principal.Username
		}
		note := strings.TrimSpace(in.Body.Note)
		var err error
		switch action {
		case "pause":
			err = h.Pause(ctx, client.SchedulePauseOptions{Note: noteOr(note, "paused by "+who)})
		case "unpause":
			err = h.Unpause(ctx, client.ScheduleUnpauseOptions{Note: noteOr(note, "unpaused by "+who)})
		case "trigger":
			err = h.Trigger(ctx, client.ScheduleTriggerOptions{Overlap: enumspb.SCHEDULE_OVERLAP_POLICY_SKIP})
		}
		var nf *serviceerror.NotFound
		if errors.As(err, &nf) {
			return nil, newProblem(http.StatusNotFound, CodeNotFound, "the schedule does not exist yet: start a worker")
		}
		if err != nil {
			return nil, temporalUnavailable(err)
		}
		b, err := s.scheduleBody(ctx, in.ID)
		if err != nil {
			return nil, temporalUnavailable(err)
		}
		return &ScheduleOutput{Body: b}, nil
	}
}

func noteOr(note, def string) string {
	if note != "" {
		return note
	}
	return def
}

// temporalUnavailable is a Temporal error as clients see it.
func temporalUnavailable(err error) error {
	var p *Problem
	if errors.As(err, &p) {
		return p
	}
	return newProblem(http.StatusServiceUnavailable, CodeUnavailable, "the workflow service did not answer; try again")
}

// rollcallWorkflowTypes are the types GET /system/workflows may filter by.
var rollcallWorkflowTypes = []string{"CameraStreamWorkflow", "CameraHealthWorkflow", "CameraReconcileWorkflow", "CameraProbeWorkflow",
	"CameraSnapshotWorkflow", "CleanupWorkflow", "DetectFrameWorkflow", "ExportWorkflow", "AttendanceCloseWorkflow",
	"FaceRegistrationWorkflow", "FaceDeletionWorkflow", "FaceRepairWorkflow", "ProviderHealthWorkflow", "OdooSyncWorkflow",
	"SystemMetricsWorkflow"}

func (s *Server) listWorkflows(ctx context.Context, in *WorkflowsInput) (*WorkflowsOutput, error) {
	if in.Type != "" && !slices.Contains(rollcallWorkflowTypes, in.Type) {
		return nil, fieldError("query.type", "is not one of Rollcall's workflow types: "+strings.Join(rollcallWorkflowTypes, ", "), in.Type)
	}
	var q []string
	if in.Type != "" {
		q = append(q, fmt.Sprintf("WorkflowType = '%s'", in.Type)) // from the fixed list above
	}
	if in.Status == "failed" {
		since := s.now().Add(-24 * time.Hour).UTC().Format(time.RFC3339)
		q = append(q, "ExecutionStatus = 'Failed'", fmt.Sprintf("CloseTime > '%s'", since))
	} else {
		q = append(q, "ExecutionStatus = 'Running'")
	}
	resp, err := s.temporal.ListWorkflow(ctx, &workflowservice.ListWorkflowExecutionsRequest{
		Query: strings.Join(q, " AND "), PageSize: int32(in.Limit)})
	if err != nil {
		return nil, temporalUnavailable(err)
	}
	out := &WorkflowsOutput{}
	out.Body.Items = []WorkflowBody{}
	for _, e := range resp.GetExecutions() {
		b := WorkflowBody{WorkflowID: e.GetExecution().GetWorkflowId(), RunID: e.GetExecution().GetRunId(), Type: e.GetType().GetName(),
			Status:    strings.ToLower(strings.TrimPrefix(e.GetStatus().String(), "WORKFLOW_EXECUTION_STATUS_")),
			StartedAt: e.GetStartTime().AsTime(), TaskQueue: e.GetTaskQueue()}
		if e.GetCloseTime() != nil {
			t := e.GetCloseTime().AsTime()
			b.ClosedAt = &t
		}
		out.Body.Items = append(out.Body.Items, b)
		if len(out.Body.Items) == in.Limit {
			break
		}
	}
	return out, nil
}
