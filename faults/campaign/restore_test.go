package campaign

import (
	"errors"
	"maps"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/cmcsync/cmcsync/faults"
	"github.com/cmcsync/cmcsync/faults/reference"
	"github.com/cmcsync/cmcsync/sync/engine"
	"github.com/cmcsync/cmcsync/sync/info"
)

// restoreFailsLine: a committed chunk of node damaged on the backup before
// the round, then the primary stops answering for good. The failover's
// restore cannot restore node (the store's copy fails its digest, the old
// primary's node record has moved on since generation 1), so the live
// round must refuse to commit (testdata/regressions.txt holds it too).
const restoreFailsLine = "standard seed=1 mutant=none | before (seed 1) (on (at 0) (flip backup 0xd1f000 0xd1f040 1)) | (seed 2502) (on (and primary read (after 28) (before 1099511627776)) (fail timeout)) (on (at 201) weak) (on (at 365) (delay 4s)) | none"

// TestRestoreChecksFireOnWrongStates: after the replay of restoreFailsLine
// (every invariant kept, the live round refused for node), the failover's
// excuse and the live round's refusal check accept exactly the reported
// restore failure of a type without a good copy, and fire when the
// failure was not reported, when it names a type a good copy of which
// exists, when the refusal wrote the backup, when it does not name the
// types, and when the active chip's region misses another type.
func TestRestoreChecksFireOnWrongStates(t *testing.T) {
	b, w, vs := replayAllOK(t, restoreFailsLine)
	require.Contains(t, verdictIn(vs, Live).Saw, "refused to commit")

	last, post := b.prevGen, w.decode(1)
	require.NoError(t, post.err)
	damaged := func(ty info.Type) bool { return ty == info.Node }
	rf := liveRestore{post: post, damaged: damaged}

	// The failover check's excuse.
	reported := engine.Status{RestorePending: true, RestoreFailed: engine.TypeList{info.Node}}
	require.True(t, w.restoreExcused(reported, last, post, damaged)(info.Node))
	require.False(t, w.restoreExcused(engine.Status{}, last, post, damaged)(info.Node), "a silent restore failure is excused")
	require.False(t, w.restoreExcused(engine.Status{RestorePending: true}, last, post, damaged)(info.Node), "a failure not naming node is excused")
	require.False(t, w.restoreExcused(engine.Status{RestorePending: true, RestoreFailed: engine.TypeList{info.EventLog}}, last, post, damaged)(info.EventLog),
		"a failure of a type the backup store holds intact is excused")

	nodeFailed := &engine.RestoreError{Chip: "flash1", Failed: []engine.TypeFailure{{Type: info.Node, Err: errors.New("no good copy")}}}
	otherLast := &generation{number: last.number, config: last.config, payloads: maps.Clone(last.payloads), chunks: last.chunks}
	otherLast.payloads[info.Fan] = append([]byte{0xff}, last.payloads[info.Fan]...)
	for _, tc := range []struct {
		name   string
		err    error
		writes []faults.Op
		last   *generation
		ok     bool
	}{
		{"node reported, no good copy", nodeFailed, nil, last, true},
		{"a type with a good copy", &engine.RestoreError{Chip: "flash1", Failed: []engine.TypeFailure{{Type: info.EventLog, Err: errors.New("x")}}}, nil, last, false},
		{"types not named", engine.ErrRestorePending, nil, last, false},
		{"the backup written", nodeFailed, []faults.Op{{Role: faults.Primary, Kind: faults.Erase, Off: 0x200000, Len: 0x1000}}, last, false},
		{"another type not restored", nodeFailed, nil, otherLast, false},
	} {
		vs := verdicts{}
		w.judgeRestoreRefusal(vs, tc.err, 1, tc.writes, tc.last, rf)
		v := vs[Live]
		require.Equal(t, tc.ok, v.OK, "%s: %s", tc.name, v)
	}
}

// roleRecordLine: a committed asset chunk damaged on the backup before the
// round, the primary's asset record flipped at #45 and the primary
// silent past the threshold: the failover's restore fails for asset, the
// live round's retry restores it from chip 0's record and appends the
// role record (restore pending = 0) to chip 1's store, erasing a journal
// block for it (testdata/regressions.txt holds it too).
const roleRecordLine = "small seed=2 mutant=none | before (seed 2) (on (at 0) (flip backup 0x306000 0x306040 1)) | (seed 535) (on (and primary read (after 8) (before 444)) (fail timeout)) (on (at 45) (flip primary 0x179020 0x17a738 2)) | none"

// TestRoleRecordJudged: after the replay of roleRecordLine (every
// invariant kept: the live round's role record in chip 1's journal is the
// restore's), judgeRoleRecord accepts exactly the erase and program of
// that record and fires on a write to chip 1's data area or superblock,
// an erase of another journal block, a program the journal gained no role
// record for, a journal that gained another kind of record, and a role
// that still says the restore is pending.
func TestRoleRecordJudged(t *testing.T) {
	_, w, vs := replayAllOK(t, roleRecordLine)
	require.Contains(t, verdictIn(vs, PrimaryIntact).Saw, "of the role record completing it")

	post := w.decode(1)
	require.NoError(t, post.err)
	jr := post.backup.Journal
	k := len(jr) - 1
	require.Equal(t, reference.KindRole, jr[k].Kind)
	require.False(t, post.backup.Committed.Role.RestorePending)
	e := post.backup.Superblock.EraseSize
	role := jr[k]
	pre := &storeView{backup: &reference.Backup{Journal: jr[:k]}}
	erase := faults.Op{Role: 2, Kind: faults.Erase, Off: role.Off / e * e, Len: e}
	program := faults.Op{Role: 2, Kind: faults.Program, Off: role.Off, Len: role.Size}
	require.Empty(t, judgeRoleRecord(pre, post, []faults.Op{erase, program}, 1))

	dataOff, _ := post.backup.DataRange()
	pending := *post.backup
	pending.Committed.Role.RestorePending = true
	j := k - 1 // the newest record of another kind
	for jr[j].Kind == reference.KindRole {
		j--
	}
	other := &storeView{backup: &reference.Backup{Journal: jr[:j]}}
	for _, tt := range []struct {
		name      string
		pre, post *storeView
		ops       []faults.Op
	}{
		{"data area", pre, post, []faults.Op{erase, program, {Role: 2, Kind: faults.Program, Off: dataOff, Len: 0x100}}},
		{"superblock", pre, post, []faults.Op{{Role: 2, Kind: faults.Erase, Off: post.backup.StoreOff, Len: e}}},
		{"another journal block", pre, post, []faults.Op{{Role: 2, Kind: faults.Erase, Off: role.Off/e*e + e, Len: e}, program}},
		{"no new record", post, post, []faults.Op{program}},
		{"another kind of record", other, post, []faults.Op{erase, program}},
		{"restore still pending", pre, &storeView{backup: &pending}, []faults.Op{erase, program}},
		{"undecodable store", pre, &storeView{err: errors.New("bad")}, []faults.Op{program}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			require.NotEmpty(t, judgeRoleRecord(tt.pre, tt.post, tt.ops, 1))
		})
	}
}
