package daemon

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"runtime"
	"strings"
	"sync"
	"syscall"

	"github.com/cmcsync/cmcsync/hal"
	"github.com/cmcsync/cmcsync/internal/flashspec"
	"github.com/cmcsync/cmcsync/web"
)

// ErrChipGone is wrapped by the error of every write the daemon refuses
// because a chip's image file or device node is gone (see backing): a
// round, an API write, a step of the simulated CMC.
var ErrChipGone = errors.New("a chip's image file or device is gone")

// The kinds of the history events of a chip's backing going and coming
// back.
const (
	ChipGoneEvent = "chip-gone"
	ChipBackEvent = "chip-back"
)

// backing watches what stands behind one chip: a simulated chip's image
// file or a real chip's MTD device node. A simulated chip writes through
// to the image file it opened; when that file is removed, or another file
// renamed or copied over its path, while the daemon runs, every later
// write goes to a file no path names any more (an orphan), lost when the
// daemon stops. A real chip's analogue is its MTD device going away: the
// node vanishes, another device takes the path, or operations fail with
// ENODEV.
//
// The witness is a read-only descriptor of the path opened just after
// the chip was: the same file (inode) as the chip's own descriptor (a
// replacement in the instant between the two opens is not seen). The
// backing is gone when the witness's link count is 0 (the file was
// removed), when the path no longer names the witness's file (removed or
// replaced), or since an operation of the chip failed with ENODEV
// (sticky). It is there again when the path names the witness's file
// once more (moved back), never after ENODEV.
type backing struct {
	chip    string // the chip's name, e.g. "flash0"
	what    string // "image file" or "device node"
	path    string
	witness *os.File

	mu     sync.Mutex
	enodev string // why, once an operation failed with ENODEV
	gone   string // why the backing is gone, "" while it is there
}

// watchBacking opens the witness of the chip of spec s (named name), or
// returns nil for a chip that has no file behind it (a simulated chip
// kept in memory).
func watchBacking(s flashspec.Spec, name string) (*backing, error) {
	b := &backing{chip: name}
	switch {
	case s.Backend == flashspec.Sim && s.File != "":
		b.what, b.path = "image file", s.File
	case s.Backend == flashspec.MTD && s.Device != "":
		b.what, b.path = "device node", s.Device
	default:
		return nil, nil
	}
	w, err := os.Open(b.path)
	if err != nil {
		return nil, fmt.Errorf("watch the %s of chip %s: %w", b.what, name, err)
	}
	b.witness = w
	return b, nil
}

// close closes the witness.
func (b *backing) close() error {
	if b == nil || b.witness == nil {
		return nil
	}
	return b.witness.Close()
}

// probe looks at the path and the witness now and returns why the backing
// is gone, or "" while it is there.
func (b *backing) probe() string {
	b.mu.Lock()
	enodev := b.enodev
	b.mu.Unlock()
	if enodev != "" {
		return enodev
	}
	held, err := b.witness.Stat()
	if err != nil {
		return fmt.Sprintf("the %s %s of chip %s cannot be checked: %v", b.what, b.path, b.chip, err)
	}
	n, counted := linkCount(held)
	orphan := counted && n == 0 // no name left: the file goes with the last descriptor
	lost := "a restart would not open the file the chip writes"
	if orphan {
		lost = "writes to it would be lost when serve stops"
		if runtime.GOOS == "linux" {
			pid := os.Getpid()
			lost += fmt.Sprintf("; until then its last contents can be copied from /proc/%d/fd/%d", pid, b.witness.Fd())
		}
	}
	now, err := os.Stat(b.path)
	switch {
	case errors.Is(err, fs.ErrNotExist) && orphan:
		return fmt.Sprintf("the %s %s of chip %s was removed while serve runs (%s)", b.what, b.path, b.chip, lost)
	case errors.Is(err, fs.ErrNotExist):
		return fmt.Sprintf("the %s %s of chip %s was removed or moved away while serve runs (%s)", b.what, b.path, b.chip, lost)
	case err == nil && !os.SameFile(held, now):
		return fmt.Sprintf("the %s %s of chip %s was replaced by another file while serve runs (the chip still writes the file it opened, which that path no longer names: %s)", b.what, b.path, b.chip, lost)
	case orphan:
		return fmt.Sprintf("the %s %s of chip %s was removed while serve runs (%s)", b.what, b.path, b.chip, lost)
	}
	// The path names the chip's file (or cannot be looked at, a
	// permission: no evidence it is gone).
	return ""
}

