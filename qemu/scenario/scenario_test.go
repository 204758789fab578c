package scenario

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/cmcsync/cmcsync/qemu/guest"
	"github.com/cmcsync/cmcsync/qemu/vm"
	"github.com/cmcsync/cmcsync/sync/engine"
	"github.com/cmcsync/cmcsync/sync/info"
)

// TestGuestCommands: the scenarios' guest command lines carry the
// scenario's engine variant.
func TestGuestCommands(t *testing.T) {
	e := &env{o: Options{Mutant: engine.NoPurge}}
	require.Equal(t, "cmcsync guest --primary mtd:/dev/mtd5 --backup mtd:/dev/mtd6 --rounds 1 --seed 9 --activity 2h0m0s --mutant no-purge",
		e.guestCommand(1, 9, 2*time.Hour).String())
	e.o.Mutant = engine.None
	require.Equal(t, "cmcsync guest --primary mtd:/dev/mtd5 --backup mtd:/dev/mtd6 --rounds 0 --seed 9 --activity 0s",
		e.guestCommand(0, 9, 0).String())
}

func TestReportedGenerations(t *testing.T) {
	p := &powercut{digests: map[uint64]*genDigests{}}
	mk := func(s string) []guest.Line {
		l, err := guest.Parse(s)
		require.NoError(t, err)
		return l
	}
	tests := []struct {
		name                string
		out                 string
		committed, inFlight uint64
	}{
		{"cut in a round", "GUEST {\"event\":\"open\",\"generation\":4}\nGUEST {\"event\":\"round-start\",\"round\":1}\n" +
			"GUEST {\"event\":\"round\",\"round\":1,\"generation\":5,\"report\":{\"outcome\":\"committed\"},\"types\":[{\"type\":2,\"digest\":\"cd\"}]}\n" +
			"GUEST {\"event\":\"round-start\",\"round\":2}\n", 5, 6},
		{"cut between rounds", "GUEST {\"event\":\"open\",\"generation\":4}\nGUEST {\"event\":\"round-start\",\"round\":1}\n" +
			"GUEST {\"event\":\"round\",\"round\":1,\"generation\":4,\"report\":{\"outcome\":\"nothing-changed\"}}\n", 4, 0},
		{"cut before open", "", 0, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, f := p.reported(mk(tt.out))
			require.Equal(t, tt.committed, c)
			require.Equal(t, tt.inFlight, f)
		})
	}
	require.Equal(t, "cd", p.digests[5].store[info.Fan])
}

func TestCycleLineAndTally(t *testing.T) {
	c := &Cycle{Cycle: 3, KillRound: 2, KillDelay: Seconds(1500e6), LastCommitted: 7, InFlight: 8, AfterCut: 7,
		Interrupted: true, InterruptedBlocks: 12, Recovered: 7, RecoveryChecked: true, Purged: true, Replay: "cmcsync vm scenario powercut --cycles 5 --seed 9 (cycle 3)"}
	tl := newTally()
	tl.add(c, "atomic", true, "")
	tl.add(c, "durable", false, "lost %d", 7)
	line := c.Line()
	for _, want := range []string{"cycle 3:", "1.5s into round 2", "generation 8 in flight", "interrupted round over 12 blocks", "after purge", "1 VIOLATIONS: durable: lost 7", "replay: cmcsync vm scenario powercut"} {
		require.Contains(t, line, want)
	}
	require.Equal(t, 1, tl.ok["atomic"])
	require.Equal(t, []string{"cycle 3: durable: lost 7"}, tl.bad["durable"])
	require.Equal(t, []string{"atomic", "durable"}, tl.order)
}

func TestReport(t *testing.T) {
	r := &Report{Scenario: "sync", Variant: "arm", Seed: 4, Replay: replayLine("sync", Options{Seed: 4, Mutant: engine.NoPurge})}
	require.Equal(t, "cmcsync vm scenario sync --seed 4 --mutant no-purge", r.Replay)
	r.check("a", true, "fine")
	r.Pass = true
	require.Equal(t, "sync passed: 1 checks", r.Summary())
	r.check("b", false, "broken %d", 2)
	r.Pass = false
	require.Contains(t, r.Summary(), "sync FAILED: b: broken 2; replay: cmcsync vm scenario sync --seed 4")
	var buf bytes.Buffer
	r.WriteText(&buf)
	require.Contains(t, buf.String(), "FAIL b: broken 2")
	require.Equal(t, "cmcsync vm scenario powercut --cycles 20 --seed 1", replayLine("powercut", Options{Cycles: 20, Seed: 1}))
	require.Equal(t, "cmcsync vm scenario daemon-powercut --cycles 2 --seed 1", replayLine("daemon-powercut", Options{Cycles: 2, Seed: 1}))
}

