package testenv

import (
	"context"
	"errors"
	"os"
	"strings"
	"testing"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"
	"google.golang.org/protobuf/types/known/durationpb"
)

// TemporalNamespace makes sure the namespace exists on the stack's Temporal
// server (registering it on first use, which takes a few seconds) and returns
// its name. A test package that runs workers on Rollcall's task queues uses a
// namespace of its own, so workers of other test packages (bound to other
// databases) never take its tasks. ROLLCALL_TEST_NAMESPACE_SUFFIX, when set,
// is appended to the name, so two checkouts can run the same package's tests
// against one stack at once; callers use the returned name.
func TemporalNamespace(tb testing.TB, name string) string {
	tb.Helper()
	addr := Require(tb, "ROLLCALL_TEMPORAL_ADDRESS")
	name = NamespaceName(name)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	nc, err := client.NewNamespaceClient(client.Options{HostPort: addr})
	if err != nil {
		tb.Fatalf("testenv: temporal: %v", err)
	}
	defer nc.Close()
	err = nc.Register(ctx, &workflowservice.RegisterNamespaceRequest{
		Namespace:                        name,
		Description:                      "Rollcall tests",
		WorkflowExecutionRetentionPeriod: durationpb.New(24 * time.Hour),
	})
	var exists *serviceerror.NamespaceAlreadyExists
	if err != nil && !errors.As(err, &exists) {
		tb.Fatalf("testenv: register namespace %s: %v", name, err)
	}
	c, err := client.Dial(client.Options{HostPort: addr, Namespace: name})
	if err != nil {
		tb.Fatalf("testenv: temporal: %v", err)
	}
	defer c.Close()
	// A new namespace is served once the frontend's namespace cache refreshes.
	for {
		_, err := c.DescribeTaskQueue(ctx, "rollcall-testenv-probe", enumspb.TASK_QUEUE_TYPE_WORKFLOW)
		if err == nil {
			return name
		}
		var nf *serviceerror.NamespaceNotFound
		if !errors.As(err, &nf) || ctx.Err() != nil {
			tb.Fatalf("testenv: namespace %s not served: %v", name, err)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// NamespaceName is the Temporal namespace a test package named name uses:
// name plus ROLLCALL_TEST_NAMESPACE_SUFFIX. A name that already ends in the
// suffix is returned as it is, so passing a NamespaceName result on (as to
// TemporalNamespace) does not suffix it twice.
func NamespaceName(name string) string {
	suffix := os.Getenv("ROLLCALL_TEST_NAMESPACE_SUFFIX")
	if strings.HasSuffix(name, suffix) {
		return name
	}
	return name + suffix
}
