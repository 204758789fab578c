package fru

import (
	"errors"
	"fmt"
)

var (
	// ErrFormat is wrapped by every error about a malformed FRU image: a
	// bad header or area, a field running past its area, overlapping
	// areas, a missing end marker.
	ErrFormat = errors.New("malformed FRU data")
	// ErrChecksum is wrapped by every checksum mismatch (header, area,
	// multirecord header or data); it wraps ErrFormat.
	ErrChecksum = fmt.Errorf("%w: checksum mismatch", ErrFormat)
	// ErrValue is wrapped by every error of Encode about a value the format
	// cannot hold: a character outside the field's encoding, a field over
	// 63 bytes, an area over 2040 bytes, a date outside 24-bit minutes.
	ErrValue = errors.New("value not encodable as FRU data")
	// ErrTooLarge is wrapped by FitSlot's error for an image larger than
	// the slot.
	ErrTooLarge = errors.New("FRU image too large")
)
