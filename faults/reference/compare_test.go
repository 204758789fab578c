package reference_test

import (
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/cmcsync/cmcsync/faults/reference"
	"github.com/cmcsync/cmcsync/hal"
	"github.com/cmcsync/cmcsync/sync/engine"
	"github.com/cmcsync/cmcsync/sync/store"
)

// requireAgree decodes chip's store with the reference decoder and with
// the store's own reader (read-only) and requires them to agree on
// everything both expose, damage included. It returns the reference's
// decoding.
func requireAgree(t *testing.T, chip hal.Flash, l engine.Layout, what string) *reference.Backup {
	t.Helper()
	ref, st := requireSameState(t, chip, l, what)
	require.Equal(t, damageKinds(ref.Findings), storeDamageKinds(st.Findings()), "%s: store damage %q, reference findings %v", what, st.Damage(), ref.Findings)
	return ref
}

// storeKind is the store's finding kind for each kind of damage the
// reference reports (a malformed record and a broken precondition are both
// a rejected record to the store).
var storeKind = map[reference.FindingKind]store.FindingKind{
	reference.SuperblockDamaged:  store.SuperblockDamaged,
	reference.CheckpointDamaged:  store.CheckpointDamaged,
	reference.RecordDamaged:      store.RecordDamaged,
	reference.SequenceGap:        store.SequenceGap,
	reference.SequenceBackwards:  store.SequenceGap,
	reference.RecordsLost:        store.RecordsLost,
	reference.BodyMalformed:      store.RecordRejected,
	reference.PreconditionBroken: store.RecordRejected,
	reference.AreaUnknown:        store.AreaUnknown,
}

// damageKinds returns the store's kinds of the reference's damage
// findings, sorted.
func damageKinds(fs []reference.Finding) []store.FindingKind {
	var ks []store.FindingKind
	for _, f := range fs {
		if f.Damage() {
			k, ok := storeKind[f.Kind]
			if !ok {
				k = store.FindingKind(100 + f.Kind) // a kind the store does not report
			}
			ks = append(ks, k)
		}
	}
	slices.Sort(ks)
	return ks
}

// storeDamageKinds returns the kinds of the store's journal and superblock
// findings, sorted (a data block retired by a write is not the
// reference's business).
func storeDamageKinds(fs []store.Finding) []store.FindingKind {
	var ks []store.FindingKind
	for _, f := range fs {
		if f.Kind != store.BlockRetired {
			ks = append(ks, f.Kind)
		}
	}
	slices.Sort(ks)
	return ks
}

// requireSameState is requireAgree without the verdict on damage.
func requireSameState(t *testing.T, chip hal.Flash, l engine.Layout, what string) (*reference.Backup, *store.Store) {
	t.Helper()
	ref, err := reference.Decode(chip, l.StoreOff, l.StoreSize)
	require.NoError(t, err, what)
	st, err := store.Open(chip, l.StoreOff, l.StoreSize, store.Options{ReadOnly: true})
	require.NoError(t, err, what)
	rep := st.Report(false)

	sb := st.Superblock()
	require.Equal(t, store.Superblock{
		Version: ref.Superblock.FormatVersion, ChipID: ref.Superblock.ChipID, Kind: ref.Superblock.FlashKind,
		PairID: ref.Superblock.PairID, StoreSize: ref.Superblock.StoreSize, EraseSize: ref.Superblock.EraseSize,
		SlotSize: ref.Superblock.SlotSize, JournalBlocks: ref.Superblock.JournalBlocks, Journal: ref.Superblock.JournalFirst,
		DataFirst: ref.Superblock.DataFirst, DataBlocks: ref.Superblock.DataBlocks, MaxChunks: ref.Superblock.MaxChunks,
		Formatted: sb.Formatted}, sb, what)
	require.True(t, sb.Formatted.Equal(ref.Superblock.Formatted), what)

	require.Equal(t, rep.Journal.Area, ref.Area, "%s: area in charge", what)
	require.Equal(t, rep.Journal.Epoch, ref.Epoch, "%s: epoch", what)
	if !ref.Damaged() {
		requireTornAgree(t, rep.Journal.Torn, ref, what)
	}
	var log []store.RecordInfo
	for _, r := range ref.Journal {
		log = append(log, store.RecordInfo{Kind: r.Kind.String(), Seq: r.Seq, Off: r.Off, Size: r.Size})
	}
	require.Equal(t, rep.Journal.Log, log, "%s: journal records", what)

	s := st.State()
	requireHeadsAgree(t, s, ref.Committed.Head, what)
	require.Equal(t, s.Config, storeConfig(ref.Committed.Config), what)
	staged, ok := st.Staged()
	require.Equal(t, ok, ref.Staged != nil, "%s: staged config", what)
	if ok {
		require.Equal(t, staged, storeConfig(*ref.Staged), what)
	}

	require.Len(t, ref.Committed.Types, len(s.Types), what)
	for i, want := range s.Types {
		got := ref.Committed.Types[i]
		require.Equal(t, want.Type, got.Type, what)
		require.Equal(t, want.Phase, got.Phase, "%s: type %d phase", what, want.Type)
		require.Equal(t, want.Size, got.Size, "%s: type %d size", what, want.Type)
		require.Equal(t, want.Seq, got.Seq, "%s: type %d seq", what, want.Type)
		require.Equal(t, [32]byte(want.Digest), [32]byte(got.Digest), "%s: type %d digest", what, want.Type)
		require.Len(t, got.Chunks, len(want.Chunks), "%s: type %d chunks", what, want.Type)
		for k, c := range want.Chunks {
			require.Equal(t, reference.Chunk{Block: c.Block, Check: c.Check, Digest: reference.Digest(c.Digest)}, got.Chunks[k],
				"%s: type %d chunk %d", what, want.Type, k)
		}
	}

	requireIntentsAgree(t, st.Interrupted(), ref.Pending, ref.BlocksOfPending(), what+": pending")
	requireIntentsAgree(t, st.LastPurged(), ref.LastPurged, nil, what+": last purged")
	return ref, st
}

