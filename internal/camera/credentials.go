package camera

import (
	"encoding/json"
	"fmt"

	"github.com/rollcall/rollcall/internal/secrets"
)

// sealedCredentials is the plaintext form of a camera's stored credentials.
type sealedCredentials struct {
	Username string `json:"u"`
	Password string `json:"p"`
}

// SealCredentials encrypts a camera's username and password, bound to the
// camera's ID; empty credentials seal to "".
func SealCredentials(box *secrets.Box, cameraID, username, password string) (string, error) {
	if username == "" && password == "" {
		return "", nil
	}
	b, err := json.Marshal(sealedCredentials{Username: username, Password: password})
	if err != nil {
		return "", err
	}
	s, err := box.Seal(b, "camera:"+cameraID)
	if err != nil {
		return "", fmt.Errorf("camera: seal credentials: %w", err)
	}
	return s, nil
}

// OpenCredentials decrypts what SealCredentials produced for the same camera.
func OpenCredentials(box *secrets.Box, cameraID, sealed string) (username, password string, err error) {
	if sealed == "" {
		return "", "", nil
	}
	b, err := box.Open(sealed, "camera:"+cameraID)
	if err != nil {
		return "", "", fmt.Errorf("camera: open credentials: %w", err)
	}
	var c sealedCredentials
	if err := json.Unmarshal(b, &c); err != nil {
		return "", "", fmt.Errorf("camera: decode credentials: %w", err)
	}
	return c.Username, c.Password, nil
}
