package ffmpeg

import "strings"

// tailBuffer keeps the last max bytes written to it (holding at most twice
// that): a long-running FFmpeg's last words, which say why it stopped,
// matter more than its first.
type tailBuffer struct {
	buf     []byte
	max     int
	dropped bool
}

func (b *tailBuffer) Write(p []byte) (int, error) {
	n := len(p)
	if len(p) > b.max {
		p, b.dropped = p[len(p)-b.max:], true
	}
	b.buf = append(b.buf, p...)
	if len(b.buf) > 2*b.max {
		b.buf, b.dropped = append(b.buf[:0], b.buf[len(b.buf)-b.max:]...), true
	}
	return n, nil
}

// String returns the kept output from its first whole line: a line cut by
// the cap could hold part of a URL's credentials that scrub cannot match.
func (b *tailBuffer) String() string {
	s := string(b.buf)
	if b.dropped {
		_, s, _ = strings.Cut(s, "\n")
	}
	return s
}

// lastLines returns the whole lines at the end of s that fit in n bytes, or
// the last line alone when it is longer than n.
func lastLines(s string, n int) string {
	if len(s) <= n {
		return s
	}
	if i := strings.IndexByte(s[len(s)-n:], '\n'); i >= 0 && i < n-1 {
		return s[len(s)-n+i+1:]
	}
	if i := strings.LastIndexByte(strings.TrimRight(s, "\n"), '\n'); i >= 0 {
		return s[i+1:]
	}
	return s
}
