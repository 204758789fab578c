package bench

import (
	"bytes"
	"fmt"
	"sync"

	"github.com/cmcsync/cmcsync/cmcsim"
	"github.com/cmcsync/cmcsync/sim"
	"github.com/cmcsync/cmcsync/sync/info"
)

// changeSet is what a workload does to a region of one size: the contents
// before its first round and, per round, the sectors that change. It is
// computed once per Run (on a scratch chip, with cmcsim.Generator) and
// replayed on every part and timing corner, whose region contents are the
// same bytes; replaying is writing those sectors into the primary's region
// raw, as the CMC's services would have left them (their flash work is not
// part of any sync, so it is not charged).
type changeSet struct {
	start  []byte // read-only
	rounds []roundChange
}

type roundChange struct {
	patches []patch // erase units whose bytes differ from the previous round
	changed int64   // bytes that differ from the previous round
	info    Info    // the information in the new contents (see regionInfo)
}

type patch struct {
	off  int64
	data []byte
}

// apply writes the round's sectors into buf (a copy of the region).
func (rc roundChange) apply(buf []byte) {
	for _, p := range rc.patches {
		copy(buf[p.off:], p.data)
	}
}

// poke writes the round's sectors into f's region at off.
func (rc roundChange) poke(f *sim.Flash, off int64) {
	for _, p := range rc.patches {
		f.Poke(off+p.off, p.data)
	}
}

// buildChangeSet runs w on a scratch chip of part p under erase model em
// holding start.
func buildChangeSet(p sim.Part, em sim.EraseModel, start []byte, w Workload, runSeed uint64) (*changeSet, error) {
	size := int64(len(start))
	chip, err := sim.New(sim.Options{Part: p, Size: size, EraseModel: em, Name: "scratch"})
	if err != nil {
		return nil, err
	}
	chip.Poke(0, start)
	region, err := info.OpenRegion(chip, 0, size)
	if err != nil {
		return nil, err
	}
	cs := &changeSet{start: start}
	gen := cmcsim.New(w.seed(runSeed))
	prev := start
	for round := 0; round < w.Rounds; round++ {
		if w.Realistic() {
			err = gen.Step(region, w.Activity)
		} else {
			_, err = gen.Mutate(region, w.Fraction, w.Clustered)
		}
		if err != nil {
			return nil, fmt.Errorf("workload %s round %d: %w", w.Name, round, err)
		}
		cur, err := readAll(chip, 0, size)
		if err != nil {
			return nil, err
		}
		rc := roundChange{changed: ChangedBytes(prev, cur), info: regionInfo(region, cur)}
		for s := int64(0); s < size; s += p.EraseSize {
			if !bytes.Equal(prev[s:s+p.EraseSize], cur[s:s+p.EraseSize]) {
				rc.patches = append(rc.patches, patch{off: s, data: cur[s : s+p.EraseSize : s+p.EraseSize]})
			}
		}
		cs.rounds = append(cs.rounds, rc)
		prev = cur
	}
	return cs, nil
}

// changeCache builds each (region size, erase model, start state, workload) change set
// once, for every scenario of a Run, concurrently safe.
type changeCache struct {
	mu      sync.Mutex
	entries map[string]*changeEntry
	seed    uint64
}

type changeEntry struct {
	once sync.Once
	cs   *changeSet
	err  error
}

func newChangeCache(seed uint64) *changeCache {
	return &changeCache{entries: map[string]*changeEntry{}, seed: seed}
}

// get returns w's change set on a region starting from start (of states).
func (c *changeCache) get(p sim.Part, st *regionStates, w Workload) (*changeSet, error) {
	start := st.day
	if w.Filling {
		start = st.fresh
	}
	key := fmt.Sprintf("%d/%v/%s/%t/%s", len(start), st.eraseModel, st.geometry, w.Filling, w.Name)
	c.mu.Lock()
	e := c.entries[key]
	if e == nil {
		e = &changeEntry{}
		c.entries[key] = e
	}
	c.mu.Unlock()
	e.once.Do(func() { e.cs, e.err = buildChangeSet(p, st.eraseModel, start, w, c.seed) })
	return e.cs, e.err
}
