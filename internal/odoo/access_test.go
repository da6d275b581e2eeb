package odoo_test

import (
	"context"
	"testing"

	"github.com/rollcall/rollcall/internal/odoo"
	"github.com/rollcall/rollcall/internal/odoo/odootest"
)

// HasAccess asks check_access_rights before Odoo 18 and has_access (a
// record method, called on no records) from 18, over both protocols.
func TestHasAccessByVersion(t *testing.T) {
	for _, tc := range []struct{ version, protocol string }{
		{"17.0", odoo.ProtocolJSONRPC}, {"18.0", odoo.ProtocolJSONRPC}, {"19.0", odoo.ProtocolJSONRPC}, {"19.0", odoo.ProtocolJSON2},
	} {
		srv := odootest.New(odootest.Options{Version: tc.version})
		srv.DenyAccess("hr.attendance", "write")
		c, err := odoo.New(odoo.Config{URL: srv.URL, Database: "rollcall", Login: "rollcall-bot", APIKey: "test-api-key", Protocol: tc.protocol})
		if err != nil {
			t.Fatal(err)
		}
		ctx := context.Background()
		if ok, err := c.HasAccess(ctx, "hr.attendance", "create"); !ok || err != nil {
			t.Errorf("%s %s: create: %v %v", tc.version, tc.protocol, ok, err)
		}
		if ok, err := c.HasAccess(ctx, "hr.attendance", "write"); ok || err != nil {
			t.Errorf("%s %s: denied write: %v %v", tc.version, tc.protocol, ok, err)
		}
		srv.Close()
	}
}
