package daemon

import (
	"context"
	"encoding/binary"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/cmcsync/cmcsync/cmcsim"
	"github.com/cmcsync/cmcsync/daemon/history"
	"github.com/cmcsync/cmcsync/faults"
	"github.com/cmcsync/cmcsync/web"
)

// fileOptions are the options of a daemon on two simulated chips kept as
// image files in the state folder dir.
func fileOptions(t *testing.T, dir string) Options {
	return Options{Primary: simSpec(t, "flash0", filepath.Join(dir, "chip0.img")), Backup: simSpec(t, "flash1", filepath.Join(dir, "chip1.img")),
		StateDir: dir, Seed: 4, Budget: Budget{Burst: 100, Every: time.Second}}
}

// TestHistoryHelperProcess is not a test: TestHistorySurvivesKill runs the
// test binary with CMCSYNC_HISTORY_HELPER set to a state folder, to run a
// daemon there that commits two rounds and is killed (SIGKILL, by itself,
// at a chip operation) in the middle of the third.
func TestHistoryHelperProcess(t *testing.T) {
	dir := os.Getenv("CMCSYNC_HISTORY_HELPER")
	if dir == "" {
		return
	}
	var target atomicIndex
	o := fileOptions(t, dir)
	o.traceOps = func(op faults.Op) {
		if op.Index == target.load() {
			syscall.Kill(os.Getpid(), syscall.SIGKILL)
			select {}
		}
	}
	target.store(-1)
	d, err := Open(context.Background(), o)
	if err != nil {
		panic(err)
	}
	gen := cmcsim.New(4)
	for range 2 {
		if err := d.stepCMC(gen, time.Hour); err != nil {
			panic(err)
		}
		if _, err := d.SyncNow(context.Background()); err != nil {
			panic(err)
		}
	}
	if err := d.stepCMC(gen, time.Hour); err != nil {
		panic(err)
	}
	target.store(d.injector.Ops() + 60) // inside the third round's writes
	d.SyncNow(context.Background())
	panic("the third round was not killed")
}

// TestHistorySurvivesKill kills a daemon (SIGKILL) in the middle of a
// round and starts it again: the events, rounds and totals from before
// the kill are there, followed by the recovery's own events (the purge of
// the cut round); then a torn last record of the history is ignored.
func TestHistorySurvivesKill(t *testing.T) {
	dir := t.TempDir()
	cmd := exec.Command(os.Args[0], "-test.run=^TestHistoryHelperProcess$")
	cmd.Env = append(os.Environ(), "CMCSYNC_HISTORY_HELPER="+dir)
	out, err := cmd.CombinedOutput()
	var exit *exec.ExitError
	require.ErrorAs(t, err, &exit, "%s", out)
	require.Equal(t, syscall.SIGKILL, exit.Sys().(syscall.WaitStatus).Signal(), "%s", out)

	d, err := Open(context.Background(), fileOptions(t, dir))
	require.NoError(t, err)
	evs := d.Backend().Events()
	kinds := eventKinds(evs)
	t.Logf("events: %v", kinds)
	// Before the kill: a start, the format, two commits; no stop.
	secondStart := slices.Index(kinds[1:], "start") + 1
	require.Positive(t, secondStart)
	before := kinds[:secondStart]
	require.Equal(t, "start", before[0])
	require.Contains(t, before, "format")
	require.Equal(t, 2, countOf(before, "commit"))
	require.NotContains(t, before, "stop", "the helper was killed, not stopped")
	// After it: this start's recovery, with its purge.
	after := kinds[secondStart:]
	require.Contains(t, after, "recovery")
	require.Contains(t, after, "purge")
	require.Contains(t, after, "purge-verified")

	c := d.Backend().Status().Counters
	require.GreaterOrEqual(t, c.Rounds, uint64(2), "rounds from before the kill")
	require.GreaterOrEqual(t, c.Purges, uint64(1), "the recovery's purge")
	var rounds roundLog
	d.SetRecorder(&rounds)
	past := rounds.all()
	require.Len(t, past, 2)
	require.Equal(t, []uint64{1, 2}, []uint64{past[0].Generation, past[1].Generation})
	require.NoError(t, d.Close())

	// A torn last record (a write cut by a power cut) is ignored.
	f, err := os.OpenFile(filepath.Join(dir, history.CurrentFile), os.O_WRONLY|os.O_APPEND, 0)
	require.NoError(t, err)
	var torn [8 + 10]byte
	binary.LittleEndian.PutUint32(torn[:], 100) // a 100-byte record with 10 bytes written
	_, err = f.Write(torn[:])
	require.NoError(t, err)
	require.NoError(t, f.Close())
	d, err = Open(context.Background(), fileOptions(t, dir))
	require.NoError(t, err)
	again := d.Backend().Events()
	require.Equal(t, eventKinds(evs), eventKinds(again[:len(evs)]), "every event before the torn record")
	require.True(t, slices.ContainsFunc(again, func(ev web.Event) bool {
		return ev.Kind == "history" && strings.Contains(ev.Detail, "cut short")
	}), "the torn record is reported")
	require.NoError(t, d.Close())
}

func eventKinds(evs []web.Event) []string {
	out := make([]string, len(evs))
	for i, ev := range evs {
		out[i] = ev.Kind
	}
	return out
}

func countOf(s []string, v string) int {
	n := 0
	for _, x := range s {
		if x == v {
			n++
		}
	}
	return n
}

// TestWebCounters: an interrupted round is one failure (the engine counts
// it among both its interrupts and its errors).
func TestWebCounters(t *testing.T) {
	tests := []struct {
		name string
		in   totals
		want web.Counters
	}{
		{"one interrupted round", totals{Rounds: 1, Interrupts: 1, Errors: 1, Purges: 1}, web.Counters{Rounds: 1, Failures: 1, Purges: 1}},
		{"a failover", totals{Rounds: 2, Commits: 1, Interrupts: 1, Errors: 1, Failovers: 1, Purges: 1, BytesWritten: 9}, web.Counters{Rounds: 2, Failures: 1, Failovers: 1, Purges: 1, BytesWritten: 9}},
		{"a flash error", totals{Rounds: 3, Commits: 2, Errors: 1}, web.Counters{Rounds: 3, Failures: 1}},
	}
	for _, tt := range tests {
		require.Equal(t, tt.want, tt.in.webCounters(), tt.name)
	}
}