// sawError notes an operation's error: ENODEV (the device went away)
// makes the backing gone for good.
func (b *backing) sawError(err error) {
	if err == nil || !errors.Is(err, syscall.ENODEV) {
		return
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.enodev == "" {
		b.enodev = fmt.Sprintf("the device %s of chip %s is gone: an operation failed with ENODEV (%v)", b.path, b.chip, err)
	}
}

// checkChips probes both chips' backings, raises the alarm when one goes
// (an ERROR line and a chip-gone event) and clears it when it comes back
// (a chip-back event), and returns the chips whose backing is gone.
func (d *Daemon) checkChips() []web.ChipGone {
	var out []web.ChipGone
	for _, b := range d.backing {
		if b == nil {
			continue
		}
		why := b.probe()
		b.mu.Lock()
		was := b.gone
		b.gone = why
		b.mu.Unlock()
		switch {
		case why != "" && was == "":
			d.logf("ERROR: %s; serve refuses every round and write until it is restarted with the chip's %s in place (reads go on)", why, b.what)
			d.logbook.note(ChipGoneEvent, why+"; rounds and writes are refused (reads go on)")
		case why == "" && was != "":
			d.logf("the %s %s of chip %s is back: rounds and writes resume", b.what, b.path, b.chip)
			d.logbook.note(ChipBackEvent, fmt.Sprintf("the %s %s of chip %s is back (the file the chip holds open): rounds and writes resume", b.what, b.path, b.chip))
		}
		if why != "" {
			out = append(out, web.ChipGone{Chip: b.chip, Path: b.path, Detail: why})
		}
	}
	return out
}

// refuseIfChipGone returns an error wrapping ErrChipGone that names the
// file of each chip whose backing is gone, or nil: the check before a
// round or a write.
func (d *Daemon) refuseIfChipGone() error {
	gone := d.checkChips()
	if len(gone) == 0 {
		return nil
	}
	msgs := make([]string, 0, len(gone))
	for _, g := range gone {
		msgs = append(msgs, g.Detail)
	}
	return fmt.Errorf("%w: %s; refused, so nothing is written to a file that would be lost (restore the file and restart serve)", ErrChipGone, strings.Join(msgs, "; "))
}

// closeBackings closes both witnesses.
func (d *Daemon) closeBackings() error {
	return errors.Join(d.backing[0].close(), d.backing[1].close())
}

// guardedFlash is a chip whose writes (programs, erases, bad-block
// marks) are refused while either chip's backing is gone
// (Daemon.refuseIfChipGone), and whose operations' errors the backing
// sees (ENODEV). It keeps the chip's optional abilities.
type guardedFlash struct {
	*tappedFlash
	check func() error
}

// guardChip wraps chip f, whose backing is b (nil: none), for d.
func (d *Daemon) guardChip(f hal.Flash, b *backing) hal.Flash {
	after := func(error) {}
	if b != nil {
		after = b.sawError
	}
	return &guardedFlash{tappedFlash: &tappedFlash{Flash: f, after: after}, check: d.refuseIfChipGone}
}

// WriteAt programs, unless a chip's backing is gone.
func (g *guardedFlash) WriteAt(p []byte, off int64) (int, error) {
	if err := g.check(); err != nil {
		return 0, err
	}
	return g.tappedFlash.WriteAt(p, off)
}

// Erase erases, unless a chip's backing is gone.
func (g *guardedFlash) Erase(off, n int64) error {
	if err := g.check(); err != nil {
		return err
	}
	return g.tappedFlash.Erase(off, n)
}

// MarkBad marks a bad block, unless a chip's backing is gone.
func (g *guardedFlash) MarkBad(off int64) error {
	if err := g.check(); err != nil {
		return err
	}
	return g.tappedFlash.MarkBad(off)
}
