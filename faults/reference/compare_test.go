package reference_test

import (
	"slices"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/cmcsync/cmcsync/faults/reference"
	"github.com/cmcsync/cmcsync/faults/reference/crosscheck"
	"github.com/cmcsync/cmcsync/hal"
	"github.com/cmcsync/cmcsync/sync/engine"
	"github.com/cmcsync/cmcsync/sync/store"
)

// requireAgree decodes chip's store with the reference decoder and with
// the store's own reader (read-only) and requires them to agree on
// everything both expose, damage included (crosscheck.Agree). It returns
// the reference's decoding.
func requireAgree(t *testing.T, chip hal.Flash, l engine.Layout, what string) *reference.Backup {
	t.Helper()
	ref, st := requireSameState(t, chip, l, what)
	require.Equal(t, damageKinds(ref.Findings), storeDamageKinds(st.Findings()), "%s: store damage %q, reference findings %v", what, st.Damage(), ref.Findings)
	_, diffs, err := crosscheck.Agree(chip, l.StoreOff, l.StoreSize)
	require.NoError(t, err, what)
	require.Empty(t, diffs, what)
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
	ref, st, err := crosscheck.Read(chip, l.StoreOff, l.StoreSize)
	require.NoError(t, err, what)
	require.Empty(t, crosscheck.State(ref, st), what)
	return ref, st
}
