package fru

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
)

func readTestdata(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	require.NoError(t, err)
	return b
}

// text returns an 8-bit text field (test helper).
func text(s string) Field { return Field{Encoding: Text, Value: s} }

// fixChecksums recomputes the common header checksum and the checksum of
// each info area of img in place (test helper for building malformed
// images that fail only where intended).
func fixChecksums(img []byte) {
	img[7] = zeroSum(img[:7])
	for i := areaChassis; i <= areaProduct; i++ {
		off := int(img[1+i]) * areaUnit
		if off == 0 || off+1 >= len(img) {
			continue
		}
		end := off + int(img[off+1])*areaUnit
		if end > len(img) || end == off {
			continue
		}
		img[end-1] = zeroSum(img[off : end-1])
	}
}