func requireHeadsAgree(t *testing.T, s store.State, h reference.Head, what string) {
	t.Helper()
	require.Equal(t, s.Generation, h.Generation, "%s: generation", what)
	requireSameTime(t, s.Time, h.Committed, what+": committed time")
	requireSameTime(t, s.NextSync, h.NextSync, what+": next sync")
	require.Equal(t, s.ImageVersion, h.ImageVersion, what)
	require.Equal(t, s.UpgradeChoice, h.UpgradeChoice, what)
	require.Equal(t, s.GroupNext, h.GroupNext, what)
	require.Equal(t, s.Role, store.Role{Epoch: h.Role.Epoch, Active: h.Role.Active, RestorePending: h.Role.RestorePending}, "%s: role", what)
}

func requireSameTime(t *testing.T, want, got time.Time, what string) {
	t.Helper()
	require.True(t, want.Equal(got), "%s: store %v, reference %v", what, want, got)
}

func storeConfig(c reference.Config) store.Config {
	return store.Config{Types: c.Types, Interval: c.Interval, Threshold: c.Threshold,
		Verify: c.Verify, GroupSize: int(c.GroupSize), RetryAtOnce: c.RetryAtOnce}
}

// requireIntentsAgree compares the store's interrupted (or last purged)
// round with the reference's intent; blocks, if not nil, are the
// reference's pending blocks.
func requireIntentsAgree(t *testing.T, want *store.Interrupted, got *reference.Intent, blocks []uint32, what string) {
	t.Helper()
	require.Equal(t, want != nil, got != nil, what)
	if want == nil {
		return
	}
	require.Equal(t, want.Generation, got.Generation, what)
	require.Equal(t, want.IntentSeq, got.Seq, what)
	require.Equal(t, want.Complete, got.Complete(), what)
	require.Equal(t, want.Config, storeConfig(got.Config), what)
	entries := make([]store.IntentEntry, 0, len(got.Entries))
	for _, e := range got.Entries {
		entries = append(entries, store.IntentEntry{Type: e.Type, Index: e.Index, Block: e.Block, Check: e.Check, Digest: store.Digest(e.Digest)})
	}
	require.Equal(t, append([]store.IntentEntry{}, want.Entries...), entries, what)
	if blocks != nil {
		wb := slices.Clone(want.Blocks)
		slices.Sort(wb)
		require.Equal(t, slices.Compact(wb), blocks, what)
	}
}

// requireTornAgree compares the torn-tail verdicts: both readers place "the
// very end" (docs/FORMAT.md, 4.6 step 3) alike — an invalid record right
// after the last valid one, or first in the block after it, with nothing
// valid after it.
func requireTornAgree(t *testing.T, storeTorn bool, ref *reference.Backup, what string) {
	t.Helper()
	require.Equal(t, ref.Torn, storeTorn, "%s: torn tail; reference findings %v", what, ref.Findings)
}
