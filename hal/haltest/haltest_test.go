package haltest_test

import (
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/cmcsync/cmcsync/hal"
	"github.com/cmcsync/cmcsync/hal/haltest"
	"github.com/cmcsync/cmcsync/sim"
	"github.com/cmcsync/cmcsync/sim/simtest"
)

func newSim(t testing.TB, part string, size int64) *sim.Flash {
	t.Helper()
	f := simtest.Chip(t, part, sim.Options{Size: size, Name: "dut"})
	t.Cleanup(func() { _ = f.Close() })
	return f
}

func TestConformanceSim(t *testing.T) {
	for _, tc := range []struct {
		part string
		size int64
	}{
		{"w25q256jv", 1 << 20},
		{"mx66l1g45g", 2 << 20},
		{"mt29f2g01", 4 << 20}, // NAND
	} {
		t.Run(tc.part, func(t *testing.T) {
			haltest.Run(t, func(t *testing.T) hal.Flash { return newSim(t, tc.part, tc.size) })
		})
	}
}

func TestCheckSim(t *testing.T) {
	for _, tc := range []struct {
		part       string
		size       int64
		wantPassed int
	}{
		// All checks but the two RunOnly ones and the other kind's rule.
		{"w25q256jv", 4 << 20, len(haltest.Checks()) - 3},
		{"mt29f2g01", 4 << 20, len(haltest.Checks()) - 3},
	} {
		t.Run(tc.part, func(t *testing.T) {
			f := newSim(t, tc.part, tc.size)
			rep, err := haltest.Check(f)
			require.NoError(t, err)
			require.Equal(t, tc.wantPassed, rep.Passed())
			require.Equal(t, tc.wantPassed, rep.Ran())
			require.Empty(t, rep.Failed())
			require.Len(t, rep.Results, len(haltest.Checks()))
			require.Equal(t, f.Geometry(), rep.Device)
			for i, r := range rep.Results {
				require.Equal(t, haltest.Checks()[i].Name, r.Name)
				if haltest.Checks()[i].RunOnly {
					require.Equal(t, haltest.NotApplicable, r.Status)
				}
			}
		})
	}
}

func TestCheckIsBoundedOnALargeChip(t *testing.T) {
	// A full 128 MiB chip: Check touches a few blocks, not the whole device.
	f := newSim(t, "mx66l1g45g", 0)
	rep, err := haltest.Check(f)
	require.NoError(t, err)
	require.GreaterOrEqual(t, rep.Passed(), 12)
	st := f.Stats()
	require.Less(t, st.Erases, int64(100), "erase blocks touched")
	require.Less(t, st.BytesRead, int64(1<<20))
}

func TestCheckNamed(t *testing.T) {
	f := newSim(t, "w25q256jv", 1<<20)
	rep, err := haltest.CheckNamed(f, "geometry", "nor-and")
	require.NoError(t, err)
	require.Len(t, rep.Results, 2)
	require.Equal(t, 2, rep.Passed())

	_, err = haltest.CheckNamed(f, "geometry", "nope")
	require.ErrorContains(t, err, `unknown check "nope"`)
	require.ErrorContains(t, err, "erase-neighbours")
}

func TestCheckRefusesTinyDevice(t *testing.T) {
	f := newSim(t, "w25q256jv", 3*4096)
	_, err := haltest.Check(f)
	require.ErrorContains(t, err, "need at least 4")
}

// broken wraps a correct device and breaks one rule of the contract: it is
// a wrong implementation of hal.Flash, not a fault (a faults schedule
// injects faults into a correct device, and cannot make a device erase the
// wrong range or program lazily). It embeds the hal.Flash interface, so it
// has exactly the optional abilities it declares: hal.Stater below, and no
// bad-block handling.
type broken struct {
	hal.Flash
	erase   func(b *broken, off, n int64) error
	writeAt func(b *broken, p []byte, off int64) (int, error)
	readAt  func(b *broken, p []byte, off int64) (int, error)
	stats   func(b *broken) hal.Stats
	pending func() // lazy program, applied at the next operation
}

func (b *broken) flush() {
	if b.pending != nil {
		p := b.pending
		b.pending = nil
		p()
	}
}

func (b *broken) Erase(off, n int64) error {
	b.flush()
	if b.erase != nil {
		return b.erase(b, off, n)
	}
	return b.Flash.Erase(off, n)
}

func (b *broken) WriteAt(p []byte, off int64) (int, error) {
	b.flush()
	if b.writeAt != nil {
		return b.writeAt(b, p, off)
	}
	return b.Flash.WriteAt(p, off)
}

func (b *broken) ReadAt(p []byte, off int64) (int, error) {
	b.flush()
	if b.readAt != nil {
		return b.readAt(b, p, off)
	}
	return b.Flash.ReadAt(p, off)
}

// ReadAtPieces goes through ReadAt, broken or not (the promoted sim
// method would bypass it).
func (b *broken) ReadAtPieces(p []byte, off int64, piece func(int)) (int, error) {
	n, err := b.ReadAt(p, off)
	if err == nil {
		piece(len(p))
	}
	return n, err
}

func (b *broken) Stats() hal.Stats {
	if b.stats != nil {
		return b.stats(b)
	}
	st, _ := hal.StatsOf(b.Flash)
	return st
}

