package history

import (
	"bytes"
	"testing"

	"github.com/stretchr/testify/require"
)

// FuzzDecode: Decode never panics; what it keeps re-encodes to exactly
// the prefix it says is good, and it never keeps a record past damage.
func FuzzDecode(f *testing.F) {
	seg := []byte(Magic)
	for _, p := range []string{"one", "two records", "three"} {
		seg = append(seg, encodeRecord([]byte(p))...)
	}
	f.Add(seg)
	f.Add(seg[:len(seg)-2])
	f.Add([]byte(Magic))
	f.Add([]byte("not a segment"))
	f.Fuzz(func(t *testing.T, data []byte) {
		payloads, good, tail, err := Decode(data)
		if err != nil {
			require.ErrorIs(t, err, ErrNotSegment)
			require.Empty(t, payloads)
			return
		}
		again := []byte(Magic)
		for _, p := range payloads {
			again = append(again, encodeRecord(p)...)
		}
		require.True(t, bytes.Equal(again, data[:good]), "the kept records are the good prefix")
		require.Equal(t, good < int64(len(data)), tail != "", "a tail is reported exactly when one is left")
	})
}
