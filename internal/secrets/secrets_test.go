package secrets

import (
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"strings"
	"testing"
)

func mustBox(tb testing.TB) *Box {
	tb.Helper()
	key := make([]byte, KeySize)
	if _, err := rand.Read(key); err != nil {
		tb.Fatal(err)
	}
	b, err := NewBox(key)
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

func TestRoundTrip(t *testing.T) {
	b := mustBox(t)
	for _, plain := range [][]byte{[]byte("campass"), {}, bytes.Repeat([]byte{0, 0xff}, 5000)} {
		sealed, err := b.Seal(plain, "cam_123")
		if err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(sealed, "v1:") {
			t.Fatalf("sealed %q lacks the v1: prefix", sealed)
		}
		got, err := b.Open(sealed, "cam_123")
		if err != nil {
			t.Fatalf("Open: %v", err)
		}
		if !bytes.Equal(got, plain) {
			t.Fatalf("round trip changed the value")
		}
	}
}

func TestSealHidesPlaintextAndVaries(t *testing.T) {
	b := mustBox(t)
	const secret = "super-secret-camera-password"
	s1, _ := b.Seal([]byte(secret), "row")
	s2, _ := b.Seal([]byte(secret), "row")
	if s1 == s2 {
		t.Fatal("two seals of the same value are identical (nonce reused?)")
	}
	for _, s := range []string{s1, s2} {
		if strings.Contains(s, secret) || strings.Contains(s, base64.StdEncoding.EncodeToString([]byte(secret))) {
			t.Fatalf("sealed value %q reveals the plaintext", s)
		}
	}
}

func TestOpenFailures(t *testing.T) {
	b := mustBox(t)
	sealed, err := b.Seal([]byte("campass"), "cam_1")
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := base64.StdEncoding.DecodeString(strings.TrimPrefix(sealed, "v1:"))
	flip := func(i int) string {
		c := bytes.Clone(raw)
		c[i] ^= 0x01
		return "v1:" + base64.StdEncoding.EncodeToString(c)
	}
	tests := []struct {
		name   string
		box    *Box
		sealed string
		aad    string
	}{
		{"wrong key", mustBox(t), sealed, "cam_1"},
		{"wrong aad (another row)", b, sealed, "cam_2"},
		{"empty aad", b, sealed, ""},
		{"flipped nonce byte", b, flip(0), "cam_1"},
		{"flipped ciphertext byte", b, flip(len(raw) / 2), "cam_1"},
		{"flipped tag byte", b, flip(len(raw) - 1), "cam_1"},
		{"truncated", b, sealed[:len(sealed)-4], "cam_1"},
		{"only the nonce", b, "v1:" + base64.StdEncoding.EncodeToString(raw[:12]), "cam_1"},
		{"unknown version", b, "v2:" + strings.TrimPrefix(sealed, "v1:"), "cam_1"},
		{"no prefix", b, strings.TrimPrefix(sealed, "v1:"), "cam_1"},
		{"not base64", b, "v1:!!!", "cam_1"},
		{"empty", b, "", "cam_1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tt.box.Open(tt.sealed, tt.aad)
			if !errors.Is(err, ErrDecrypt) {
				t.Fatalf("Open = %q, %v; want ErrDecrypt", got, err)
			}
		})
	}
}

func TestKeyChecks(t *testing.T) {
	for _, n := range []int{0, 16, 31, 33, 64} {
		if _, err := NewBox(make([]byte, n)); err == nil {
			t.Errorf("NewBox accepted a %d-byte key", n)
		}
	}
}
