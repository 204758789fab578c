package fwimage

import (
	"fmt"
	"io"
)

// Source identifies the firmware image a chip runs for the sync engine's
// upgrade detection: it has the method set of the engine's ImageIdentity
// (sync/engine), so a Source is passed as engine.Options.Image without
// this package importing the engine.
//
// The image is read from Size bytes at Off: of Devices[chip] (the chip's
// boot or kernel partition, say /dev/mtd0 and /dev/mtd7), or of the
// engine's flash of the chip when that is nil. Kind restricts the format
// (0: a U-Boot legacy image or a FIT, whichever the magic number says).
// With HeaderOnly a U-Boot legacy image is identified from its header
// alone (magic and header CRC; the data CRC recorded there still tells
// images apart) instead of reading its data at every round; a FIT is
// always read whole (its hashes checked).
type Source struct {
	Off, Size  int64
	Devices    [2]io.ReaderAt
	Kind       Format
	HeaderOnly bool
}

// ImageID returns the identity of chip's image as one line
// ([Identity.String]). Errors wrap those of [Identify], or say the image
// is not of Kind.
func (s Source) ImageID(chip int, f io.ReaderAt) (string, error) {
	if chip >= 0 && chip < 2 && s.Devices[chip] != nil {
		f = s.Devices[chip]
	}
	if s.Off < 0 || s.Size <= 0 {
		return "", fmt.Errorf("%w: image place %#x+%d: want a non-negative offset and a positive size", ErrFormat, s.Off, s.Size)
	}
	r := io.NewSectionReader(f, s.Off, s.Size)
	var id Identity
	var err error
	if s.HeaderOnly && s.Kind != FormatFIT {
		var b []byte
		if b, err = readAt(r, 0, int(min(s.Size, UImageHeaderSize)), "image start"); err != nil {
			return "", err
		}
		var u UImage
		if u, err = ParseUImageHeader(b); err != nil {
			return "", fmt.Errorf("image at %#x: %w", s.Off, err)
		}
		id = u.Identity()
	} else if id, err = Identify(r, s.Size); err != nil {
		return "", fmt.Errorf("image at %#x: %w", s.Off, err)
	}
	if s.Kind != 0 && id.Format != s.Kind {
		return "", fmt.Errorf("%w: the image at %#x is a %s, the configuration says %s", ErrFormat, s.Off, id.Format, s.Kind)
	}
	return id.String(), nil
}
