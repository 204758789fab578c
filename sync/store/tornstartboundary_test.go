package store

import (
	"testing"

	"github.com/stretchr/testify/require"
)

// TestTornStartNewerMeansStrictlyNewer: judgeTornStarts reports an area
// not in charge as CheckpointDamaged only when it holds a valid record
// strictly newer than the journal in charge's last record. A record of
// the same sequence number is not newer (it can be that record, or a
// copy of it), so it is no evidence of a lost checkpoint; one past it is.
// Asked about the area in charge itself, whose highest sequence number is
// the journal's last by construction.
func TestTornStartNewerMeansStrictlyNewer(t *testing.T) {
	f, s := newStore(t)
	ps := payloads{1: randomBytes(1, 10000)}
	runRound(t, s, 1, ps)
	runRound(t, s, 2, ps)
	s = openTest(t, f, Options{ReadOnly: true})
	require.Empty(t, s.Findings())
	a := s.area
	seq, off, found, err := s.areaMaxSeq(a)
	require.NoError(t, err)
	require.True(t, found)
	require.Equal(t, s.lastRecord.seq, seq)
	require.Equal(t, s.lastRecord.off, off)
	maxSeen := s.maxSeqSeen

	require.NoError(t, s.judgeTornStarts([]int{a}, seq))
	require.Empty(t, s.Findings(), "a record of the journal's last sequence number is not newer")
	require.Equal(t, maxSeen, s.maxSeqSeen)

	require.NoError(t, s.judgeTornStarts([]int{a}, seq-1))
	findings := s.Findings()
	require.Len(t, findings, 1)
	require.Equal(t, CheckpointDamaged, findings[0].Kind)
	require.Equal(t, a, findings[0].Area)
	require.Equal(t, s.areaOff(a), findings[0].Off)
	require.Contains(t, findings[0].Detail, "valid record of seq")
}
