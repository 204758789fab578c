package reference_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/cmcsync/cmcsync/faults/reference"
)

// TestAgreesWithStore runs the real engine through many generations —
// rounds with changes, a configuration change, rounds cut by power at
// several points and purged at the restart, compactions into each area,
// a failover and rounds after it — and after each step requires the
// reference decoder and the store's own reader to agree on both chips.
func TestAgreesWithStore(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the engine for many rounds")
	}
	p := newPair(t, 7)
	step := 0
	// check compares both chips and returns the backup chip's decoding
	// (chip 1 until the failover, chip 0 after it).
	check := func(what string, backup int) *reference.Backup {
		t.Helper()
		step++
		var b [2]*reference.Backup
		for i, c := range p.chips {
			b[i] = requireAgree(t, c, p.layout, fmt.Sprintf("step %d (%s), chip %d", step, what, i))
		}
		return b[backup]
	}
	check("formatted", 1)
	for i := range 3 {
		p.round(time.Duration(i) * 10 * time.Minute)
		require.Equal(t, uint64(i+1), check("round", 1).Committed.Generation)
	}
	p.round(0)
	check("nothing changed", 1)
	p.setInterval(time.Minute)
	require.NotNil(t, check("config staged", 1).Staged)
	p.round(5 * time.Minute)
	b := check("config committed", 1)
	require.Nil(t, b.Staged)
	require.Equal(t, time.Minute, b.Committed.Config.Interval)
	p.saveInterval(3 * time.Minute)
	b = check("config saved by its own commit", 1)
	require.Nil(t, b.Staged)
	require.Equal(t, 3*time.Minute, b.Committed.Config.Interval)

	// Round-robin groups: GroupNext moves through the chosen types.
	c := p.eng.Config()
	c.GroupSize = 4
	require.NoError(t, p.eng.SetConfig(c))
	for range 3 {
		p.round(10 * time.Minute)
		require.Equal(t, uint16(4), check("a group round", 1).Committed.Config.GroupSize)
	}

	// Power cuts at several points of a round's backup writes: before the
	// intent, in it, among the chunks, near the commit.
	interrupted := 0
	for k, part := range []float64{0, 0.02, 0.1, 0.35, 0.65, 0.9} {
		p.setInterval(time.Duration(k+2) * time.Minute)
		require.NoError(t, p.gen.Step(p.region, 10*time.Minute))
		n := int64(part * float64(p.roundOps()))
		p.faultedRound(0, fmt.Sprintf("(on (and backup program (after %d)) cut)", n))
		pending := check(fmt.Sprintf("cut after op %d", n), 1).Pending
		p.open()
		b := check(fmt.Sprintf("purged after the cut at %d", n), 1)
		if pending != nil {
			interrupted++
			require.Equal(t, pending.Seq, b.LastPurged.Seq)
			require.Nil(t, b.Staged, "the purge drops the staged configuration")
		}
		p.round(time.Minute)
		check("round after the purge", 1)
	}
	require.GreaterOrEqual(t, interrupted, 3)
	// Torn writes: records half programmed.
	for _, n := range []int64{1, 30, 150} {
		p.faultedRound(10*time.Minute, fmt.Sprintf("(seed %d) (on (and backup program (after %d)) (torn random))", n, n))
		check(fmt.Sprintf("torn after op %d", n), 1)
		p.open()
		check(fmt.Sprintf("recovered after the torn write at %d", n), 1)
	}

	// Compactions into area 1, then back into area 0 over stale records.
	for _, area := range []int{1, 0} {
		p.compact(1)
		require.Equal(t, area, check("compacted", 1).Area)
		p.open()
		for range 3 {
			p.round(10 * time.Minute)
			check("round after compaction", 1)
		}
	}

	// A failover: the primary stalls beyond the threshold during a round.
	p.faultedRound(10*time.Minute, "(on (and primary read (after 5)) (delay 10s))")
	require.Equal(t, reference.Role{Epoch: 1, Active: 1}, check("failover", 1).Committed.Role)
	p.open()
	check("restart after the failover", 0)
	for range 2 {
		p.round(10 * time.Minute)
		b = check("round after the failover", 0)
	}
	require.Equal(t, uint8(1), b.Committed.Role.Active, "chip 0's store records chip 1 as active")
}

