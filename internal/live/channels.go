package live

import (
	"strings"

	"github.com/rollcall/rollcall/internal/auth"
)

// The channels a client may subscribe to. A per-resource channel is its
// family name, a colon and a lowercase UUID, e.g. "detections:<cameraId>".
const (
	ChannelDetections    = "detections"    // every camera's detections
	ChannelCameras       = "cameras"       // camera state and health changes
	ChannelAttendance    = "attendance"    // attendance logs and records
	ChannelAlerts        = "alerts"        // alerts raised and cleared
	ChannelNotifications = "notifications" // only as notifications:<userId>
)

// DetectionsChannel names the detections channel of one camera.
func DetectionsChannel(cameraID string) string { return ChannelDetections + ":" + cameraID }

// ValidChannel reports whether name is one of the channels events are
// published on: detections, detections:<cameraId>, cameras, attendance,
// alerts or notifications:<userId>, ids being lowercase UUIDs.
func ValidChannel(name string) bool {
	_, _, ok := ChannelPermission(name)
	return ok
}

// ChannelPermission tells what a subscriber of channel needs: the
// permission, and for a user's own channel the only user who may read it.
// ok is false for a name that is not a valid channel.
func ChannelPermission(channel string) (perm auth.Permission, ownerUserID string, ok bool) {
	family, id, hasID := strings.Cut(channel, ":")
	if hasID && !isUUID(id) {
		return "", "", false
	}
	switch {
	case family == ChannelDetections:
		return auth.PermDetectionsRead, "", true
	case family == ChannelCameras && !hasID:
		return auth.PermCamerasRead, "", true
	case family == ChannelAttendance && !hasID:
		return auth.PermAttendanceRead, "", true
	case family == ChannelAlerts && !hasID:
		return auth.PermAlertsRead, "", true
	case family == ChannelNotifications && hasID:
		return auth.PermAccountSelf, id, true
	}
	return "", "", false
}

// CanSubscribe reports whether p may receive the events of channel.
func CanSubscribe(p *auth.Principal, channel string) bool {
	perm, owner, ok := ChannelPermission(channel)
	return ok && p.Can(perm) && (owner == "" || owner == p.UserID)
}

// parentChannel is the channel that also receives channel's events:
// "detections" for "detections:<cameraId>", "" otherwise.
func parentChannel(channel string) string {
	if family, _, ok := strings.Cut(channel, ":"); ok && family == ChannelDetections {
		return ChannelDetections
	}
	return ""
}

// isUUID reports whether s is a UUID in its canonical lowercase form.
func isUUID(s string) bool {
	if len(s) != 36 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch i {
		case 8, 13, 18, 23:
			if c != '-' {
				return false
			}
		default:
			if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
				return false
			}
		}
	}
	return true
}
