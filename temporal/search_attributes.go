package temporal

import (
	"context"
	"fmt"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/operatorservice/v1"
	"go.temporal.io/sdk/client"

	"github.com/rollcall/rollcall/workflows"
)

// HasSearchAttributes reports whether namespace has every search
// attribute Rollcall's workflows record.
func HasSearchAttributes(ctx context.Context, c client.Client, namespace string) (bool, error) {
	missing, err := missingSearchAttributes(ctx, c, namespace)
	return err == nil && len(missing) == 0, err
}

// EnsureSearchAttributes registers Rollcall's search attributes in
// namespace when they are missing. On a server that does not let this
// client add them, it fails: an operator registers them (docs/odoo.md)
// and the workflows run without them meanwhile.
func EnsureSearchAttributes(ctx context.Context, c client.Client, namespace string) error {
	missing, err := missingSearchAttributes(ctx, c, namespace)
	if err != nil || len(missing) == 0 {
		return err
	}
	if _, err := c.OperatorService().AddSearchAttributes(ctx, &operatorservice.AddSearchAttributesRequest{
		SearchAttributes: missing, Namespace: namespace}); err != nil {
		return fmt.Errorf("temporal: register search attributes: %w", err)
	}
	return nil
}

func missingSearchAttributes(ctx context.Context, c client.Client, namespace string) (map[string]enumspb.IndexedValueType, error) {
	resp, err := c.OperatorService().ListSearchAttributes(ctx, &operatorservice.ListSearchAttributesRequest{Namespace: namespace})
	if err != nil {
		return nil, fmt.Errorf("temporal: list search attributes: %w", err)
	}
	missing := map[string]enumspb.IndexedValueType{}
	for _, k := range workflows.OdooSearchAttributes() {
		if _, ok := resp.GetCustomAttributes()[k.GetName()]; !ok {
			missing[k.GetName()] = k.GetValueType()
		}
	}
	return missing, nil
}
