package reference_test

import (
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
	ref, diffs, err := crosscheck.Agree(chip, l.StoreOff, l.StoreSize)
	require.NoError(t, err, what)
	require.Empty(t, diffs, what)
	return ref
}

// requireSameState is requireAgree without the verdict on damage.
func requireSameState(t *testing.T, chip hal.Flash, l engine.Layout, what string) (*reference.Backup, *store.Store) {
	t.Helper()
	ref, st, err := crosscheck.Read(chip, l.StoreOff, l.StoreSize)
	require.NoError(t, err, what)
	require.Empty(t, crosscheck.State(ref, st), what)
	return ref, st
}