// TestAgreesAfterEveryCut cuts power at every flash operation of a round
// — an ordinary one, and one that compacts the journal — and tears the
// first program or erase from every fourth operation on with random bits,
// then requires both readers to agree on both chips after the cut and
// after the restart that purges the interrupted round.
func TestAgreesAfterEveryCut(t *testing.T) {
	if testing.Short() {
		t.Skip("runs hundreds of faulted rounds")
	}
	p := newPair(t, 9)
	p.round(0)
	cutEveryOp(t, p, "ordinary round")
	// Fill journal area 0: each restarted round starts a new block.
	for {
		p.open()
		p.round(0)
		b, err := reference.Decode(p.chips[1], p.layout.StoreOff, p.layout.StoreSize)
		require.NoError(t, err)
		sb := b.Superblock
		last := (b.Journal[len(b.Journal)-1].Off-b.StoreOff)/sb.EraseSize - int64(sb.JournalFirst[0])
		if last == int64(sb.JournalBlocks)-1 {
			break // the last block of area 0 is in use: the next round compacts
		}
	}
	cutEveryOp(t, p, "compacting round")
	p.open()
	p.round(0)
	require.Equal(t, 1, requireAgree(t, p.chips[1], p.layout, "compacted").Area)
}

// cutEveryOp runs p's next round (after ten minutes of CMC activity) once
// per operation, cut there, and checks the stores after the cut and after
// the restart.
func cutEveryOp(t *testing.T, p *pair, what string) {
	t.Helper()
	require.NoError(t, p.gen.Step(p.region, 10*time.Minute))
	ops, lastWrite := p.roundOpsAndLastWrite()
	base := p.snapshot()
	for n := range ops {
		schedules := []string{fmt.Sprintf("(on (at %d) cut)", n)}
		if n%4 == 0 && n <= lastWrite {
			schedules = append(schedules, fmt.Sprintf("(seed %d) (on (and (after %d) (not read)) (torn random))", n, n))
		}
		for _, s := range schedules {
			p.restore(base)
			p.faultedRound(0, s)
			for i, c := range p.chips {
				requireAgree(t, c, p.layout, fmt.Sprintf("%s, %s, chip %d", what, s, i))
			}
			p.open()
			for i, c := range p.chips {
				requireAgree(t, c, p.layout, fmt.Sprintf("%s, %s, restarted, chip %d", what, s, i))
			}
		}
	}
	p.restore(base)
	p.open()
}

// TestAgreesOnNAND runs rounds, a cut round and its purge, and a
// compaction on a pair of SPI NAND chips (2 KiB pages as slots, 128 KiB
// erase blocks as chunks).
func TestAgreesOnNAND(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the engine")
	}
	p := newPairOn(t, 21, "mt29f2g01", 64<<20)
	check := func(what string) {
		t.Helper()
		for i, c := range p.chips {
			requireAgree(t, c, p.layout, fmt.Sprintf("%s, chip %d", what, i))
		}
	}
	check("formatted")
	for range 3 {
		p.round(10 * time.Minute)
		check("round")
		p.open()
	}
	require.NoError(t, p.gen.Step(p.region, 10*time.Minute))
	p.faultedRound(0, fmt.Sprintf("(on (and backup program (after %d)) cut)", p.roundOps()/2))
	b := requireAgree(t, p.chips[1], p.layout, "cut")
	require.NotNil(t, b.Pending)
	require.Equal(t, int64(2048), b.Superblock.SlotSize)
	p.open()
	check("purged")
	p.compact(1)
	check("compacted")
	p.open()
	p.round(10 * time.Minute)
	check("round after the compaction")
}
