// Package exif reads the one EXIF field a face photo needs, its
// orientation, and shows a picture the way it says: phones store the
// picture as the sensor saw it and record in this tag how to turn it, and
// a browser shows it turned, so a photo people see upright may be stored on
// its side, where a face detector finds nothing and boxes land elsewhere.
package exif

import (
	"encoding/binary"
	"image"
	"image/color"
)

// Orientation is the EXIF orientation (1–8) a JPEG's APP1 segment
// records, or 1 when data is not a JPEG, has no orientation or it cannot
// be read.
func Orientation(data []byte) int {
	if len(data) < 4 || data[0] != 0xFF || data[1] != 0xD8 {
		return 1
	}
	for i := 2; i+4 <= len(data); {
		if data[i] != 0xFF {
			return 1
		}
		marker := data[i+1]
		switch {
		case marker == 0xFF: // fill byte
			i++
			continue
		case marker == 0xD8 || marker == 0x01 || (marker >= 0xD0 && marker <= 0xD7):
			i += 2 // no length
			continue
		case marker == 0xDA || marker == 0xD9: // scan data or end: no EXIF before them
			return 1
		}
		n := int(binary.BigEndian.Uint16(data[i+2:]))
		if n < 2 || i+2+n > len(data) {
			return 1
		}
		seg := data[i+4 : i+2+n]
		if marker == 0xE1 && len(seg) >= 6 && string(seg[:6]) == "Exif\x00\x00" {
			return tiffOrientation(seg[6:])
		}
		i += 2 + n
	}
	return 1
}

// tiffOrientation reads the Orientation tag (0x0112) of a TIFF header's
// first IFD.
func tiffOrientation(t []byte) int {
	if len(t) < 8 {
		return 1
	}
	var bo binary.ByteOrder
	switch string(t[:4]) {
	case "II*\x00":
		bo = binary.LittleEndian
	case "MM\x00*":
		bo = binary.BigEndian
	default:
		return 1
	}
	ifd := int64(bo.Uint32(t[4:]))
	if ifd < 8 || ifd+2 > int64(len(t)) {
		return 1
	}
	entries := int64(bo.Uint16(t[ifd:]))
	for e := range entries {
		at := ifd + 2 + 12*e
		if at+12 > int64(len(t)) {
			return 1
		}
		if bo.Uint16(t[at:]) != 0x0112 {
			continue
		}
		// SHORT, one value, held in the entry itself.
		if bo.Uint16(t[at+2:]) != 3 || bo.Uint32(t[at+4:]) != 1 {
			return 1
		}
		if o := int(bo.Uint16(t[at+8:])); o >= 1 && o <= 8 {
			return o
		}
		return 1
	}
	return 1
}

// oriented shows src as EXIF orientation o says it is to be seen,
// without copying it: pixel (x, y) of the result is read from where o
// put it in src.
type oriented struct {
	src image.Image
	o   int
}

// Upright returns img turned as EXIF orientation o says (1, or a value
// outside 1–8: img itself), without copying it.
func Upright(img image.Image, o int) image.Image {
	if o <= 1 || o > 8 {
		return img
	}
	return oriented{src: img, o: o}
}

func (r oriented) ColorModel() color.Model { return r.src.ColorModel() }

func (r oriented) Bounds() image.Rectangle {
	b := r.src.Bounds()
	if r.o >= 5 { // the sides swap
		return image.Rect(0, 0, b.Dy(), b.Dx())
	}
	return image.Rect(0, 0, b.Dx(), b.Dy())
}

func (r oriented) At(x, y int) color.Color {
	b := r.src.Bounds()
	w, h := b.Dx(), b.Dy()
	var sx, sy int
	switch r.o {
	case 2: // mirrored left to right
		sx, sy = w-1-x, y
	case 3: // upside down
		sx, sy = w-1-x, h-1-y
	case 4: // mirrored top to bottom
		sx, sy = x, h-1-y
	case 5: // transposed
		sx, sy = y, x
	case 6: // stored a quarter turn anticlockwise: shown turned clockwise
		sx, sy = y, h-1-x
	case 7: // transversed
		sx, sy = w-1-y, h-1-x
	case 8: // stored a quarter turn clockwise: shown turned anticlockwise
		sx, sy = w-1-y, x
	default:
		sx, sy = x, y
	}
	return r.src.At(b.Min.X+sx, b.Min.Y+sy)
}
