package auth

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"
)

// TestHashingIsBounded: however many hashes are asked for at once, at most
// HashingSlots argon2 runs (19 MiB each) are in progress together.
func TestHashingIsBounded(t *testing.T) {
	hashingPeak.Store(0)
	var wg sync.WaitGroup
	for range 4 * HashingSlots() {
		wg.Go(func() {
			if _, err := HashPassword("a-long-enough-password"); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if p := hashingPeak.Load(); p > int32(HashingSlots()) || p < 1 {
		t.Fatalf("peak %d hashes at once, want 1..%d", p, HashingSlots())
	}
}

// TestHashingWaitEndsWithTheContext: when every slot is busy, a caller
// waits for one only as long as its context lives, and gets the context's
// error (not a mismatch); once a slot frees up, hashing goes on.
func TestHashingWaitEndsWithTheContext(t *testing.T) {
	encoded, err := HashPassword("a-long-enough-password")
	if err != nil {
		t.Fatal(err)
	}
	for range HashingSlots() { // every slot taken, as by a flood of sign-ins
		hashing <- struct{}{}
	}
	freed := false
	free := func() {
		if !freed {
			freed = true
			for range HashingSlots() {
				<-hashing
			}
		}
	}
	defer free()

	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	start := time.Now()
	err = VerifyPasswordContext(ctx, encoded, "a-long-enough-password")
	if !errors.Is(err, context.DeadlineExceeded) || errors.Is(err, ErrPasswordMismatch) {
		t.Fatalf("verify with every slot busy: %v, want the context's deadline", err)
	}
	if took := time.Since(start); took > 2*time.Second {
		t.Fatalf("gave up after %v, want about 100ms", took)
	}
	hctx, hcancel := context.WithCancel(context.Background())
	hcancel()
	if _, err := HashPasswordContext(hctx, "a-long-enough-password"); !errors.Is(err, context.Canceled) {
		t.Fatalf("hash with every slot busy and a cancelled context: %v", err)
	}

	done := make(chan error, 1)
	go func() { done <- VerifyPasswordContext(context.Background(), encoded, "a-long-enough-password") }()
	select {
	case err := <-done:
		t.Fatalf("verify finished while every slot was busy: %v", err)
	case <-time.After(100 * time.Millisecond):
	}
	free()
	if err := <-done; err != nil {
		t.Fatalf("verify once slots are free: %v", err)
	}
}

// HashingSlots is how many password hashes may run at once.
func HashingSlots() int { return cap(hashing) }
