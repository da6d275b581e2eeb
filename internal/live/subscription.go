package live

import (
	"slices"
	"sync"
)

// Subscription receives the messages of a set of channels through a
// bounded buffer. It ends when closed, when its reader falls BufferSize
// messages behind, or when the hub stops; C is then closed and Err says why.
type Subscription struct {
	hub      *Hub
	ch       chan Message
	channels map[string]struct{} // guarded by hub.mu

	mu     sync.Mutex // guards ch sends and closing, and err
	closed bool
	err    error
}

// C delivers the subscription's messages; it is closed when the
// subscription ends.
func (s *Subscription) C() <-chan Message { return s.ch }

// Err is nil while the subscription is open, then ErrClosed,
// ErrSlowConsumer or ErrHubStopped.
func (s *Subscription) Err() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.err
}

// Subscribe adds channels to the subscription; it does nothing once the
// subscription has ended.
func (s *Subscription) Subscribe(channels ...string) {
	h := s.hub
	h.mu.Lock()
	defer h.mu.Unlock()
	if s.Err() != nil {
		return
	}
	for _, c := range channels {
		set := h.subs[c]
		if set == nil {
			set = make(map[*Subscription]struct{})
			h.subs[c] = set
		}
		set[s] = struct{}{}
		s.channels[c] = struct{}{}
	}
}

// Unsubscribe removes channels from the subscription.
func (s *Subscription) Unsubscribe(channels ...string) {
	h := s.hub
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, c := range channels {
		s.remove(c)
	}
}

// Channels returns the subscribed channels, sorted.
func (s *Subscription) Channels() []string {
	s.hub.mu.RLock()
	defer s.hub.mu.RUnlock()
	out := make([]string, 0, len(s.channels))
	for c := range s.channels {
		out = append(out, c)
	}
	slices.Sort(out)
	return out
}

// Close ends the subscription with ErrClosed. Closing twice is harmless.
func (s *Subscription) Close() { s.end(ErrClosed) }

// offer queues m without blocking; it reports false when the buffer is full.
func (s *Subscription) offer(m Message) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return true
	}
	select {
	case s.ch <- m:
		return true
	default:
		return false
	}
}

// end closes the subscription with reason err, unless it has ended already.
func (s *Subscription) end(err error) {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return
	}
	s.closed, s.err = true, err
	close(s.ch)
	s.mu.Unlock()

	h := s.hub
	h.mu.Lock()
	defer h.mu.Unlock()
	delete(h.all, s)
	for c := range s.channels {
		s.remove(c)
	}
}

// remove drops channel c; the caller holds hub.mu.
func (s *Subscription) remove(c string) {
	delete(s.channels, c)
	if set := s.hub.subs[c]; set != nil {
		delete(set, s)
		if len(set) == 0 {
			delete(s.hub.subs, c)
		}
	}
}
