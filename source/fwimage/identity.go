package fwimage

import (
	"bytes"
	"fmt"
	"io"
	"strings"
	"time"
)

// Format is the format of a firmware image.
type Format int

// Image formats.
const (
	FormatUImage Format = iota + 1 // U-Boot legacy image
	FormatFIT                      // Flattened Image Tree
)

func (f Format) String() string {
	switch f {
	case FormatUImage:
		return "uImage"
	case FormatFIT:
		return "FIT"
	}
	return fmt.Sprintf("Format(%d)", int(f))
}

// Identity is what tells two firmware images apart and what a user is
// shown of one.
type Identity struct {
	Format Format
	// Name is the uImage's name or the FIT's root description.
	Name string
	// Version is the image's version string: a FIT's version property (the
	// root's, else the default configuration's, else its firmware or
	// kernel image's); failing that, and for a uImage, the first
	// version-like word of Name ([VersionIn]); "" when there is none.
	Version string
	// BuildTime is the uImage's creation time or the FIT's timestamp
	// (UTC); the zero Time when the FIT has none.
	BuildTime time.Time
	// Size is the bytes the image spans from its start: a uImage's header
	// and data; a FIT's blob and its external data.
	Size int64
	// CRC32 is a uImage's data CRC (from its header, checked), or the
	// CRC-32 (IEEE) of a FIT's Size bytes.
	CRC32 uint32
}

// Same reports whether two identities describe the same image: every
// field equal.
func (id Identity) Same(other Identity) bool {
	return id.Format == other.Format && id.Name == other.Name && id.Version == other.Version &&
		id.BuildTime.Equal(other.BuildTime) && id.Size == other.Size && id.CRC32 == other.CRC32
}

// String describes the identity on one line.
func (id Identity) String() string {
	s := fmt.Sprintf("%s %q", id.Format, id.Name)
	if id.Version != "" {
		s += " version " + id.Version
	}
	if !id.BuildTime.IsZero() {
		s += ", built " + id.BuildTime.Format(time.RFC3339)
	}
	return s + fmt.Sprintf(", %d bytes, crc32 0x%08x", id.Size, id.CRC32)
}

// Identify reads the image at the start of r, whose readable size is size
// bytes (a partition's size), checks it (a uImage's header and data CRCs; a
// FIT's structure and every image hash it can compute) and returns its
// identity. It reads through small buffers: memory does not grow with the
// image. Errors wrap [ErrNotImage] (no known magic number, erased flash),
// [ErrFormat] or [ErrChecksum], or are I/O errors of r.
func Identify(r io.ReaderAt, size int64) (Identity, error) {
	if size < 4 {
		return Identity{}, fmt.Errorf("%w: %d bytes cannot hold a magic number", ErrNotImage, size)
	}
	head, err := readAt(r, 0, int(min(size, UImageHeaderSize)), "image start")
	if err != nil {
		return Identity{}, err
	}
	switch m := be.Uint32(head); m {
	case UImageMagic:
		u, err := ReadUImage(r, size)
		if err != nil {
			return Identity{}, err
		}
		return u.Identity(), nil
	case fdtMagic:
		fit, err := ReadFIT(r, size)
		if err != nil {
			return Identity{}, err
		}
		return fit.Identity(), nil
	default:
		if blank := bytes.Count(head, []byte{0xFF}); blank == len(head) {
			return Identity{}, fmt.Errorf("%w: the first %d bytes are 0xff (erased flash)", ErrNotImage, len(head))
		}
		return Identity{}, fmt.Errorf("%w: magic 0x%08x at offset 0 is neither a U-Boot legacy image's (0x%08x) nor a FIT's (0x%08x)",
			ErrNotImage, m, UImageMagic, fdtMagic)
	}
}

// VersionIn returns the first version-like word of s: a run of letters,
// digits and ".-_+~" that starts with a digit at the start of s or after
// one of " -_vV/", and holds a '.'; trailing punctuation is dropped. So
// "U-Boot 2019.04-00001-gabc for ast2600" gives "2019.04-00001-gabc",
// "Linux-5.15.0-cmc" gives "5.15.0-cmc" and "ast2600 image" gives "".
func VersionIn(s string) string {
	for i := 0; i < len(s); i++ {
		if !isDigit(s[i]) || (i > 0 && !strings.ContainsRune(" -_vV/", rune(s[i-1]))) {
			continue
		}
		j := i
		for j < len(s) && isVersionChar(s[j]) {
			j++
		}
		if w := strings.TrimRight(s[i:j], ".-_+~"); strings.Contains(w, ".") {
			return w
		}
		i = j
	}
	return ""
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

func isVersionChar(c byte) bool {
	return isDigit(c) || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || strings.IndexByte(".-_+~", c) >= 0
}
