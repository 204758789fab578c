package chipstate

import (
	"errors"
	"fmt"
	"strings"

	"github.com/cmcsync/cmcsync/hal"
	"github.com/cmcsync/cmcsync/sync/engine"
	"github.com/cmcsync/cmcsync/sync/store"
)

// Contents is what a chip holds in the places a format would write.
type Contents struct {
	// Store: a cmcsync store opens at the layout's place; Generation is its
	// committed generation.
	Store      bool
	Generation uint64
	// StoreError: a store superblock is there but does not open (damaged,
	// or of another format version): still data.
	StoreError string
	// RegionSize: the size a valid information region header records (0:
	// none).
	RegionSize int64
	// Data: the first offset that is not erased (-1: every byte of the
	// places is erased). Only looked for when neither a store nor a region
	// was found.
	Data int64
}

// Erased reports whether the places hold nothing: a format loses nothing.
func (c Contents) Erased() bool {
	return !c.Store && c.StoreError == "" && c.RegionSize == 0 && c.Data < 0
}

// String describes what is there, e.g. "a cmcsync store (generation 12)
// and an information region of 4MiB".
func (c Contents) String() string {
	var parts []string
	if c.Store {
		parts = append(parts, fmt.Sprintf("a cmcsync store (generation %d)", c.Generation))
	}
	if c.StoreError != "" {
		parts = append(parts, "a cmcsync store that does not open ("+c.StoreError+")")
	}
	if c.RegionSize != 0 {
		parts = append(parts, "an information region of "+hal.FormatSize(c.RegionSize))
	}
	if len(parts) == 0 && c.Data >= 0 {
		parts = append(parts, fmt.Sprintf("data that is not cmcsync's (first byte not erased at %#x)", c.Data))
	}
	if len(parts) == 0 {
		return "nothing (erased)"
	}
	return strings.Join(parts, " and ")
}

// scanBlock is how much Survey reads at a time when it looks for data.
const scanBlock = 256 << 10

// Survey reads what f holds in the places of layout l (the firmware image
// area if it has one, the information region and the store: what a format
// writes); bytes outside them (a bootloader before the region) are not
// looked at, as a format does not touch them.
func Survey(f hal.Flash, l engine.Layout) (Contents, error) {
	c := Contents{Data: -1}
	places := [][2]int64{{l.StoreOff, l.StoreSize}}
	if h, err := ReadRegionHeader(f, l.InfoOff); err == nil {
		c.RegionSize = h.Size
		if h.Size != l.InfoSize && l.StoreOff == l.InfoOff+l.InfoSize {
			// Formatted with another region size: its store follows
			// the region the header records.
			off := l.InfoOff + h.Size
			if end := l.StoreOff + l.StoreSize; off < end {
				places = append([][2]int64{{off, end - off}}, places...)
			}
		}
	}
	for _, pl := range places {
		s, err := store.Open(f, pl[0], pl[1], store.Options{ReadOnly: true})
		switch {
		case err == nil:
			c.Store, c.Generation, c.StoreError = true, s.StateRef().Generation, ""
			s.Release()
		case errors.Is(err, store.ErrNotFormatted):
			continue
		case c.StoreError == "":
			c.StoreError = err.Error()
			continue
		}
		break
	}
	if c.Store || c.StoreError != "" || c.RegionSize != 0 {
		return c, nil
	}
	buf := make([]byte, scanBlock)
	for _, r := range [][2]int64{{l.ImageOff, l.ImageSize}, {l.InfoOff, l.InfoSize}, {l.StoreOff, l.StoreSize}} {
		end := min(r[0]+r[1], f.Geometry().Size)
		for off := r[0]; off < end; off += scanBlock {
			b := buf[:min(scanBlock, end-off)]
			if _, err := f.ReadAt(b, off); err != nil {
				return c, fmt.Errorf("survey: %w", err)
			}
			if hal.IsErased(b) {
				continue
			}
			for i, x := range b {
				if x != 0xFF {
					c.Data = off + int64(i)
					return c, nil
				}
			}
		}
	}
	return c, nil
}
