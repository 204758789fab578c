package store

import (
	"math/rand/v2"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// replayState is everything a replay rebuilds.
type replayState struct {
	St              State
	Staged          *Config
	Pending, Purged *intent
	Cursor, Wraps   uint32
	Live, Erased    []bool
	Damage          []string
	Records         int
}

func replayStateOf(s *Store) replayState {
	return replayState{s.st, s.staged, s.pending, s.purged, s.cursor, s.wraps, s.live, s.erased, s.damage, s.records}
}

// TestReplayCacheSameState cuts rounds at every program and erase (plain
// and torn) and opens each result with one shared cache and without: the
// rebuilt state is the same, and a store opened from the cache keeps
// working (its rounds and a reopen without the cache agree).
func TestReplayCacheSameState(t *testing.T) {
	f := newChip(t)
	formatTest(t, f)
	s := openTest(t, f, Options{})
	ps := payloads{1: randomBytes(1, 100000), 2: randomBytes(2, 7000)}
	for gen := uint64(1); gen <= 3; gen++ {
		ps[1][int(gen)*9000] ^= 1
		runRound(t, s, gen, ps)
	}
	snap := f.Snapshot()
	ps[2][5] ^= 1
	count := &cutChip{Flash: f}
	require.NoError(t, cutRound(count, 4, ps))
	total := count.ops
	require.Greater(t, total, 1)
	cache := NewReplayCache(4)
	for n := 1; n <= total+1; n++ {
		for _, torn := range []bool{false, true} {
			f.Restore(snap)
			c := &cutChip{Flash: f, cutAt: n, torn: torn, rng: rand.New(rand.NewPCG(uint64(n), 5))}
			if err := cutRound(c, 4, ps); n <= total {
				require.Error(t, err)
			}
			// Twice with the cache: a miss that fills it and a hit.
			for range 2 {
				plain, err := Open(f, testStoreOff, testStoreSize, Options{ReadOnly: true})
				require.NoError(t, err)
				cached, err := Open(f, testStoreOff, testStoreSize, Options{ReadOnly: true, ReplayCache: cache})
				require.NoError(t, err)
				require.Equal(t, replayStateOf(plain), replayStateOf(cached), "cut %d torn %v", n, torn)
			}
			w := openTest(t, f, Options{ReplayCache: cache})
			if w.Interrupted() != nil {
				_, err := w.Purge()
				require.NoError(t, err)
			}
			runRound(t, w, w.State().Generation+1, ps)
			checkPayloads(t, openTest(t, f, Options{}), ps)
		}
	}
}

// cutRound runs a round on f (a chip that may lose power) and returns
// its first error.
func cutRound(f *cutChip, gen uint64, ps payloads) error {
	s, err := Open(f, testStoreOff, testStoreSize, Options{})
	if err != nil {
		return err
	}
	r, err := s.Begin(planOf(gen, ps))
	if err != nil {
		return err
	}
	for i, w := range r.Writes() {
		b := ps[w.Type]
		lo, hi := ChunkBounds(int64(len(b)), testPhase, 4096, w.Index)
		if _, _, err := r.Write(i, b[lo:hi]); err != nil {
			return err
		}
	}
	return r.Commit(State{Generation: gen, Time: time.Unix(int64(gen), 0), Config: planOf(gen, ps).Config})
}
