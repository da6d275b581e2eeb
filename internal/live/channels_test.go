package live_test

import (
	"testing"

	"github.com/rollcall/rollcall/internal/auth"
	"github.com/rollcall/rollcall/internal/live"
)

const (
	camID  = "3f2b8c1e-9a4d-4e6f-8b1a-2c3d4e5f6a7b"
	userID = "0b7e6a52-1c1d-4b8e-9d55-5f0e3c2a9b10"
)

func TestChannelPermission(t *testing.T) {
	tests := []struct {
		channel   string
		wantPerm  auth.Permission
		wantOwner string
		wantOK    bool
	}{
		{"detections", auth.PermDetectionsRead, "", true},
		{"detections:" + camID, auth.PermDetectionsRead, "", true},
		{"cameras", auth.PermCamerasRead, "", true},
		{"attendance", auth.PermAttendanceRead, "", true},
		{"alerts", auth.PermAlertsRead, "", true},
		{"notifications:" + userID, auth.PermAccountSelf, userID, true},

		{"", "", "", false},
		{"notifications", "", "", false},                                   // only per user
		{"cameras:" + camID, "", "", false},                                // no per-camera camera channel
		{"attendance:" + camID, "", "", false},                             // no per-id attendance channel
		{"detections:", "", "", false},                                     // empty id
		{"detections:42", "", "", false},                                   // not a UUID
		{"detections:" + camID + "x", "", "", false},                       // too long
		{"detections:3F2B8C1E-9A4D-4E6F-8B1A-2C3D4E5F6A7B", "", "", false}, // ids are lowercase
		{"detections:3f2b8c1e_9a4d_4e6f_8b1a_2c3d4e5f6a7b", "", "", false},
		{"detections:" + camID + ":extra", "", "", false},
		{"Detections", "", "", false},
		{"audit", "", "", false},
		{"*", "", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.channel, func(t *testing.T) {
			perm, owner, ok := live.ChannelPermission(tt.channel)
			if perm != tt.wantPerm || owner != tt.wantOwner || ok != tt.wantOK {
				t.Errorf("ChannelPermission(%q) = %q, %q, %v; want %q, %q, %v", tt.channel, perm, owner, ok, tt.wantPerm, tt.wantOwner, tt.wantOK)
			}
			if got := live.ValidChannel(tt.channel); got != tt.wantOK {
				t.Errorf("ValidChannel(%q) = %v, want %v", tt.channel, got, tt.wantOK)
			}
		})
	}
}

func TestCanSubscribe(t *testing.T) {
	other := "9c1d2e3f-4a5b-4c6d-8e7f-0a1b2c3d4e5f"
	viewer := &auth.Principal{UserID: userID, Role: auth.RoleViewer}
	admin := &auth.Principal{UserID: other, Role: auth.RoleAdmin}
	tests := []struct {
		who     *auth.Principal
		channel string
		want    bool
	}{
		{viewer, "detections", true},
		{viewer, "detections:" + camID, true},
		{viewer, "cameras", true},
		{viewer, "attendance", true},
		{viewer, "alerts", true},
		{viewer, "notifications:" + userID, true},
		{viewer, "notifications:" + other, false}, // someone else's notifications
		{admin, "notifications:" + userID, false}, // even an admin's role does not open them
		{admin, "notifications:" + other, true},
		{viewer, "bogus", false},
		{&auth.Principal{UserID: userID, Role: "unknown"}, "cameras", false},
		{nil, "cameras", false},
	}
	for _, tt := range tests {
		role := "nobody"
		if tt.who != nil {
			role = string(tt.who.Role)
		}
		if got := live.CanSubscribe(tt.who, tt.channel); got != tt.want {
			t.Errorf("CanSubscribe(%s, %q) = %v, want %v", role, tt.channel, got, tt.want)
		}
	}
}
