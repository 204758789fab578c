package store

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/cmcsync/cmcsync/faults"
	"github.com/cmcsync/cmcsync/hal"
)

// eraseLog records the erases a store issues: the trace of a
// faults.Injector with an empty schedule (nothing is injected).
type eraseLog struct {
	erases [][2]int64 // offset, length
}

// logErases returns f wrapped so that the log sees every erase on it.
func logErases(f hal.Flash) (hal.Flash, *eraseLog) {
	l := &eraseLog{}
	in := faults.NewInjector(faults.Schedule{}, faults.Options{Trace: func(op faults.Op) {
		if op.Kind == faults.Erase {
			l.erases = append(l.erases, [2]int64{op.Off, op.Len})
		}
	}})
	return in.Wrap(f, faults.Backup), l
}

// TestSmallRoundsUseWholeWindows: once the cursor has gone round the data
// area (so nothing there is erased by construction), rounds that change a
// single chunk still erase only whole 64 KiB-aligned windows, and later
// rounds take the window's spare blocks without any erase — also after a
// reopen, which learns the spares from the committed intents.
func TestSmallRoundsUseWholeWindows(t *testing.T) {
	chip := newChip(t)
	formatTest(t, chip)
	f, log := logErases(chip)
	s := openTest(t, f, Options{})
	gen := uint64(1)
	for ; s.wraps < 1; gen++ {
		runRound(t, s, gen, payloads{1: randomBytes(gen, 50000)})
		require.Less(t, gen, uint64(1000), "the cursor never wrapped")
	}
	payload := randomBytes(gen, 50000)
	runRound(t, s, gen, payloads{1: payload})
	gen++
	dataLo := s.dataOff(0)
	log.erases = nil
	const rounds = 48
	for k := range rounds {
		payload = append([]byte(nil), payload...)
		payload[(k*4096+100)%len(payload)] ^= 0x5A // one chunk changes
		ps := payloads{1: payload}
		runRound(t, s, gen, ps)
		checkPayloads(t, s, ps)
		gen++
		if k == rounds/2 {
			s = openTest(t, f, Options{})
		}
	}
	windows := 0
	for _, e := range log.erases {
		if e[0] < dataLo {
			continue // journal
		}
		require.Zero(t, e[0]%eraseWindow, "data erase at %#x is not window-aligned", e[0])
		require.Equal(t, int64(eraseWindow), e[1], "data erase at %#x is not a whole window", e[0])
		windows++
	}
	// One chunk per round: a window serves 16 rounds (its first chunk and
	// 15 spares); a reopen may forget nothing, a compaction may forget the
	// spares once.
	require.GreaterOrEqual(t, windows, rounds/16)
	require.LessOrEqual(t, windows, rounds/16+2, "%d window erases for %d one-chunk rounds", windows, rounds)
}
