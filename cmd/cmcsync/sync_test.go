package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/cmcsync/cmcsync/internal/flashspec"
	"github.com/cmcsync/cmcsync/internal/jsonout"
	"github.com/cmcsync/cmcsync/sim"
	"github.com/cmcsync/cmcsync/sync/engine"
	"github.com/cmcsync/cmcsync/sync/store"
)

func TestSyncFlags(t *testing.T) {
	for _, tc := range []struct {
		args []string
		code int
	}{
		{[]string{"sync"}, 2},
		{[]string{"sync", "--primary", "sim:part=mx66l1g45g,size=8M"}, 2},
		{[]string{"sync", "--primary", "bogus", "--backup", "sim:part=mx66l1g45g"}, 2},
		{[]string{"sync", "--primary", "sim:part=mx66l1g45g,size=8M", "--backup", "sim:part=mx66l1g45g,size=8M", "--select", "power,nope"}, 2},
		// An empty --select is an empty list (as config set --types ""), not "not given".
		{[]string{"sync", "--primary", "sim:part=mx66l1g45g,size=8M", "--backup", "sim:part=mx66l1g45g,size=8M", "--populate", "--select", ""}, 2},
		{[]string{"sync", "--primary", "sim:part=mx66l1g45g,size=8M", "--backup", "sim:part=mx66l1g45g,size=8M", "extra"}, 2},
		// Blank chips without --populate.
		{[]string{"sync", "--primary", "sim:part=mx66l1g45g,size=8M", "--backup", "sim:part=mx66l1g45g,size=8M"}, 1},
	} {
		_, _, err := runCLI(tc.args...)
		require.Equal(t, tc.code, statusOf(err), "%v: %v", tc.args, err)
	}
}

func TestSyncPopulateInMemory(t *testing.T) {
	out, _, err := runCLI("sync", "--primary", "sim:part=mx66l1g45g,size=8M", "--backup", "sim:part=mx66l1g45g,size=8M", "--populate", "--select", "power,fan")
	require.NoError(t, err)
	require.Contains(t, out, "round: committed, generation 1, types power,fan")
}

func syncJSON(t *testing.T, args ...string) syncResult {
	t.Helper()
	out, errOut, err := runCLI(append([]string{"sync", "--json"}, args...)...)
	require.NoError(t, err, errOut)
	var res syncResult
	require.NoError(t, jsonout.Check([]byte(out)), out)
	require.NoError(t, json.Unmarshal([]byte(out), &res), out)
	return res
}

func inspectJSON(t *testing.T, spec string) (jsonout.Inspection, error) {
	t.Helper()
	out, _, err := runCLI("inspect", "--json", "--flash", spec)
	require.NoError(t, jsonout.Check([]byte(out)), out)
	var in jsonout.Inspection
	require.NoError(t, json.Unmarshal([]byte(out), &in), out)
	return in, err
}

func TestSyncOnImageFiles(t *testing.T) {
	dir := t.TempDir()
	a := testChipSpec + filepath.Join(dir, "a.img")
	b := testChipSpec + filepath.Join(dir, "b.img")
	res := syncJSON(t, "--primary", a, "--backup", b, "--populate")
	require.True(t, res.Formatted)
	require.Equal(t, engine.OutcomeCommitted, res.Round.Outcome)

	// Nothing changed: no erase, only the commit record's page.
	res = syncJSON(t, "--primary", a, "--backup", b)
	require.Equal(t, engine.OutcomeNothingChanged, res.Round.Outcome)
	require.Equal(t, int64(0), res.Round.DataErases, "no data block erased")
	require.LessOrEqual(t, res.Round.Erases, int64(1), "at most the journal block a restarted engine continues in")
	require.Equal(t, int64(1), res.Round.PagesProgrammed, "only the commit record")
	require.Equal(t, uint64(2), res.Status.Generation)

	// inspect: the backup's digests are the primary's.
	pin, err := inspectJSON(t, a)
	require.NoError(t, err)
	bin, err := inspectJSON(t, b)
	require.NoError(t, err)
	require.NotNil(t, bin.Store)
	require.Equal(t, uint64(2), bin.Store.Generation)
	require.Len(t, bin.Store.Types, 6)
	for i, ty := range bin.Store.Types {
		require.Equal(t, pin.Info[i].Digest, ty.Digest, "type %s", ty.Name)
		require.Equal(t, pin.Info[i].Size, ty.Size)
	}
	out, _, err := runCLI("inspect", "--flash", b)
	require.NoError(t, err)
	require.Contains(t, out, "verified: every committed chunk matches its digest")
}