func TestNames(t *testing.T) {
	require.Equal(t, []string{"calibrate", "daemon-powercut", "diff", "nand", "nand-diff", "powercut", "selftest", "sync"}, Names())
	require.True(t, Known("powercut"))
	require.False(t, Known("dance"))
	_, err := Run(context.Background(), "dance", Options{})
	require.ErrorContains(t, err, "unknown scenario")
}

// TestHostChecks runs the host half of the sync scenario without QEMU:
// images prepared, a round run on the host in place of the guest, then the
// same decode and comparisons the scenario makes.
func TestHostChecks(t *testing.T) {
	dir := t.TempDir()
	e := &env{o: Options{Seed: 3}, dir: dir, rep: &Report{}, logf: func(string, ...any) {},
		primary: filepath.Join(dir, "primary.img"), backup: filepath.Join(dir, "backup.img")}
	cfg := engine.DefaultConfig()
	l, err := prepareImages(context.Background(), e, cfg, false)
	require.NoError(t, err)
	before, err := readImages(e.primary, e.backup, l)
	require.NoError(t, err)
	require.Equal(t, uint64(0), before.Backup.Generation)
	require.NotEmpty(t, compareSynced(before, cfg.Types), "nothing synced yet")

	l2, err := prepareImages(context.Background(), e, cfg, true)
	require.NoError(t, err)
	require.Equal(t, l, l2)
	after, err := readImages(e.primary, e.backup, l)
	require.NoError(t, err)
	require.Equal(t, uint64(1), after.Backup.Generation)
	require.Empty(t, compareSynced(after, cfg.Types))
	require.Empty(t, after.ChunkErrors)
	require.Nil(t, after.Interrupted)
	require.NoError(t, after.ImageErr)
	require.NotEmpty(t, after.Live)

	// A live block is skipped; a free block is erased; scribbling on it is found.
	var live, free uint32
	for b := range after.Live {
		live = b
		break
	}
	for free = 0; after.Live[free]; free++ {
	}
	bad, err := blocksNotErased(e.backup, after, []uint32{live, free})
	require.NoError(t, err)
	require.Empty(t, bad)
	fh, err := os.OpenFile(e.backup, os.O_WRONLY, 0)
	require.NoError(t, err)
	_, err = fh.WriteAt([]byte{0}, after.DataOff+int64(free)*after.ChunkSize+100)
	require.NoError(t, err)
	require.NoError(t, fh.Close())
	bad, err = blocksNotErased(e.backup, after, []uint32{live, free})
	require.NoError(t, err)
	require.Equal(t, []uint32{free}, bad)
}

func TestNANDDataStart(t *testing.T) {
	b, err := nandDataStart(context.Background())
	require.NoError(t, err)
	// After the firmware image and the information region (72 blocks)
	// and the store's superblocks and journals, well inside the partition.
	require.Greater(t, b, int64(72))
	require.Less(t, b+nandBadWindow, int64(nandPartBlocks))
	t.Logf("data area starts at block %d", b)
}

// TestExpectGuest: the power-cut scenario waits for guest lines by their
// decoded event and round, whatever the order of their JSON fields and
// whatever else the console prints.
func TestExpectGuest(t *testing.T) {
	console := "cmc# cmcsync guest --hold\n" +
		"GUEST {\"generation\":4,\"event\":\"open\",\"elapsed_seconds\":0.003}\n" +
		"GUEST {\"round\":1,\"event\":\"round-start\"}\n" +
		"[   40.1] kernel: something\n" +
		"GUEST {\"event\":\"round\",\"round\":1,\"report\":{\"outcome\":\"nothing-changed\"}}\n" +
		"GUEST {\"round\":2,\"event\":\"round-start\"}\n" +
		"GUEST {\"event\":\"backup-write\",\"round\":2}\n"
	m := &vm.Machine{Console: vm.NewConsole(strings.NewReader(console), nil, nil)}
	ctx := context.Background()
	open, err := expectGuest(ctx, m, "open", isLine(guest.EventOpen, 0))
	require.NoError(t, err)
	require.Equal(t, uint64(4), open.Generation)
	// Round 1 wrote nothing: its end stands for its first write.
	got, err := expectGuest(ctx, m, "round 1 backup-write or end", writeOrEnd(1))
	require.NoError(t, err)
	require.Equal(t, guest.EventRound, got.Event)
	got, err = expectGuest(ctx, m, "round 2 backup-write or end", writeOrEnd(2))
	require.NoError(t, err)
	require.True(t, got.Is(guest.EventBackupWrite, 2))
	_, err = expectGuest(ctx, m, "round 3 start", isLine(guest.EventRoundStart, 3))
	require.ErrorIs(t, err, vm.ErrExited)
	require.ErrorContains(t, err, "the guest's round 3 start line")
}
