package main

import (
	"bytes"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/cmcsync/cmcsync/faults/reference"
)

// shapePair is a pair made by the tool (sync --populate, info put, sync)
// with the backup's bytes after the first round kept: an older
// generation's journal to splice in.
type shapePair struct {
	files  map[string][]byte // a.img, b.img and their wear files, after the second round
	oldB   []byte            // b.img after the first round
	otherB []byte            // b.img of another pair
}

func makeShapePair(t *testing.T) shapePair {
	t.Helper()
	var sp shapePair
	for i, seed := range []string{"1", "7"} {
		dir := t.TempDir()
		chips := pairArgs(dir)
		_, _, err := runCLI(append([]string{"sync", "--populate", "--seed", seed}, chips...)...)
		require.NoError(t, err)
		if i == 1 {
			sp.otherB = readFile(t, filepath.Join(dir, "b.img"))
			break
		}
		sp.oldB = readFile(t, filepath.Join(dir, "b.img"))
		_, _, err = runCLI(append([]string{"info", "put", "event-log", selFile(t, dir, 5)}, chips...)...)
		require.NoError(t, err)
		_, _, err = runCLI(append([]string{"sync"}, chips...)...)
		require.NoError(t, err)
		sp.files = loadFiles(t, dir, "a.img", "a.img.wear", "b.img", "b.img.wear")
	}
	return sp
}

// decodeBackup decodes the store of an 8 MiB test image with the
// reference decoder (package faults/reference).
func decodeBackup(t *testing.T, img []byte) *reference.Backup {
	t.Helper()
	b, err := reference.Decode(bytes.NewReader(img), 0x280000, int64(len(img))-0x280000)
	require.NoError(t, err)
	return b
}

// checkCommitted checks with the reference decoder that every committed
// chunk of the image matches its digest and every committed payload reads
// back whole.
func checkCommitted(t *testing.T, img []byte) *reference.Backup {
	t.Helper()
	b := decodeBackup(t, img)
	bad, err := b.VerifyChunks(bytes.NewReader(img))
	require.NoError(t, err)
	require.Empty(t, bad, "committed chunks that fail their digests")
	for _, ty := range b.Committed.Types {
		_, err := b.Payload(bytes.NewReader(img), ty.Type)
		require.NoError(t, err, "type %d", ty.Type)
	}
	return b
}

// TestDamageShapesEndToEnd: five shapes of damage to the backup's image,
// each run through the CLI. inspect only reads (no file changes) and
// reports the damage it sees (exit 1) or none (exit 0); sync either
// refuses (exit 2 or 3: no byte of any file changes) or runs a round that
// the reference decoder then checks (every committed chunk matches its
// digest, every payload reads whole, a newer generation), after which
// inspect agrees (exit 0); serve refuses the shapes sync refuses, as
// sync does, and writes nothing.
func TestDamageShapesEndToEnd(t *testing.T) {
	sp := makeShapePair(t)
	b := sp.files["b.img"]
	ref := decodeBackup(t, b)
	metaOff, metaSize := ref.MetadataRange()

	// The first journal block that differs between the first round's
	// image and the second's: the older generation's block, spliced in.
	oldJournal := slices.Clone(b)
	spliced := false
	for off := metaOff + 2*4096; off < metaOff+metaSize; off += 4096 {
		if !bytes.Equal(b[off:off+4096], sp.oldB[off:off+4096]) {
			copy(oldJournal[off:off+4096], sp.oldB[off:off+4096])
			spliced = true
			break
		}
	}
	require.True(t, spliced, "the rounds wrote the journal")

	// A committed chunk's data block overwritten by another chunk's.
	var blocks []uint32
	for _, ty := range ref.Committed.Types {
		for _, c := range ty.Chunks {
			blocks = append(blocks, c.Block)
		}
	}
	require.GreaterOrEqual(t, len(blocks), 2)
	otherChunk := slices.Clone(b)
	from, to := ref.BlockOffset(blocks[0]), ref.BlockOffset(blocks[len(blocks)-1])
	copy(otherChunk[to:to+4096], b[from:from+4096])

	oneSuper := slices.Clone(b) // another pair's superblock on copy 0 only
	copy(oneSuper[0x280000:0x281000], sp.otherB[0x280000:0x281000])

	for _, tc := range []struct {
		name    string
		b       []byte
		inspect int // inspect --flash b.img before the round
		sync    int // 0: a round ran and is checked
		want    string
	}{
		{name: "another pair's superblock on copy 0 only", b: oneSuper, inspect: 1, sync: 0},
		{name: "an older generation's journal block spliced in", b: oldJournal, inspect: 0, sync: 0},
		{name: "another chunk's data block copied over a chunk", b: otherChunk, inspect: 1, sync: 0},
		{name: "truncated image file", b: b[:len(b)-4096], inspect: 2, sync: 2, want: "holds 8384512 bytes"},
		{name: "image of another part size", b: append(slices.Clone(b), make([]byte, len(b))...), inspect: 2, sync: 2, want: "holds 16777216 bytes"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			writeFiles(t, dir, sp.files)
			require.NoError(t, os.WriteFile(filepath.Join(dir, "b.img"), tc.b, 0o644))
			chips := pairArgs(dir)

			before := snapshotDir(t, dir)
			_, _, err := runCLI("inspect", "--flash", chips[3])
			require.Equal(t, tc.inspect, statusOf(err), "inspect: %v", err)
			require.Empty(t, unexpectedChanges(before, snapshotDir(t, dir), nil), "inspect wrote")

			_, _, err = runCLI(append([]string{"sync"}, chips...)...)
			require.Equal(t, tc.sync, statusOf(err), "sync: %v", err)
			if tc.sync != 0 {
				require.ErrorContains(t, err, tc.want)
				require.Empty(t, unexpectedChanges(before, snapshotDir(t, dir), nil), "a refused sync wrote")
				_, _, err = runCLI(append([]string{"serve", "--listen", "127.0.0.1:0", "--state", filepath.Join(dir, "st"), "--cmc-step", "0"}, chips...)...)
				require.Equal(t, tc.sync, statusOf(err), "serve: %v", err)
				require.ErrorContains(t, err, tc.want)
				require.Empty(t, unexpectedChanges(before, snapshotDir(t, dir), nil), "a refused serve wrote")
				return
			}
			after := readFile(t, filepath.Join(dir, "b.img"))
			got := checkCommitted(t, after)
			require.Greater(t, got.Committed.Generation, decodeBackup(t, tc.b).Committed.Generation, "the round committed a newer generation")
			require.False(t, got.Damaged(), "the reference decoder finds no damage after the round: %v", got.Findings)
			_, _, err = runCLI("inspect", "--flash", chips[3])
			require.NoError(t, err, "inspect agrees: no damage after the round")
		})
	}
}
