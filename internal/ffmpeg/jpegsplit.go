package ffmpeg

import (
	"bufio"
	"errors"
	"io"
)

var (
	// errFrameTooLarge means one JPEG in a stream exceeded its size limit.
	errFrameTooLarge = errors.New("ffmpeg: JPEG frame exceeds the size limit")
	// errNotJPEG means a stream held data that cannot be split into JPEGs.
	errNotJPEG = errors.New("ffmpeg: malformed JPEG stream")
)

// jpegReader splits a stream of concatenated JPEGs, such as FFmpeg's
// image2pipe output, into frames. It parses each frame's marker segments up
// to the start of scan and then scans the entropy-coded data, where 0xFF is
// always followed by a stuffed 0x00, a restart marker or the next marker, so
// bytes that merely look like an EOI inside a header cannot end a frame
// early.
type jpegReader struct {
	r     *bufio.Reader
	max   int    // largest frame accepted
	frame []byte // the frame being read
	hint  int    // size of the previous frame, to size the next buffer
}

func newJPEGReader(r io.Reader, maxFrame int) *jpegReader {
	return &jpegReader{r: bufio.NewReaderSize(r, 64<<10), max: maxFrame}
}

// Next returns the next JPEG, SOI through EOI, in a slice the caller owns.
// Bytes before a frame's SOI are skipped. It returns io.EOF when the stream
// ends between frames, io.ErrUnexpectedEOF when it ends inside one,
// errFrameTooLarge when a frame passes the limit, errNotJPEG for a malformed
// frame or more junk than the limit before one, or the reader's error.
func (j *jpegReader) Next() ([]byte, error) {
	if err := j.skipToSOI(); err != nil {
		return nil, err
	}
	j.frame = make([]byte, 0, min(max(j.hint+j.hint/4, 4<<10), j.max))
	j.frame = append(j.frame, 0xFF, 0xD8)
	marker, err := j.readMarker()
	for err == nil {
		switch {
		case marker == 0xD9: // EOI
			frame := j.frame
			j.frame, j.hint = nil, len(frame)
			return frame, nil
		case marker == 0xD8:
			return nil, errNotJPEG
		case marker == 0x01 || marker >= 0xD0 && marker <= 0xD7: // TEM, RSTn: no length
			marker, err = j.readMarker()
		default:
			if err = j.readSegment(); err != nil {
				break
			}
			if marker == 0xDA { // SOS: entropy-coded data follows
				marker, err = j.scanEntropy()
			} else {
				marker, err = j.readMarker()
			}
		}
	}
	j.frame = nil
	if err == io.EOF {
		err = io.ErrUnexpectedEOF
	}
	return nil, err
}

// skipToSOI discards bytes up to and including the next FF D8.
func (j *jpegReader) skipToSOI() error {
	skipped := 0
	for {
		b, err := j.r.ReadByte()
		if err != nil {
			return err
		}
		if b != 0xFF {
			if skipped++; skipped > j.max {
				return errNotJPEG
			}
			continue
		}
		next, err := j.r.Peek(1)
		if err != nil {
			return err
		}
		if next[0] == 0xD8 {
			_, _ = j.r.ReadByte()
			return nil
		}
		skipped++
	}
}

// readMarker reads a marker (FF, optional FF fill bytes, code) into the frame
// and returns its code.
func (j *jpegReader) readMarker() (byte, error) {
	b, err := j.r.ReadByte()
	if err != nil {
		return 0, err
	}
	if b != 0xFF {
		return 0, errNotJPEG
	}
	return j.readMarkerCode()
}

// readMarkerCode reads what follows a marker's first FF: fill bytes, then
// the code.
func (j *jpegReader) readMarkerCode() (byte, error) {
	if err := j.add(0xFF); err != nil {
		return 0, err
	}
	for {
		b, err := j.r.ReadByte()
		if err != nil {
			return 0, err
		}
		if err := j.add(b); err != nil {
			return 0, err
		}
		if b != 0xFF {
			return b, nil
		}
	}
}

// readSegment reads a marker segment's length and payload into the frame.
func (j *jpegReader) readSegment() error {
	var l [2]byte
	if _, err := io.ReadFull(j.r, l[:]); err != nil {
		return err
	}
	n := int(l[0])<<8 | int(l[1])
	if n < 2 {
		return errNotJPEG
	}
	if err := j.add(l[:]...); err != nil {
		return err
	}
	if err := j.grow(n - 2); err != nil {
		return err
	}
	start := len(j.frame)
	j.frame = j.frame[:start+n-2]
	_, err := io.ReadFull(j.r, j.frame[start:])
	return err
}

// scanEntropy copies entropy-coded data into the frame up to the next marker
// other than a stuffed byte or restart marker, and returns that marker's code.
func (j *jpegReader) scanEntropy() (byte, error) {
	for {
		chunk, err := j.r.ReadSlice(0xFF)
		if err == bufio.ErrBufferFull {
			if err := j.add(chunk...); err != nil {
				return 0, err
			}
			continue
		}
		if err != nil {
			return 0, err
		}
		if err := j.add(chunk[:len(chunk)-1]...); err != nil {
			return 0, err
		}
		code, err := j.readMarkerCode()
		if err != nil {
			return 0, err
		}
		if code != 0x00 && (code < 0xD0 || code > 0xD7) {
			return code, nil
		}
	}
}

// add appends p to the frame within the size limit.
func (j *jpegReader) add(p ...byte) error {
	if err := j.grow(len(p)); err != nil {
		return err
	}
	j.frame = append(j.frame, p...)
	return nil
}

// grow makes room for n more bytes, never past the size limit: the buffer's
// capacity stays within max, whatever the input.
func (j *jpegReader) grow(n int) error {
	need := len(j.frame) + n
	if need > j.max {
		return errFrameTooLarge
	}
	if need <= cap(j.frame) {
		return nil
	}
	grown := make([]byte, len(j.frame), min(max(2*cap(j.frame), need), j.max))
	copy(grown, j.frame)
	j.frame = grown
	return nil
}
