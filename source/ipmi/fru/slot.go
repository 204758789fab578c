package fru

import "fmt"

// FitSlot checks the FRU image b ([Decode]) and returns it in a slot of
// size bytes: the image up to the end of its last area, then zeros. An
// EEPROM dump is usually larger than its FRU data, so the bytes after the
// last area may be cut, but only when they are padding (each 0x00 or
// 0xFF): anything else would be lost and is an error wrapping [ErrFormat].
// When the internal use area is the last area, its trailing padding counts
// as padding too. An image whose areas end past size is an error wrapping
// [ErrTooLarge].
func FitSlot(b []byte, size int) ([]byte, error) {
	_, exts, err := decode(b)
	if err != nil {
		return nil, err
	}
	used := HeaderSize
	for _, e := range exts {
		end := e.end
		if e.area == areaInternal {
			end = e.start + 1 + len(trimPadding(b[e.start+1:e.end]))
		}
		used = max(used, end)
	}
	for i := used; i < len(b); i++ {
		if b[i] != 0x00 && b[i] != 0xFF {
			return nil, fmt.Errorf("%w: byte 0x%02x at 0x%x, after the last area (which ends at 0x%x), is not padding (0x00 or 0xff): fitting the image to a slot would lose it",
				ErrFormat, b[i], i, used)
		}
	}
	if used > size {
		return nil, fmt.Errorf("%w: its areas end at 0x%x (%d bytes), past the %d-byte slot", ErrTooLarge, used, used, size)
	}
	slot := make([]byte, size)
	copy(slot, b[:used])
	return slot, nil
}

// trimPadding returns b without its trailing 0x00 and 0xFF bytes.
func trimPadding(b []byte) []byte {
	n := len(b)
	for n > 0 && (b[n-1] == 0x00 || b[n-1] == 0xFF) {
		n--
	}
	return b[:n]
}
