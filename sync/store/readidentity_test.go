package store

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/cmcsync/cmcsync/faults"
	"github.com/cmcsync/cmcsync/sim"
)

// TestReadIdentityIsOpensWithoutTheJournal: ReadIdentity returns the
// identity a read-only Open uses (the copy Expect picks of two that
// differ, copy 0 without it) and refuses what Open refuses for its
// superblocks, reading nothing but the two superblock blocks; a store
// whose journal Open refuses still has its identity.
func TestReadIdentityIsOpensWithoutTheJournal(t *testing.T) {
	other := func(chipID uint8, pair uint64) []byte {
		o := newChip(t)
		require.NoError(t, Format(o, testStoreOff, testStoreSize, FormatOptions{ChipID: chipID, PairID: pair, MaxChunks: testMaxChunks,
			Config: Config{Types: []uint8{1, 2}, Interval: time.Minute, Threshold: time.Second}}))
		return readBytes(t, o, testStoreOff, 4096)
	}
	overwrite := func(at int64, b []byte) func(t *testing.T, f *sim.Flash) {
		return func(t *testing.T, f *sim.Flash) {
			require.NoError(t, f.Erase(at, 4096))
			if b != nil {
				_, err := f.WriteAt(b, at)
				require.NoError(t, err)
			}
		}
	}
	own := Identity{ChipID: 1, PairID: 42, Version: FormatVersion}
	want := &Identity{ChipID: 1, PairID: 42}
	for _, tc := range []struct {
		name   string
		damage func(t *testing.T, f *sim.Flash)
		expect *Identity
		id     Identity // when err is nil
		err    error
		// openErr: what a read-only Open says instead of agreeing (the
		// journal, which ReadIdentity does not read)
		openErr error
	}{
		{name: "as formatted", damage: func(*testing.T, *sim.Flash) {}, id: own},
		{name: "as formatted, expected", damage: func(*testing.T, *sim.Flash) {}, expect: want, id: own},
		{name: "another pair on copy 0, expected", damage: overwrite(testStoreOff, other(1, 43)), expect: want, id: own},
		{name: "another pair on copy 1, expected", damage: overwrite(testStoreOff+4096, other(1, 43)), expect: want, id: own},
		{name: "the other chip on copy 0, expected", damage: overwrite(testStoreOff, other(0, 42)), expect: want, id: own},
		{name: "another pair on copy 0, no Expect", damage: overwrite(testStoreOff, other(1, 43)), id: Identity{ChipID: 1, PairID: 43, Version: FormatVersion}},
		{name: "copy 0 erased", damage: overwrite(testStoreOff, nil), id: own},
		{name: "both copies erased", damage: func(t *testing.T, f *sim.Flash) {
			overwrite(testStoreOff, nil)(t, f)
			overwrite(testStoreOff+4096, nil)(t, f)
		}, err: ErrNotFormatted},
		{name: "a newer version", damage: func(t *testing.T, f *sim.Flash) {
			for i := int64(0); i < 2; i++ {
				rewriteRecord(t, f, testStoreOff+i*4096, func(_, b []byte) { le.PutUint32(b, FormatVersion+1) })
			}
		}, err: ErrVersion},
		{name: "both journal areas erased", damage: func(t *testing.T, f *sim.Flash) {
			s := openTest(t, f, Options{ReadOnly: true})
			off, size := s.JournalRange()
			require.NoError(t, f.Erase(off+2*4096, size-2*4096))
		}, id: own, openErr: ErrCorrupt},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newChip(t)
			formatTest(t, f)
			tc.damage(t, f)
			var reads []faults.Op
			in := faults.NewInjector(faults.Schedule{}, faults.Options{Trace: func(op faults.Op) {
				require.Equal(t, faults.Read, op.Kind, "ReadIdentity never writes")
				op.Data = nil
				reads = append(reads, op)
			}})
			id, err := ReadIdentity(in.Wrap(f, faults.Backup), testStoreOff, testStoreSize, Options{Expect: tc.expect})
			for _, op := range reads {
				require.True(t, op.Off >= testStoreOff && op.Off+op.Len <= testStoreOff+2*4096, "%v reads outside the superblock blocks", op)
			}
			_, openErr := Open(f, testStoreOff, testStoreSize, Options{ReadOnly: true, Expect: tc.expect})
			if tc.err != nil {
				require.ErrorIs(t, err, tc.err)
				require.ErrorIs(t, openErr, tc.err, "Open refuses it too")
				return
			}
			require.NoError(t, err)
			require.Equal(t, tc.id, id)
			if tc.openErr != nil {
				require.ErrorIs(t, openErr, tc.openErr)
				return
			}
			s := openTest(t, f, Options{ReadOnly: true, Expect: tc.expect})
			require.Equal(t, s.Identity(), id, "the identity Open uses")
		})
	}
}
