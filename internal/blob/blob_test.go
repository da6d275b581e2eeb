package blob

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"io"
	"net/http"
	"os"
	"strings"
	"testing"
	"testing/iotest"
	"time"

	"github.com/rollcall/rollcall/internal/testenv"
)

// mustStore returns the stack's store (bucket ensured) and a key prefix unique
// to the test, emptied when the test ends.
func mustStore(tb testing.TB) (*Store, string) {
	tb.Helper()
	s, err := New(Options{
		Endpoint:  testenv.Require(tb, "ROLLCALL_S3_ENDPOINT"),
		AccessKey: os.Getenv("ROLLCALL_S3_ACCESS_KEY"),
		SecretKey: os.Getenv("ROLLCALL_S3_SECRET_KEY"),
		Bucket:    testenv.Require(tb, "ROLLCALL_S3_BUCKET"),
		UseSSL:    os.Getenv("ROLLCALL_S3_USE_SSL") == "true",
	})
	if err != nil {
		tb.Fatal(err)
	}
	ctx := context.Background()
	if err := s.EnsureBucket(ctx); err != nil {
		tb.Fatal(err)
	}
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	prefix := "blobtest/" + hex.EncodeToString(b) + "/"
	tb.Cleanup(func() {
		if _, err := s.DeletePrefix(context.Background(), prefix); err != nil {
			tb.Errorf("cleanup: %v", err)
		}
	})
	return s, prefix
}

func mustPut(tb testing.TB, s *Store, key string, data []byte) {
	tb.Helper()
	if err := s.Put(context.Background(), key, bytes.NewReader(data), int64(len(data)), "application/octet-stream"); err != nil {
		tb.Fatal(err)
	}
}

func mustRead(tb testing.TB, s *Store, key string) []byte {
	tb.Helper()
	rc, err := s.Get(context.Background(), key)
	if err != nil {
		tb.Fatal(err)
	}
	defer rc.Close()
	b, err := io.ReadAll(rc)
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

func TestPutStatGet(t *testing.T) {
	s, prefix := mustStore(t)
	ctx := context.Background()
	data := bytes.Repeat([]byte("rollcall snapshot "), 1000)

	tests := []struct {
		name, key, contentType string
		size                   int64
		wantType               string
	}{
		{"known size", prefix + "known.jpg", "image/jpeg", int64(len(data)), "image/jpeg"},
		{"unknown size", prefix + "stream.bin", "", -1, "application/octet-stream"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := time.Now().Add(-time.Minute)
			// OneByteReader proves Put streams from a plain io.Reader.
			if err := s.Put(ctx, tt.key, iotest.OneByteReader(bytes.NewReader(data)), tt.size, tt.contentType); err != nil {
				t.Fatal(err)
			}
			info, err := s.Stat(ctx, tt.key)
			if err != nil {
				t.Fatal(err)
			}
			if info.Size != int64(len(data)) || info.ContentType != tt.wantType || info.LastModified.Before(before) {
				t.Fatalf("Stat = %+v, want size %d, type %s, recent", info, len(data), tt.wantType)
			}
			if got := mustRead(t, s, tt.key); !bytes.Equal(got, data) {
				t.Fatalf("Get returned %d bytes that differ from the %d put", len(got), len(data))
			}
		})
	}
}

func TestMissingObject(t *testing.T) {
	s, prefix := mustStore(t)
	ctx := context.Background()
	if _, err := s.Get(ctx, prefix+"missing"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("Get: err = %v, want ErrNotFound", err)
	}
	if _, err := s.Stat(ctx, prefix+"missing"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("Stat: err = %v, want ErrNotFound", err)
	}
	if err := s.Delete(ctx, prefix+"missing"); err != nil {
		t.Fatalf("Delete of a missing key: %v", err)
	}
}

