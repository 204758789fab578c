package cmcsim

import (
	"testing"

	"github.com/cmcsync/cmcsync/sync/info"
	"github.com/stretchr/testify/require"
)

// checkFRU verifies an IPMI FRU image: common header checksum, board and
// product area lengths, end markers and checksums.
func checkFRU(t *testing.T, b []byte) {
	t.Helper()
	require.Equal(t, byte(1), b[0], "FRU format version")
	require.Zero(t, sum(b[:8]), "common header checksum")
	for _, areaOff := range []byte{b[3], b[4]} {
		a := b[int(areaOff)*8:]
		n := int(a[1]) * 8
		require.Greater(t, n, 0)
		require.Zero(t, sum(a[:n]), "area checksum")
		i := 3
		if areaOff == b[3] {
			i = 6 // board area has the 3-byte manufacturing date
		}
		for a[i] != 0xC1 {
			require.Equal(t, byte(0xC0), a[i]&0xC0, "type/length byte")
			i += 1 + int(a[i]&0x3F)
			require.Less(t, i, n)
		}
	}
}

func sum(b []byte) byte {
	var s byte
	for _, c := range b {
		s += c
	}
	return s
}

func TestFRUFields(t *testing.T) {
	b := make([]byte, info.FRUSize)
	encodeFRU(b, fruInfo{MfgMinutes: 0xABCDEF, BoardMfr: "Acme", BoardName: "a name longer than sixteen", ProdSerial: "S1", AssetTag: "TAG"})
	checkFRU(t, b)
	require.Contains(t, string(b), "Acme")
	require.Contains(t, string(b), "a name longer th")
	require.NotContains(t, string(b), "sixteen")
	require.Equal(t, []byte{0xEF, 0xCD, 0xAB}, b[8+3:8+6])
}

// TestBlankFRUIsInfoDefault: the FRU image info.Default puts in every asset
// slot is what encodeFRU writes for a FRU with no fields, and valid IPMI
// FRU.
func TestBlankFRUIsInfoDefault(t *testing.T) {
	blank := make([]byte, info.FRUSize)
	encodeFRU(blank, fruInfo{})
	checkFRU(t, blank)
	tb, err := info.DecodeTable(info.Asset, info.Default(info.Asset))
	require.NoError(t, err)
	for i := 0; i < info.NumFRUs; i++ {
		require.Equal(t, blank, tb.Fixed[i*info.FRUSize:(i+1)*info.FRUSize], "FRU slot %d", i)
	}
}
