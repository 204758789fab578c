package guest

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/cmcsync/cmcsync/hal"
)

func TestParseBadBlocks(t *testing.T) {
	tests := []struct {
		in      string
		want    []BadBlock
		wantErr string
	}{
		{"", nil, ""},
		{"primary:0", []BadBlock{{Primary, 0}}, ""},
		{"primary:3, backup:1024", []BadBlock{{Primary, 3}, {Backup, 1024}}, ""},
		{"primary", nil, `"primary" is not primary:BLOCK`},
		{"primary:-1", nil, "a block number from 0"},
		{"primary:1,", nil, `"" is not primary:BLOCK`},
		{"flash0:1", nil, "chip must be primary or backup"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := ParseBadBlocks(tt.in)
			if tt.wantErr != "" {
				require.ErrorIs(t, err, ErrBadBlockList)
				require.ErrorContains(t, err, tt.wantErr)
				return
			}
			require.NoError(t, err)
			require.Equal(t, tt.want, got)
		})
	}
}

func FuzzParseBadBlocks(f *testing.F) {
	f.Add("primary:3,backup:1024")
	f.Add("backup:0")
	f.Add(" primary:9 ")
	f.Fuzz(func(t *testing.T, s string) {
		list, err := ParseBadBlocks(s)
		if err != nil {
			require.ErrorIs(t, err, ErrBadBlockList)
			return
		}
		again, err := ParseBadBlocks(FormatBadBlocks(list))
		require.NoError(t, err)
		require.Equal(t, list, again)
	})
}

func TestMarkBlocksBad(t *testing.T) {
	pf, bf := newChip(t, "mt29f2g01", 4<<20), newChip(t, "mt29f2g01", 4<<20)
	es := pf.Geometry().EraseSize
	require.NoError(t, markBlocksBad(pf, bf, []BadBlock{{Primary, 3}, {Backup, 5}}))
	for _, c := range []struct {
		f     hal.Flash
		block int64
		bad   bool
	}{{pf, 3, true}, {pf, 5, false}, {bf, 5, true}, {bf, 3, false}} {
		bad, err := hal.IsBad(c.f, c.block*es)
		require.NoError(t, err)
		require.Equal(t, c.bad, bad, "block %d", c.block)
	}

	// NOR has no bad-block management; a block past the end does not exist.
	nor := newChip(t, "w25q256jv", 1<<20)
	require.ErrorIs(t, markBlocksBad(nor, nor, []BadBlock{{Backup, 1}}), hal.ErrUnsupported)
	require.ErrorIs(t, markBlocksBad(pf, bf, []BadBlock{{Primary, 1 << 20}}), hal.ErrOutOfRange)
}