// TestSyncAfterDamage scribbles over the backup's superblock, a commit
// record and a data block: inspect reports each, sync recovers.
func TestSyncAfterDamage(t *testing.T) {
	for _, what := range []string{"superblock", "journal", "data"} {
		t.Run(what, func(t *testing.T) {
			dir := t.TempDir()
			a := testChipSpec + filepath.Join(dir, "a.img")
			bfile := filepath.Join(dir, "b.img")
			b := testChipSpec + bfile
			syncJSON(t, "--primary", a, "--backup", b, "--populate")
			syncJSON(t, "--primary", a, "--backup", b)
			bin, err := inspectJSON(t, b)
			require.NoError(t, err)
			l := bin.Layout
			var off int64
			switch what {
			case "superblock":
				off = l.Store.Offset + 10
			case "journal":
				for _, r := range bin.Store.Journal.Log { // the first commit record
					if r.Kind == "commit" {
						off = r.Offset
						break
					}
				}
			}
			spec, err := flashspec.Parse(b)
			require.NoError(t, err)
			part, err := sim.LookupPart(spec.Part)
			require.NoError(t, err)
			f, err := sim.OpenFile(bfile, sim.Options{Part: part, Size: spec.Size})
			require.NoError(t, err)
			if what == "data" { // the first chunk of the first type
				s, err := store.Open(f, l.Store.Offset, l.Store.Size, store.Options{ReadOnly: true})
				require.NoError(t, err)
				off = s.BlockOffset(s.StateRef().Types[0].Chunks[0].Block) + 200
			}
			f.Poke(off, []byte("random bytes over the backup!"))
			require.NoError(t, f.Close())

			_, err = inspectJSON(t, b)
			require.Equal(t, 1, statusOf(err), "inspect reports the damage")
			out, _, err := runCLI("sync", "--primary", a, "--backup", b)
			require.NoError(t, err, out)
			t.Logf("sync after %s damage:\n%s", what, out)
			switch what {
			case "superblock", "journal":
				require.Contains(t, out, "damage:")
			case "data":
				require.Contains(t, out, "rewriting")
			}
			if what == "superblock" {
				require.Contains(t, out, "round: nothing-changed") // repaired from the other copy
			} else {
				require.Contains(t, out, "round: committed")
			}
			bin, err = inspectJSON(t, b)
			require.NoError(t, err, "%+v", bin.Store.Damage)
			pin, _ := inspectJSON(t, a)
			for i, ty := range bin.Store.Types {
				require.Equal(t, pin.Info[i].Digest, ty.Digest)
			}
			_ = strings.Contains
		})
	}
}

// TestSyncPopulateIgnoredSaysWhatEachChipHolds: --populate on a pair where
// a store is there formats nothing and says what each chip holds, also
// when only one of them holds a store (a blank, replaced backup).
func TestSyncPopulateIgnoredSaysWhatEachChipHolds(t *testing.T) {
	dir := t.TempDir()
	a := testChipSpec + filepath.Join(dir, "a.img")
	b := testChipSpec + filepath.Join(dir, "b.img")
	blank := testChipSpec + filepath.Join(dir, "blank.img")
	syncJSON(t, "--primary", a, "--backup", b, "--populate", "--select", "power")
	_, _, err := runCLI("inspect", "--flash", blank) // does not create it
	require.Equal(t, 2, statusOf(err))
	// The replaced backup is a blank image file (a missing one is refused,
	// exit 2: TestDamagedInputs, "mistyped backup path: sync --populate").
	require.NoError(t, os.WriteFile(filepath.Join(dir, "blank.img"), filled(0xFF), 0o644))
	for _, tc := range []struct {
		name, backup string
		want         []string
	}{
		{"both hold a store", b, []string{"primary: a cmcsync store (generation 0", "backup: a cmcsync store (generation 1"}},
		{"only the primary", blank, []string{"primary: a cmcsync store (generation 0", "backup: nothing (erased)"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, errOut, _ := runCLI("sync", "--primary", a, "--backup", tc.backup, "--populate")
			require.Contains(t, errOut, "--populate ignored, nothing formatted")
			for _, w := range tc.want {
				require.Contains(t, errOut, w)
			}
			require.NotContains(t, errOut, "the chips hold a store")
		})
	}
}
