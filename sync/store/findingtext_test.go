package store

import (
	"testing"

	"github.com/stretchr/testify/require"
)

// TestFindingText checks the finding kinds' names both ways, the fallback
// for an unknown kind, and how a finding names its place: a journal area
// (0 included), the data area for a retired block, else the superblock,
// with the sequence number only when it is set.
func TestFindingText(t *testing.T) {
	names := []string{"", "superblock-damaged", "checkpoint-damaged", "record-damaged", "sequence-gap",
		"records-lost", "record-rejected", "area-unknown", "block-retired"}
	for i := 1; i < len(names); i++ {
		k := FindingKind(i)
		require.Equal(t, names[i], k.String())
		b, err := k.MarshalText()
		require.NoError(t, err)
		var back FindingKind
		require.NoError(t, back.UnmarshalText(b))
		require.Equal(t, k, back)
	}
	require.Equal(t, "finding(0)", FindingKind(0).String())
	require.Equal(t, "finding(9)", FindingKind(9).String())
	require.Equal(t, "finding(255)", FindingKind(255).String())
	var k FindingKind
	require.EqualError(t, k.UnmarshalText([]byte("")), `unknown finding kind ""`)
	require.EqualError(t, k.UnmarshalText([]byte("gap")), `unknown finding kind "gap"`)
	require.Zero(t, k)

	tests := []struct {
		f       Finding
		want    string
		journal bool
	}{
		{Finding{Kind: RecordDamaged, Area: 0, Off: 0x2000, Seq: 5, Detail: "bad crc"}, "record-damaged in journal area 0 at 0x2000, seq 5: bad crc", true},
		{Finding{Kind: SequenceGap, Area: 1, Off: 0x5a000, Detail: "gap"}, "sequence-gap in journal area 1 at 0x5a000: gap", true},
		{Finding{Kind: SuperblockDamaged, Area: -1, Off: 0x1000, Seq: 1, Detail: "copy 1"}, "superblock-damaged in superblock at 0x1000, seq 1: copy 1", false},
		{Finding{Kind: BlockRetired, Area: -1, Off: 0xb2000, Detail: "erase failed"}, "block-retired in data area at 0xb2000: erase failed", false},
		{Finding{Kind: BlockRetired, Area: 0, Off: 0, Detail: "x"}, "block-retired in journal area 0 at 0x0: x", true},
	}
	for _, tc := range tests {
		require.Equal(t, tc.want, tc.f.String())
		require.Equal(t, tc.journal, tc.f.journal(), tc.want)
		s := &Store{}
		s.find(tc.f.Kind, tc.f.Area, tc.f.Off, tc.f.Seq, "%s", tc.f.Detail)
		require.Equal(t, []Finding{tc.f}, s.Findings())
		require.Equal(t, []string{tc.want}, s.Damage())
		require.Equal(t, tc.journal, s.JournalDamaged())
	}
}
