package store

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/cmcsync/cmcsync/hal"
	"github.com/cmcsync/cmcsync/sim"
)

// cutChip cuts power at its cutAt-th program or erase (tearing it when
// torn), then fails every operation.
type cutChip struct {
	*sim.Flash
	ops, cutAt int
	torn       bool
	dead       bool
	rng        *rand.Rand
}

func (c *cutChip) lost() error {
	return &hal.OpError{Op: "op", Dev: "cut", Err: fmt.Errorf("%w: %w", hal.ErrInjected, hal.ErrPowerLoss)}
}

func (c *cutChip) ReadAt(b []byte, off int64) (int, error) {
	if c.dead {
		return 0, c.lost()
	}
	return c.Flash.ReadAt(b, off)
}

// ReadAtPieces goes through ReadAt (the promoted sim method would read a
// dead chip).
func (c *cutChip) ReadAtPieces(b []byte, off int64, piece func(int)) (int, error) {
	n, err := c.ReadAt(b, off)
	if err == nil {
		piece(len(b))
	}
	return n, err
}

func (c *cutChip) WriteAt(b []byte, off int64) (int, error) {
	if c.dead {
		return 0, c.lost()
	}
	c.ops++
	if c.ops == c.cutAt {
		c.dead = true
		if c.torn {
			q := bytes.Clone(b)
			for i := range q {
				q[i] |= byte(c.rng.Uint32()) &^ b[i]
			}
			_, _ = c.Flash.WriteAt(q, off)
		}
		return 0, c.lost()
	}
	return c.Flash.WriteAt(b, off)
}

func (c *cutChip) Erase(off, n int64) error {
	if c.dead {
		return c.lost()
	}
	c.ops++
	if c.ops == c.cutAt {
		c.dead = true
		if c.torn {
			_ = c.Flash.Erase(off, n)
			c.Flash.Poke(off+n/3, randomBytes(uint64(off), int(min(n/2, 5000))))
		}
		return c.lost()
	}
	return c.Flash.Erase(off, n)
}

// TestPowerCutDuringCompaction cuts a journal compaction at every one of
// its operations (plain and torn): the store always reopens at the same
// generation, and keeps working.
func TestPowerCutDuringCompaction(t *testing.T) {
	f := newChip(t)
	formatTest(t, f)
	s := openTest(t, f, Options{})
	ps := payloads{1: randomBytes(1, 100000), 2: randomBytes(2, 7000)}
	for gen := uint64(1); gen <= 5; gen++ {
		ps[1][int(gen)*9000] ^= 1
		runRound(t, s, gen, ps)
	}
	require.NoError(t, s.StageConfig(Config{Types: []uint8{2}, Interval: 42}))
	snap := f.Snapshot()
	count := &cutChip{Flash: f}
	cs, err := Open(count, testStoreOff, testStoreSize, Options{})
	require.NoError(t, err)
	require.NoError(t, cs.Compact())
	total := count.ops
	require.Greater(t, total, 1)
	for n := 1; n <= total; n++ {
		for _, torn := range []bool{false, true} {
			f.Restore(snap)
			c := &cutChip{Flash: f, cutAt: n, torn: torn, rng: rand.New(rand.NewPCG(uint64(n), 3))}
			cs, err := Open(c, testStoreOff, testStoreSize, Options{})
			require.NoError(t, err)
			require.Error(t, cs.Compact())
			s := openTest(t, f, Options{})
			require.Equal(t, uint64(5), s.State().Generation, "cut %d torn %v", n, torn)
			st, ok := s.Staged()
			require.True(t, ok)
			require.Equal(t, []uint8{2}, st.Types)
			checkPayloads(t, s, ps)
			ps[2][10] ^= 1
			runRound(t, s, 6, ps)
			s = openTest(t, f, Options{})
			checkPayloads(t, s, ps)
			ps[2][10] ^= 1
		}
	}
}
