package main

import (
	"context"
	"fmt"
	"maps"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/cmcsync/cmcsync/cmcsim"
	"github.com/cmcsync/cmcsync/faults"
	"github.com/cmcsync/cmcsync/hal"
	"github.com/cmcsync/cmcsync/internal/chipstate"
	"github.com/cmcsync/cmcsync/internal/flashspec"
	"github.com/cmcsync/cmcsync/sim"
	"github.com/cmcsync/cmcsync/sync/engine"
	"github.com/cmcsync/cmcsync/sync/info"
	"github.com/cmcsync/cmcsync/sync/store"
)

// simPair opens the image files a.img and b.img of dir as the CLI does
// (the layout resolved from the chips) on one virtual clock.
func simPair(t *testing.T, dir string) (a, b *sim.Flash, clock *sim.Clock, opts engine.Options) {
	t.Helper()
	clock = sim.NewClock(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	var specs [2]flashspec.Spec
	var chips [2]hal.Flash
	for i, n := range []string{"a.img", "b.img"} {
		s, err := flashspec.Parse(testChipSpec + filepath.Join(dir, n))
		require.NoError(t, err)
		s.Name = [2]string{"primary", "backup"}[i]
		specs[i] = s
		f, err := flashspec.Open(s, clock)
		require.NoError(t, err)
		chips[i] = f
	}
	l, id, err := chipstate.PairLayout(chips, specs, chipstate.Places{}, false)
	require.NoError(t, err)
	return chips[0].(*sim.Flash), chips[1].(*sim.Flash), clock, engine.Options{Clock: clock, Layout: l, Image: id, Config: engine.DefaultConfig()}
}

// cutPairFiles returns the files of the pair good after prepare (on the
// chips, before the engine opens) and after run on the engine behind a
// faults injector whose schedule cuts the power at the operation pick
// chooses from run's operations traced without faults ("(on (at N)
// cut)"), as the engine's power cut tests do, through the image files.
func cutPairFiles(t *testing.T, good map[string][]byte, prepare func(a *sim.Flash, opts engine.Options),
	run func(e *engine.Engine), pick func(ops []faults.Op, l engine.Layout) faults.Op) map[string][]byte {
	t.Helper()
	dir := t.TempDir()
	writeFiles(t, dir, good)
	a, b, _, opts := simPair(t, dir)
	prepare(a, opts)
	require.NoError(t, a.Close())
	require.NoError(t, b.Close())
	names := slices.Collect(maps.Keys(good))
	prepared := loadFiles(t, dir, names...)
	// try runs run behind an injector of sched on a fresh copy of
	// prepared, and returns the operations it made.
	try := func(sched string) []faults.Op {
		writeFiles(t, dir, prepared)
		a, b, clock, opts := simPair(t, dir)
		defer func() {
			require.NoError(t, a.Close())
			require.NoError(t, b.Close())
		}()
		s, err := faults.ParseSchedule(sched)
		require.NoError(t, err)
		var ops []faults.Op
		in := faults.NewInjector(s, faults.Options{Clock: clock, Disarmed: true, Trace: func(op faults.Op) {
			op.Data = nil
			ops = append(ops, op)
		}})
		e, err := engine.Open(context.Background(), in.Wrap(a, faults.Primary), in.Wrap(b, faults.Backup), opts)
		require.NoError(t, err)
		in.Arm()
		run(e)
		e.Release()
		return ops
	}
	sched := fmt.Sprintf("(on (at %d) cut)", pick(try("none"), opts.Layout).Index)
	t.Logf("fault schedule: %s", sched)
	try(sched)
	return loadFiles(t, dir, names...)
}

// interruptedPairFiles returns the files of the pair good after a change
// of the primary's information, a configuration staged, and a round cut
// by a power loss in the middle of its writes: the backup's store holds
// an interrupted round, which a read-write open purges.
func interruptedPairFiles(t *testing.T, good map[string][]byte) map[string][]byte {
	t.Helper()
	out := cutPairFiles(t, good, func(a *sim.Flash, opts engine.Options) {
		r, err := info.OpenRegion(a, opts.Layout.InfoOff, opts.Layout.InfoSize)
		require.NoError(t, err)
		_, err = cmcsim.New(3).Mutate(r, 0.1, true)
		require.NoError(t, err)
	}, func(e *engine.Engine) {
		// A configuration staged for the round: the purge drops it, so the
		// committed one (interval 5m) is the answer.
		c := e.Config()
		c.Interval = 7 * time.Minute
		require.NoError(t, e.StageConfig(c))
		_, _ = e.Round(context.Background())
	}, func(ops []faults.Op, _ engine.Layout) faults.Op {
		var programs []faults.Op
		for _, op := range ops {
			if op.Kind == faults.Program && op.Role == faults.Backup {
				programs = append(programs, op)
			}
		}
		require.Greater(t, len(programs), 4, "the round writes chunks")
		return programs[len(programs)/2]
	})
	// The backup's store holds the interrupted round.
	dir := t.TempDir()
	writeFiles(t, dir, out)
	f, err := sim.OpenFileReadOnly(filepath.Join(dir, "b.img"), sim.Options{Part: mustPart(t), Size: dmgSize})
	require.NoError(t, err)
	st, err := store.Open(f, 0x280000, dmgSize-0x280000, store.Options{ReadOnly: true})
	require.NoError(t, err)
	require.NotNil(t, st.Interrupted(), "the cut left an interrupted round")
	return out
}

// restoreCutPairFiles returns the files of the pair good after an image
// upgrade of the primary and a restore-defaults cut by a power loss in
// the middle of writing the defaults to the primary's information region
// (its mark committed): a read-write open writes the defaults again.
func restoreCutPairFiles(t *testing.T, good map[string][]byte) map[string][]byte {
	t.Helper()
	return cutPairFiles(t, good, func(a *sim.Flash, opts engine.Options) {
		l := opts.Layout
		require.NoError(t, info.WriteImage(a, info.ImageHeader{Version: "2.0.0", Size: l.ImageSize - info.ImageHeaderSize, Built: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}, 3))
	}, func(e *engine.Engine) {
		_ = e.Upgrade(engine.RestoreDefaults)
	}, func(ops []faults.Op, l engine.Layout) faults.Op {
		var defaults []faults.Op
		for _, op := range ops {
			if op.Role == faults.Primary && op.Kind == faults.Program && op.Off >= l.InfoOff && op.Off < l.InfoOff+l.InfoSize {
				defaults = append(defaults, op)
			}
		}
		require.NotEmpty(t, defaults, "the restore writes the defaults")
		return defaults[len(defaults)/2]
	})
}

func mustPart(t *testing.T) sim.Part {
	t.Helper()
	p, err := sim.LookupPart("mx66l1g45g")
	require.NoError(t, err)
	return p
}

// primaryPayload reads type ty's payload from the primary image a.img of
// dir directly, through the information region's reader (not the engine).
func primaryPayload(t *testing.T, dir string, ty info.Type) []byte {
	t.Helper()
	f, err := sim.OpenFileReadOnly(filepath.Join(dir, "a.img"), sim.Options{Part: mustPart(t), Size: dmgSize})
	require.NoError(t, err)
	r, err := info.OpenRegion(f, 0x80000, 2<<20)
	require.NoError(t, err)
	rec, err := r.Read(ty)
	require.NoError(t, err)
	return rec.Payload
}

// TestReadOnlyCommandsWriteNothing: config get and info get only read.
// On a healthy pair, on one whose backup has a damaged superblock copy,
// and on one left with an interrupted round by a power cut, every file of
// the pair is byte-identical after the command (no repair, no purge, no
// wear file), and the answer is the committed one: the stored
// configuration, the primary's record.
func TestReadOnlyCommandsWriteNothing(t *testing.T) {
	good := makeDamagedPair(t)
	healthyConfig := ""
	pairs := []struct {
		name  string
		files map[string][]byte
		note  string // on stderr
	}{
		{name: "healthy", files: good.files},
		{name: "one backup superblock copy damaged", files: map[string][]byte{"a.img": good.files["a.img"], "a.img.wear": good.files["a.img.wear"],
			"b.img": flipBits(good.files["b.img"], dmgSuper1), "b.img.wear": good.files["b.img.wear"]}},
		{name: "interrupted round", files: interruptedPairFiles(t, good.files), note: "interrupted round of generation"},
	}
	for _, p := range pairs {
		for _, cmd := range [][]string{{"config", "get"}, {"config", "get", "--json"}, {"info", "get", "power"}, {"info", "get", "event-log", "--json"}} {
			t.Run(p.name+"/"+strings.Join(cmd, " "), func(t *testing.T) {
				dir := t.TempDir()
				writeFiles(t, dir, p.files)
				before := snapshotDir(t, dir)
				args := append(append([]string{}, cmd...), "--primary", testChipSpec+filepath.Join(dir, "a.img"), "--backup", testChipSpec+filepath.Join(dir, "b.img"))
				out, errOut, err := runCLI(args...)
				require.NoError(t, err, errOut)
				require.Empty(t, unexpectedChanges(before, snapshotDir(t, dir), nil), "files changed by a read-only command")
				if p.note != "" {
					require.Contains(t, errOut, p.note)
					require.Contains(t, errOut, "nothing was written")
				}
				switch {
				case cmd[0] == "config" && len(cmd) == 2:
					if p.name == "healthy" {
						healthyConfig = out
					}
					require.Equal(t, "types all\ninterval 5m0s\nthreshold 2s\nverify false\ngroup-size 0\nretry-at-once false\n", out)
				case cmd[0] == "config":
					require.Contains(t, out, `"interval_seconds": 300`)
				case cmd[1] == "get" && len(cmd) == 3:
					require.Equal(t, string(primaryPayload(t, dir, info.Power)), out)
				default:
					require.Contains(t, out, `"type": "event-log"`)
				}
			})
		}
	}
	require.NotEmpty(t, healthyConfig)
}

// TestReadOnlyCommandsBusy: a read-only command locks the chips as a
// writing one does: an image another opener holds (a daemon, a sync) is
// busy, exit 3, and read no more than before (with --config naming a
// daemon's configuration, the command then asks its API).
func TestReadOnlyCommandsBusy(t *testing.T) {
	good := makeDamagedPair(t)
	for _, cmd := range [][]string{{"config", "get"}, {"info", "get", "power"}} {
		t.Run(strings.Join(cmd, " "), func(t *testing.T) {
			dir := t.TempDir()
			writeFiles(t, dir, good.files)
			held, err := sim.OpenFile(filepath.Join(dir, "b.img"), sim.Options{Part: mustPart(t), Size: dmgSize})
			require.NoError(t, err)
			defer held.Close()
			args := append(append([]string{}, cmd...), "--primary", testChipSpec+filepath.Join(dir, "a.img"), "--backup", testChipSpec+filepath.Join(dir, "b.img"))
			_, _, err = runCLI(args...)
			require.Error(t, err)
			require.Equal(t, exitRefused, exitCode(err), "%v", err)
			require.Contains(t, err.Error(), "device busy")
		})
	}
}

// TestReadOnlyInfoGetRefusesAnUnfinishedRestore: a restore-defaults cut
// in the middle of writing the primary's information region leaves it
// half restored; info get, which only reads, refuses (exit 3) saying what
// is pending and that cmcsync sync finishes it, and writes nothing;
// config get answers (the configuration is the committed one). After
// cmcsync sync, info get answers the defaults.
func TestReadOnlyInfoGetRefusesAnUnfinishedRestore(t *testing.T) {
	good := makeDamagedPair(t)
	files := restoreCutPairFiles(t, good.files)
	dir := t.TempDir()
	writeFiles(t, dir, files)
	chips := []string{"--primary", testChipSpec + filepath.Join(dir, "a.img"), "--backup", testChipSpec + filepath.Join(dir, "b.img")}
	before := snapshotDir(t, dir)
	_, _, err := runCLI(append([]string{"info", "get", "power"}, chips...)...)
	require.Error(t, err)
	require.Equal(t, exitRefused, exitCode(err), "%v", err)
	for _, want := range []string{"info get: a restore-defaults", "is not complete", "nothing was written", "run cmcsync sync"} {
		require.Contains(t, err.Error(), want)
	}
	out, errOut, err := runCLI(append([]string{"config", "get"}, chips...)...)
	require.NoError(t, err)
	require.Contains(t, out, "interval 5m0s")
	require.Contains(t, errOut, "restore-defaults")
	require.Empty(t, unexpectedChanges(before, snapshotDir(t, dir), nil), "files changed by a read-only command")

	_, _, err = runCLI(append([]string{"sync"}, chips...)...)
	require.NoError(t, err)
	out, _, err = runCLI(append([]string{"info", "get", "power"}, chips...)...)
	require.NoError(t, err)
	require.Equal(t, string(info.Default(info.Power)), out)
}

// TestReadOnlyChipRefusesWrites: a chip a read-only command opened fails
// every program, erase and bad-block mark loudly (a simulated chip loaded
// read-only would otherwise take them into memory unnoticed) and reads
// as the chip does.
func TestReadOnlyChipRefusesWrites(t *testing.T) {
	f, err := sim.New(sim.Options{Part: mustPart(t), Size: dmgSize})
	require.NoError(t, err)
	c := readOnlyChip{f}
	_, err = c.WriteAt([]byte{0}, 0)
	require.ErrorIs(t, err, errReadOnlyChip)
	require.ErrorIs(t, c.Erase(0, f.Geometry().EraseSize), errReadOnlyChip)
	require.ErrorIs(t, hal.MarkBad(c, 0), errReadOnlyChip)
	require.Zero(t, f.Stats().Programs+f.Stats().Erases, "nothing reached the chip")
	b := make([]byte, 16)
	_, err = c.ReadAt(b, 0)
	require.NoError(t, err)
	require.True(t, hal.IsErased(b))
}
