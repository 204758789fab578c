package store

import (
	"bytes"
	"compress/gzip"
	"fmt"
	"io"
	"os"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/cmcsync/cmcsync/sim"
)

// loadVersion1 returns a chip holding testdata/v1-store.img.gz at
// testStoreOff (see testdata/README.md), and the payloads of its
// generation 2.
func loadVersion1(t *testing.T) (*sim.Flash, payloads) {
	t.Helper()
	z, err := os.ReadFile("testdata/v1-store.img.gz")
	require.NoError(t, err)
	r, err := gzip.NewReader(bytes.NewReader(z))
	require.NoError(t, err)
	img, err := io.ReadAll(r)
	require.NoError(t, err)
	require.Len(t, img, testStoreSize)
	f := newChip(t)
	f.Poke(testStoreOff, img)
	ps := payloads{1: randomBytes(1, 50000), 2: randomBytes(2, 9000)}
	ps[1][20000] ^= 0xFF
	return f, ps
}

// TestOpensVersion1Store: a store written by the format version 1 code
// opens as it is — its generation, payloads, staged configuration and
// purged round — takes rounds, and is upgraded to version 2 (both
// superblocks) before the first version 2 record (a configuration
// committed on its own) goes into its journal.
func TestOpensVersion1Store(t *testing.T) {
	f, ps := loadVersion1(t)
	s := openTest(t, f, Options{ReadOnly: true})
	require.Equal(t, uint32(1), s.Identity().Version)
	require.Empty(t, s.Damage())
	require.Equal(t, uint64(2), s.State().Generation)
	checkPayloads(t, s, ps)
	staged, ok := s.Staged()
	require.True(t, ok)
	require.Equal(t, Config{Types: []uint8{1, 2, 3}, Interval: 2 * time.Minute, Threshold: time.Second}, staged)
	require.NotNil(t, s.LastPurged())
	require.Equal(t, uint64(3), s.LastPurged().Generation)

	s = openTest(t, f, Options{})
	ps[2] = randomBytes(9, 9000)
	runRound(t, s, 3, ps)
	s = openTest(t, f, Options{})
	require.Equal(t, uint32(1), s.Identity().Version, "rounds write only version 1 records")
	checkPayloads(t, s, ps)
	cfg := Config{Types: []uint8{1, 2}, Interval: 3 * time.Minute}
	changed, err := s.CommitConfig(cfg)
	require.NoError(t, err)
	require.True(t, changed)
	require.Equal(t, uint32(FormatVersion), s.Identity().Version)
	for i := int64(0); i < 2; i++ {
		c, err := readSuperblockCopy(f, testStoreOff+i*4096, 256, false)
		require.NoError(t, err)
		require.True(t, c.good)
		require.Equal(t, uint32(FormatVersion), c.sb.Version, "copy %d", i)
	}
	s = openTest(t, f, Options{ReadOnly: true})
	require.Empty(t, s.Damage())
	require.Equal(t, cfg, s.State().Config)
	require.Equal(t, uint64(3), s.State().Generation)
	checkPayloads(t, s, ps)
}

// TestVersionUpgradeCutBetweenCopies: an upgrade cut by power loss after
// superblock copy 1 was rewritten leaves copies that differ in their
// version only: not damage; Open finishes the upgrade.
func TestVersionUpgradeCutBetweenCopies(t *testing.T) {
	f, ps := loadVersion1(t)
	s := openTest(t, f, Options{})
	sb := s.layout
	sb.Version = FormatVersion
	require.NoError(t, s.writeSuperblockCopy(1, sb))
	s = openTest(t, f, Options{ReadOnly: true})
	require.Empty(t, s.Damage())
	checkPayloads(t, s, ps)
	s = openTest(t, f, Options{})
	c, err := readSuperblockCopy(f, testStoreOff, 256, false)
	require.NoError(t, err)
	require.Equal(t, uint32(FormatVersion), c.sb.Version, "copy 0 upgraded")
	require.Empty(t, s.Damage())
}

// TestRefusesNewerVersion: a store of a format version this code does not
// know is refused with ErrVersion, naming both versions — never misread.
func TestRefusesNewerVersion(t *testing.T) {
	f := newChip(t)
	formatTest(t, f)
	for i := int64(0); i < 2; i++ {
		rewriteRecord(t, f, testStoreOff+i*4096, func(_, b []byte) { le.PutUint32(b, FormatVersion+1) })
	}
	_, err := Open(f, testStoreOff, testStoreSize, Options{ReadOnly: true})
	require.ErrorIs(t, err, ErrVersion)
	require.Contains(t, err.Error(), fmt.Sprintf("format version %d", FormatVersion+1))
	require.Contains(t, err.Error(), fmt.Sprintf("versions 1 to %d", FormatVersion))
	res, err := Probe(f, testStoreOff, testStoreSize)
	require.NoError(t, err)
	require.Equal(t, Formatted, res.State)
	require.Equal(t, uint32(FormatVersion+1), res.Identity.Version)
}
