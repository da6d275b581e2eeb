package store

// Following reports whether versions are being followed by notification
// (as opposed to read per request).
func (w *VersionWatcher) Following() bool {
	w.mu.RLock()
	defer w.mu.RUnlock()
	return w.live
}
