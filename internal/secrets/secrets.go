// Package secrets encrypts credentials Rollcall stores (camera passwords,
// provider keys) with AES-256-GCM.
//
// A sealed value is "v1:" followed by base64 of nonce||ciphertext. Sealing
// binds the value to an AAD string (the row's ID), so a ciphertext copied into
// another row does not open.
package secrets

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
)

// KeySize is the length of a Box key in bytes.
const KeySize = 32

// prefix marks the format of a sealed value.
const prefix = "v1:"

// ErrDecrypt means a sealed value could not be opened: wrong key or AAD,
// tampering, truncation or an unknown format. It says nothing more, by design.
var ErrDecrypt = errors.New("secrets: cannot decrypt")

// Box seals and opens values with one AES-256-GCM key. It is safe for
// concurrent use.
type Box struct {
	aead cipher.AEAD
}

// NewBox returns a Box for a key of exactly KeySize bytes.
func NewBox(key []byte) (*Box, error) {
	if len(key) != KeySize {
		return nil, fmt.Errorf("secrets: key must be %d bytes, got %d", KeySize, len(key))
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, fmt.Errorf("secrets: %w", err)
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, fmt.Errorf("secrets: %w", err)
	}
	return &Box{aead: aead}, nil
}

// Seal encrypts plaintext bound to aad with a fresh random nonce and returns
// "v1:" + base64(nonce||ciphertext).
func (b *Box) Seal(plaintext []byte, aad string) (string, error) {
	nonce := make([]byte, b.aead.NonceSize(), b.aead.NonceSize()+len(plaintext)+b.aead.Overhead())
	if _, err := rand.Read(nonce); err != nil {
		return "", fmt.Errorf("secrets: nonce: %w", err)
	}
	out := b.aead.Seal(nonce, nonce, plaintext, []byte(aad))
	return prefix + base64.StdEncoding.EncodeToString(out), nil
}

// Open decrypts a value from Seal with the same aad. Every failure is
// ErrDecrypt.
func (b *Box) Open(sealed, aad string) ([]byte, error) {
	body, ok := strings.CutPrefix(sealed, prefix)
	if !ok {
		return nil, ErrDecrypt
	}
	raw, err := base64.StdEncoding.Strict().DecodeString(body)
	if err != nil || len(raw) < b.aead.NonceSize()+b.aead.Overhead() {
		return nil, ErrDecrypt
	}
	n := b.aead.NonceSize()
	plaintext, err := b.aead.Open(nil, raw[:n], raw[n:], []byte(aad))
	if err != nil {
		return nil, ErrDecrypt
	}
	return plaintext, nil
}
