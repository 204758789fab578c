package fwimage

import (
	"errors"
	"fmt"
)

var (
	// ErrNotImage: the bytes hold no image this package knows (no magic
	// number it knows; erased flash; a device tree that is not a FIT).
	ErrNotImage = errors.New("no firmware image")
	// ErrFormat is wrapped by every error about a malformed or truncated
	// image: a header field out of range, a structure running past its
	// block, data running past the bytes available.
	ErrFormat = errors.New("malformed firmware image")
	// ErrChecksum is wrapped by every CRC or hash mismatch; it wraps
	// ErrFormat.
	ErrChecksum = fmt.Errorf("%w: checksum mismatch", ErrFormat)
)