func TestPresignGet(t *testing.T) {
	s, prefix := mustStore(t)
	ctx := context.Background()
	key := prefix + "export.csv"
	data := []byte("employee,in,out\nada,08:00,17:00\n")
	mustPut(t, s, key, data)

	t.Run("downloads with a filename", func(t *testing.T) {
		u, err := s.PresignGet(ctx, key, time.Minute, "attendance März.csv")
		if err != nil {
			t.Fatal(err)
		}
		resp, err := http.Get(u)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != http.StatusOK || !bytes.Equal(body, data) {
			t.Fatalf("GET = %d %q, want 200 with the object", resp.StatusCode, body)
		}
		cd := resp.Header.Get("Content-Disposition")
		if !strings.HasPrefix(cd, "attachment;") || !strings.Contains(cd, "attendance") {
			t.Fatalf("Content-Disposition = %q", cd)
		}
	})

	t.Run("expires", func(t *testing.T) {
		u, err := s.PresignGet(ctx, key, time.Second, "")
		if err != nil {
			t.Fatal(err)
		}
		time.Sleep(2100 * time.Millisecond)
		resp, err := http.Get(u)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusForbidden {
			t.Fatalf("GET after expiry = %d, want 403", resp.StatusCode)
		}
	})

	t.Run("bad expiry", func(t *testing.T) {
		for _, d := range []time.Duration{0, 500 * time.Millisecond, 8 * 24 * time.Hour} {
			if _, err := s.PresignGet(ctx, key, d, ""); err == nil {
				t.Errorf("expiry %v accepted", d)
			}
		}
	})
}

func TestDelete(t *testing.T) {
	s, prefix := mustStore(t)
	key := prefix + "face.jpg"
	mustPut(t, s, key, []byte("jpeg"))
	if err := s.Delete(context.Background(), key); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Stat(context.Background(), key); !errors.Is(err, ErrNotFound) {
		t.Fatalf("after Delete, Stat err = %v, want ErrNotFound", err)
	}
}

func TestDeletePrefixRemovesOnlyThatPrefix(t *testing.T) {
	s, prefix := mustStore(t)
	ctx := context.Background()
	doomed := []string{"cameras/1/a.jpg", "cameras/1/b.jpg", "cameras/1/deep/c.jpg"}
	kept := []string{"cameras/10/a.jpg", "cameras/2/a.jpg", "faces/1/a.jpg"}
	for _, k := range append(append([]string{}, doomed...), kept...) {
		mustPut(t, s, prefix+k, []byte(k))
	}
	n, err := s.DeletePrefix(ctx, prefix+"cameras/1/")
	if err != nil {
		t.Fatal(err)
	}
	if n != len(doomed) {
		t.Fatalf("DeletePrefix removed %d, want %d", n, len(doomed))
	}
	for _, k := range doomed {
		if _, err := s.Stat(ctx, prefix+k); !errors.Is(err, ErrNotFound) {
			t.Errorf("%s survived: %v", k, err)
		}
	}
	for _, k := range kept {
		if got := mustRead(t, s, prefix+k); string(got) != k {
			t.Errorf("%s changed or vanished", k)
		}
	}
	if n, err := s.DeletePrefix(ctx, prefix+"nothing/"); err != nil || n != 0 {
		t.Fatalf("DeletePrefix of an empty prefix = %d, %v", n, err)
	}
}

func TestBadKeysRefused(t *testing.T) {
	s, _ := mustStore(t)
	ctx := context.Background()
	bad := map[string]string{
		"empty":        "",
		"absolute":     "/etc/passwd",
		"dot-dot":      "cameras/../../secret",
		"too long":     strings.Repeat("k", MaxKeyLength+1),
		"not UTF-8":    "cameras/\xff.jpg",
		"control char": "cameras/a\x00.jpg",
	}
	for name, key := range bad {
		t.Run(name, func(t *testing.T) {
			calls := map[string]error{
				"Put":          s.Put(ctx, key, strings.NewReader("x"), 1, ""),
				"Delete":       s.Delete(ctx, key),
				"DeletePrefix": func() error { _, err := s.DeletePrefix(ctx, key); return err }(),
				"Get":          func() error { _, err := s.Get(ctx, key); return err }(),
				"Stat":         func() error { _, err := s.Stat(ctx, key); return err }(),
				"PresignGet":   func() error { _, err := s.PresignGet(ctx, key, time.Minute, ""); return err }(),
			}
			for op, err := range calls {
				if !errors.Is(err, ErrInvalidKey) {
					t.Errorf("%s(%q): err = %v, want ErrInvalidKey", op, key, err)
				}
			}
		})
	}
	if err := validateKey(strings.Repeat("k", MaxKeyLength)); err != nil {
		t.Fatalf("a key of exactly %d bytes was refused: %v", MaxKeyLength, err)
	}
}
