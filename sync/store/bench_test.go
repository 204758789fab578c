package store

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/cmcsync/cmcsync/sim"
)

// benchStore is a store the size the engine uses for an 8 MiB information
// region on a 32 MiB chip, after its first sync (six types, 2048 chunks: a
// journal of one checkpoint, a 2048-chunk intent and its commit).
type benchStore struct {
	chip     *sim.Flash
	off, sz  int64
	payloads payloads
}

func newBenchStore(b *testing.B) *benchStore {
	b.Helper()
	p, err := sim.LookupPart("mx66l1g45g")
	require.NoError(b, err)
	chip, err := sim.New(sim.Options{Part: p, Size: 32 << 20, Name: "backup"})
	require.NoError(b, err)
	bs := &benchStore{chip: chip, off: 9 << 20, sz: 23 << 20}
	require.NoError(b, Format(chip, bs.off, bs.sz, FormatOptions{
		ChipID: 1, PairID: 42, Time: time.Unix(1000, 0), MaxChunks: 2048 + 6,
		Config: Config{Types: []uint8{1, 2, 3, 4, 5, 6}, Interval: time.Minute, Threshold: time.Second},
	}))
	sizes := map[uint8]int{1: 4 << 20, 2: 2 << 20, 3: 1 << 20, 4: 512 << 10, 5: 256 << 10, 6: 256<<10 - 6*4096}
	bs.payloads = payloads{}
	for t, n := range sizes {
		bs.payloads[t] = randomBytes(uint64(t), n)
	}
	return bs
}

func (bs *benchStore) open(b *testing.B) *Store {
	s, err := Open(bs.chip, bs.off, bs.sz, Options{})
	if err != nil {
		b.Fatal(err)
	}
	return s
}

// BenchmarkOpen measures Open of a store after its first full sync
// ("clean"), with and without giving the store back with Release (a fault
// campaign releases; a one-off Open does not), and Open plus Purge of a
// store whose full sync was cut half-way through its chunk writes
// ("interrupted").
func BenchmarkOpen(b *testing.B) {
	bs := newBenchStore(b)
	s := bs.open(b)
	snap0 := bs.chip.Snapshot()
	runRound(b, s, 1, bs.payloads)
	clean := bs.chip.Snapshot()

	for _, release := range []bool{false, true} {
		name := "clean"
		if release {
			name = "clean-release"
		}
		b.Run(name, func(b *testing.B) {
			bs.chip.Restore(clean)
			b.ReportAllocs()
			before := bs.chip.Stats()
			for range b.N {
				s := bs.open(b)
				if release {
					s.Release()
				}
			}
			st := bs.chip.Stats().Sub(before)
			b.ReportMetric(float64(st.Reads)/float64(b.N), "reads/op")
			b.ReportMetric(float64(st.BytesRead)/float64(b.N), "bytes-read/op")
		})
	}

	// Interrupted: gen 1 committed, gen 2 (everything changed) cut half-way.
	bs.chip.Restore(snap0)
	s = bs.open(b)
	runRound(b, s, 1, bs.payloads)
	ps := payloads{}
	for t, p := range bs.payloads {
		ps[t] = randomBytes(uint64(t)+100, len(p))
	}
	r, err := s.Begin(planOf(2, ps))
	require.NoError(b, err)
	ws := r.Writes()
	for i, w := range ws[:len(ws)/2] {
		p := ps[w.Type]
		lo, hi := ChunkBounds(int64(len(p)), testPhase, 4096, w.Index)
		_, _, err := r.Write(i, p[lo:hi])
		require.NoError(b, err)
	}
	cut := bs.chip.Snapshot()
	for _, release := range []bool{false, true} {
		name := "interrupted"
		if release {
			name = "interrupted-release"
		}
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			for range b.N {
				bs.chip.Restore(cut)
				s := bs.open(b)
				if s.Interrupted() == nil {
					b.Fatal("no interrupted round")
				}
				if _, err := s.Purge(); err != nil {
					b.Fatal(err)
				}
				if release {
					s.Release()
				}
			}
		})
	}
}
