package temporal

import (
	"context"
	"fmt"
	"log/slog"

	"go.temporal.io/sdk/client"
	tlog "go.temporal.io/sdk/log"
)

// Options configure the Temporal client.
type Options struct {
	Address   string
	Namespace string
	Log       *slog.Logger
}

// NewClient returns a lazily connecting Temporal client: the API can start
// (and report Temporal as down on /health/ready) while Temporal is away.
func NewClient(o Options) (client.Client, error) {
	c, err := client.NewLazyClient(client.Options{
		HostPort:  o.Address,
		Namespace: o.Namespace,
		Logger:    tlog.NewStructuredLogger(o.Log.With(slog.String("component", "temporal"))),
	})
	if err != nil {
		return nil, fmt.Errorf("temporal: client: %w", err)
	}
	return c, nil
}

// CheckHealth reports whether the Temporal frontend answers.
func CheckHealth(ctx context.Context, c client.Client) error {
	if _, err := c.CheckHealth(ctx, &client.CheckHealthRequest{}); err != nil {
		return fmt.Errorf("temporal: health: %w", err)
	}
	return nil
}
