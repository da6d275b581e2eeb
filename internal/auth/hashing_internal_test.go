package auth

import (
	"sync"
	"testing"
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
