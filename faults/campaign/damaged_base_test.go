package campaign

import (
	"context"
	"errors"
	"slices"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/cmcsync/cmcsync/faults"
	"github.com/cmcsync/cmcsync/faults/reference"
)

// carriedDamageLine: a bit flipped before the round in a page that nine
// committed chunks of the long-run store depend on, then a torn read and a
// power cut at the round's start: the recovery keeps the damaged
// generation, reports the nine chunks, and the live round rewrites them
// (testdata/regressions.txt holds it too). Found by --mode random
// --scenario longrun --seed 2.
const carriedDamageLine = "longrun@67 seed=2 mutant=none | before (seed 2) (on (at 0) (flip backup 0x98300 0x98318 1)) | (seed 322) (on (at 56) (torn bits unstable)) (on (at 215) (fail media)) | none"

// TestAtomicCarriesDamageFromBeforeTheRound: the atomic check accepts the
// chunks the damage before the round already broke (the engine reported
// them), and fires on a committed chunk that read right on the damaged
// base and fails after the recovery.
func TestAtomicCarriesDamageFromBeforeTheRound(t *testing.T) {
	b, _, vs := replayAllOK(t, carriedDamageLine)
	require.Contains(t, verdictIn(vs, Atomic).Saw, "with the 9 chunk(s) that damage broke")

	requireAtomicFiresOnFlip(t, b, carriedDamageLine, "a chunk the damage did not break flipped after the recovery",
		func(w *worker, t *trial, post *storeView) (func(typ uint8, i int, ch reference.Chunk) bool, error) {
			broken, err := w.faultsOnDamagedBase(t, t.damagedBase)
			return func(typ uint8, i int, _ reference.Chunk) bool { return !broken[chunkID{typ, i}] }, err
		}, "although they did on the damaged base")
}

// deltaDamageLine: a scribble before the round over a data block that
// holds a delta record of node chunk 3 (its own block is another), then a
// failover whose restore fails on that chunk, reported as damage.
const deltaDamageLine = "longrun@165 seed=11 mutant=none | before (seed 11) (on (at 0) (scribble backup 0x16f000 0x170000)) | (seed 149) (on (at 0) (delay 4s)) (on (at 72) (delay 500ms)) | none"

// TestAtomicCountsDamageInADeltaBlock: a chunk whose delta record the
// harness damaged is damage the engine reported, not a chunk matching
// neither generation; a chunk with deltas in undamaged blocks that is
// flipped after the recovery still fails.
func TestAtomicCountsDamageInADeltaBlock(t *testing.T) {
	b, _, vs := replayAllOK(t, deltaDamageLine)
	require.Contains(t, verdictIn(vs, Atomic).Saw, "damaged by the faults, which the engine reported")

	requireAtomicFiresOnFlip(t, b, deltaDamageLine, "a chunk with delta records in undamaged blocks flipped after the recovery",
		func(w *worker, t *trial, post *storeView) (func(typ uint8, i int, ch reference.Chunk) bool, error) {
			damaged := func(blk uint32) bool { return damagedSinceWritten(t, 1, post.blockOffset(blk), w.bench.eraseSize) }
			return func(_ uint8, _ int, ch reference.Chunk) bool {
				return len(ch.Deltas) > 0 && !damaged(ch.Block) &&
					!slices.ContainsFunc(ch.Deltas, func(d reference.DeltaRef) bool { return damaged(d.Block) })
			}, nil
		}, "matches neither generation")
}

// requireAtomicFiresOnFlip replays line with one byte flipped, after the
// recovery, in the block of the first committed chunk the predicate that
// choose returns accepts (wrong names that state), and requires atomic to
// fail saying want.
func requireAtomicFiresOnFlip(t *testing.T, b *bench, line, wrong string,
	choose func(w *worker, t *trial, post *storeView) (func(typ uint8, i int, ch reference.Chunk) bool, error), want string) {
	t.Helper()
	c, err := ParseCase(line)
	require.NoError(t, err)
	tp := &tamper{invariant: Atomic, wrong: wrong,
		afterRecovery: func(w *worker, t *trial, rec *recovery, writes *[]faults.Op) error {
			post := w.decode(1)
			if post.err != nil {
				return post.err
			}
			pick, err := choose(w, t, post)
			if err != nil {
				return err
			}
			for _, ts := range post.state.Types {
				for i, ch := range ts.Chunks {
					if pick(uint8(ts.Type), i, ch) {
						return w.flipByte(1, post.blockOffset(ch.Block))
					}
				}
			}
			return errors.New("no committed chunk to flip: " + wrong)
		}}
	vs, err := runTampered(context.Background(), b, c, tp)
	require.NoError(t, err)
	v := verdictIn(vs, Atomic)
	require.False(t, v.OK, "%s", v)
	require.Contains(t, v.Saw, want)
}