func TestCheckCatchesBrokenDevices(t *testing.T) {
	const es = 4096
	for _, tc := range []struct {
		name       string
		dev        broken
		wantFailed string // a check that must fail
	}{
		{"erase spills into the next block", broken{erase: func(b *broken, off, n int64) error {
			if err := b.Flash.Erase(off, n); err != nil {
				return err
			}
			if off+n < b.Geometry().Size {
				return b.Flash.Erase(off+n, es)
			}
			return nil
		}}, "erase-neighbours"},
		{"erase rounds unaligned offsets down", broken{erase: func(b *broken, off, n int64) error {
			return b.Flash.Erase(off-off%es, max(es, n-n%es))
		}}, "unaligned-rejected"},
		{"erase of a range erases only its first block", broken{erase: func(b *broken, off, n int64) error {
			return b.Flash.Erase(off, min(n, es))
		}}, "erase-range"},
		{"errors lose their type", broken{erase: func(b *broken, off, n int64) error {
			if err := b.Flash.Erase(off, n); err != nil {
				return errors.New(err.Error())
			}
			return nil
		}}, "typed-errors"},
		{"program overwrites instead of AND", broken{writeAt: func(b *broken, p []byte, off int64) (int, error) {
			if err := hal.CheckProgram(b.Geometry(), off, int64(len(p))); err != nil {
				return 0, err
			}
			// Store the bytes raw (the simulator's harness ability), as
			// a device that overwrites instead of ANDing would.
			b.Flash.(interface{ Poke(int64, []byte) }).Poke(off, p)
			return len(p), nil
		}}, "nor-and"},
		{"program keeps the caller's buffer", broken{writeAt: func(b *broken, p []byte, off int64) (int, error) {
			if err := hal.CheckProgram(b.Geometry(), off, int64(len(p))); err != nil {
				return 0, err
			}
			b.pending = func() { _, _ = b.Flash.WriteAt(p, off) }
			return len(p), nil
		}}, "buffer-ownership"},
		{"read past the end is a short read with io.EOF", broken{readAt: func(b *broken, p []byte, off int64) (int, error) {
			size := b.Geometry().Size
			if off >= 0 && off < size && off+int64(len(p)) > size {
				n, _ := b.Flash.ReadAt(p[:size-off], off)
				return n, io.EOF
			}
			return b.Flash.ReadAt(p, off)
		}}, "out-of-range-rejected"},
		{"read garbles the byte after a block boundary", broken{readAt: func(b *broken, p []byte, off int64) (int, error) {
			n, err := b.Flash.ReadAt(p, off)
			for i := range p[:n] {
				if (off+int64(i))%es == 0 && i > 0 {
					p[i] ^= 0x01
				}
			}
			return n, err
		}}, "read-across-blocks"},
		{"statistics stand still", broken{stats: func(b *broken) hal.Stats { return hal.Stats{Reads: 1} }}, "stats"},
		{"zero-length erase accepted", broken{erase: func(b *broken, off, n int64) error {
			if n == 0 {
				return nil
			}
			return b.Flash.Erase(off, n)
		}}, "zero-length"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dev := tc.dev
			dev.Flash = newSim(t, "w25q256jv", 1<<20)
			rep, err := haltest.Check(&dev)
			require.Error(t, err)
			var failed []string
			for _, r := range rep.Failed() {
				failed = append(failed, r.Name)
				require.Equal(t, haltest.Failed, r.Status)
				require.Error(t, r.Err)
			}
			require.Contains(t, failed, tc.wantFailed)
			require.ErrorContains(t, err, "check "+tc.wantFailed+":")
			require.ErrorContains(t, err, fmt.Sprintf("%d of %d checks failed", len(failed), rep.Ran()))
		})
	}
}

func TestStatusString(t *testing.T) {
	require.Equal(t, "pass", haltest.Passed.String())
	require.Equal(t, "FAIL", haltest.Failed.String())
	require.Equal(t, "n/a", haltest.NotApplicable.String())
}

func TestChecksListed(t *testing.T) {
	names := map[string]bool{}
	for _, c := range haltest.Checks() {
		require.False(t, names[c.Name], "duplicate check %s", c.Name)
		names[c.Name] = true
		require.NotEmpty(t, c.Summary)
		require.Equal(t, strings.ToLower(c.Name), c.Name)
	}
	require.GreaterOrEqual(t, len(names), 12)
}

func TestCheckAvoidsBadBlocks(t *testing.T) {
	f := newSim(t, "mt29f2g01", 4<<20) // 32 blocks of 128 KiB
	bad := []int64{0, 1, 15, 16, 31}
	for _, b := range bad {
		require.NoError(t, f.MarkBad(b*128<<10))
	}
	rep, err := haltest.Check(f)
	require.NoError(t, err)
	// The last block is bad, so the device's end cannot be programmed.
	require.Equal(t, len(haltest.Checks())-4, rep.Passed())
	for _, r := range rep.Results {
		if r.Name == "end-of-device" {
			require.Equal(t, haltest.NotApplicable, r.Status)
			require.Equal(t, "the last erase block is bad", r.Reason)
		}
	}
	for _, b := range bad {
		isBad, err := f.IsBad(b * 128 << 10)
		require.NoError(t, err)
		require.True(t, isBad)
	}
}
