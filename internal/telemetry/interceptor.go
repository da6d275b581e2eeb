package telemetry

import (
	"errors"

	"go.temporal.io/sdk/interceptor"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"
)

// Workflow outcomes of WorkflowDone.
const (
	OutcomeCompleted      = "completed"
	OutcomeFailed         = "failed"
	OutcomeCanceled       = "canceled"
	OutcomeContinuedAsNew = "continued_as_new"
)

// Interceptor counts workflow outcomes on the worker it is given to
// (worker.Options.Interceptors). A run is counted when its code returns
// outside replay, so a run replayed to answer a query, or after the
// worker's cache evicted it, is not counted twice.
func (m *Metrics) Interceptor() interceptor.WorkerInterceptor {
	return &workerInterceptor{m: m}
}

type workerInterceptor struct {
	interceptor.WorkerInterceptorBase
	m *Metrics
}

func (w *workerInterceptor) InterceptWorkflow(ctx workflow.Context, next interceptor.WorkflowInboundInterceptor) interceptor.WorkflowInboundInterceptor {
	i := &workflowInbound{m: w.m}
	i.Next = next
	return i
}

type workflowInbound struct {
	interceptor.WorkflowInboundInterceptorBase
	m *Metrics
}

func (i *workflowInbound) ExecuteWorkflow(ctx workflow.Context, in *interceptor.ExecuteWorkflowInput) (any, error) {
	res, err := i.Next.ExecuteWorkflow(ctx, in)
	if !workflow.IsReplaying(ctx) {
		i.m.WorkflowDone(workflow.GetInfo(ctx).WorkflowType.Name, Outcome(err))
	}
	return res, err
}

// Outcome names how a workflow run ended from its error.
func Outcome(err error) string {
	var can *temporal.CanceledError
	switch {
	case err == nil:
		return OutcomeCompleted
	case workflow.IsContinueAsNewError(err):
		return OutcomeContinuedAsNew
	case errors.As(err, &can):
		return OutcomeCanceled
	}
	return OutcomeFailed
}
