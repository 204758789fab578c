package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestInspectReportsBothSuperblockCopies: a backup whose store block 0 was
// overwritten by the primary's (a re-imaged chip: copy 0 says chip id 0,
// copy 1 chip id 1) is decoded from copy 0, as docs/FORMAT.md 4.4 says a
// reader of one chip must; inspect names both copies, the one it used
// and why, and the copy the engine uses on chip A and on chip B. Its JSON
// says the same and follows docs/schema/inspect.json. Checked failing
// with the copies' lines left out and with as_chip left out.
func TestInspectReportsBothSuperblockCopies(t *testing.T) {
	dir := t.TempDir()
	_, errOut, err := runCmd("sync", append(pairArgs(dir), "--populate")...)
	require.NoError(t, err, errOut)
	a, b := filepath.Join(dir, "a.img"), filepath.Join(dir, "b.img")

	out, _, err := runCmd("inspect", "--flash", testChipSpec+b)
	require.NoError(t, err, "equal copies: no damage")
	require.NotContains(t, out, "superblock copy", "equal copies are not listed")

	const block0 = dmgSuper0 - 8
	ai, bi := readFile(t, a), readFile(t, b)
	copy(bi[block0:block0+4096], ai[block0:block0+4096])
	require.NoError(t, os.WriteFile(b, bi, 0o644))

	out, _, err = runCmd("inspect", "--flash", testChipSpec+b)
	require.Equal(t, 1, statusOf(err), "the differing copies are damage: %v", err)
	require.Contains(t, out, "store: chip id 0, ")
	require.Regexp(t, `superblock copy 0 at 0x280000: valid: chip id 0, pair 0x[0-9a-f]+, format v5, formatted 20`, out)
	require.Regexp(t, `superblock copy 1 at 0x281000: valid: chip id 1, pair 0x[0-9a-f]+, format v5, formatted 20`, out)
	require.Contains(t, out, "superblock: copy 0 used: the copies differ (damage) and this reader does not know which chip of which pair the store is: copy 0 (docs/FORMAT.md 4.4); "+
		"the engine, which knows, uses copy 0 on chip A (chip id 0) and copy 1 on chip B (chip id 1), and rewrites the other\n")

	out, _, err = runCmd("inspect", "--json", "--flash", testChipSpec+b)
	require.Equal(t, 1, statusOf(err))
	requireSchema(t, "inspect", out)
	var in struct {
		Store struct {
			Copies struct {
				Copies []struct {
					State      string `json:"state"`
					Superblock struct {
						ChipID int `json:"chip_id"`
					} `json:"superblock"`
				} `json:"copies"`
				Used   int    `json:"used"`
				Why    string `json:"why"`
				AsChip []int  `json:"as_chip"`
			} `json:"superblock_copies"`
		} `json:"store"`
	}
	require.NoError(t, json.Unmarshal([]byte(out), &in))
	c := in.Store.Copies
	require.Len(t, c.Copies, 2)
	for i, cp := range c.Copies {
		require.Equal(t, "valid", cp.State)
		require.Equal(t, i, cp.Superblock.ChipID)
	}
	require.Equal(t, 0, c.Used)
	require.Contains(t, c.Why, "does not know which chip")
	require.Equal(t, []int{0, 1}, c.AsChip)
}
