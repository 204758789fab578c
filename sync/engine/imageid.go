package engine

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/cmcsync/cmcsync/sync/info"
)

// ImageIdentity reads the identity of the firmware image a chip runs: what
// tells an image upgrade from a reboot (the upgrade choice step of the
// method, docs/DESIGN.md). Each committed generation records the identity
// of the primary's image it was taken from; a round that reads another one
// waits for Upgrade.
//
// Contract: ImageID returns the identity of the image of chip id chip (0:
// chip A, 1: chip B); f is the engine's flash of that chip, which an
// implementation may read (or ignore, reading a device of its own). The
// identity is printable text, not empty, the same for the same image, and
// different for another one; the engine keeps its first MaxImageIDLen
// bytes. It is called at Open and once per round on the active chip, never
// concurrently, and must not write.
//
// An identity error other than with the default header source ends the
// round with an error wrapping ErrImageIdentity: no sync, no failover (the
// primary's health is judged from its information region, not from the
// image). Implementations here: HeaderIdentity (the default), NoImageIdentity,
// RangeDigest; package source/fwimage parses U-Boot legacy images and FITs.
type ImageIdentity interface {
	ImageID(chip int, f io.ReaderAt) (string, error)
}

// MaxImageIDLen is how many bytes of an identity the engine keeps (and the
// store records).
const MaxImageIDLen = 200

// ErrImageIdentity is wrapped by a round's error when the image identity
// cannot be read: check the identity source names where the image lives.
var ErrImageIdentity = errors.New("image identity unreadable")

// HeaderIdentity is the default identity source: cmcsync's own 64-byte
// CMCFWIMG image header at chip offset 0 (docs/FORMAT.md, "2. Firmware
// image header"), the identity being its version string. With it the
// engine's health probe also reads that header, as it always did, and
// Format writes a generated image into Layout.ImageOff/ImageSize. Use it
// only on chips cmcsync formatted whole (the simulator): a real boot flash
// holds its bootloader at offset 0.
type HeaderIdentity struct{}

// ImageID reads the header at offset 0 of f.
func (HeaderIdentity) ImageID(_ int, f io.ReaderAt) (string, error) {
	b := make([]byte, info.ImageHeaderSize)
	if _, err := f.ReadAt(b, 0); err != nil {
		return "", fmt.Errorf("read image header: %w", err)
	}
	h, err := info.DecodeImageHeader(b)
	if err != nil {
		return "", err
	}
	return h.Version, nil
}

// NoImageIdentity detects no upgrades: every image has the identity
// "none", so a round never waits for an upgrade choice. For a CMC whose
// upgrades reset the information on their own, or none.
type NoImageIdentity struct{}

// ImageID returns "none".
func (NoImageIdentity) ImageID(int, io.ReaderAt) (string, error) { return "none", nil }

// RangeDigest identifies an image by the SHA-256 of a byte range: Size
// bytes at Off of the chip's device in Devices (by chip id), or of the
// engine's flash of the chip when that is nil. Any change in the range is
// an upgrade; it reads the whole range at Open and at each round.
type RangeDigest struct {
	Off, Size int64
	Devices   [2]io.ReaderAt
}

// ImageID returns "sha256:" and the range's digest in hex.
func (r RangeDigest) ImageID(chip int, f io.ReaderAt) (string, error) {
	if chip >= 0 && chip < 2 && r.Devices[chip] != nil {
		f = r.Devices[chip]
	}
	if r.Off < 0 || r.Size <= 0 {
		return "", fmt.Errorf("image range %#x+%d: want a non-negative offset and a positive size", r.Off, r.Size)
	}
	h := sha256.New()
	n, err := io.Copy(h, io.NewSectionReader(f, r.Off, r.Size))
	if err != nil {
		return "", fmt.Errorf("read image range %#x+%d: %w", r.Off, r.Size, err)
	}
	if n != r.Size {
		// io.Copy takes the end of the device for the end of the range: a
		// digest of what is there would name a range the user did not give.
		return "", fmt.Errorf("read image range %#x+%d: the device ends %d bytes into it: %w", r.Off, r.Size, n, io.ErrUnexpectedEOF)
	}
	return "sha256:" + hex.EncodeToString(h.Sum(nil)), nil
}

// headerProbe reports whether the engine's health probe reads the CMCFWIMG
// image header (the default identity source) rather than the information
// region's header.
func (e *Engine) headerProbe() bool {
	_, ok := e.opts.Image.(HeaderIdentity)
	return ok
}

// imageID reads the identity of chip's image through f (the timed primary
// during a round) as an image header whose Version is the identity: with
// the header source the header itself, else a header holding only the
// identity (the rest of the engine compares and records Version).
func (e *Engine) imageID(chip int, f io.ReaderAt, probed info.ImageHeader) (info.ImageHeader, error) {
	if e.headerProbe() {
		return probed, nil
	}
	id, err := e.opts.Image.ImageID(chip, f)
	if err == nil && strings.TrimSpace(id) == "" {
		err = errors.New("the identity source returned an empty identity")
	}
	if err != nil {
		return info.ImageHeader{}, fmt.Errorf("%w: chip %s: %w (check the image identity setting names where the image lives)", ErrImageIdentity, e.chips[chip].Geometry().Name, err)
	}
	if len(id) > MaxImageIDLen {
		id = id[:MaxImageIDLen]
	}
	return info.ImageHeader{Version: id}, nil
}
