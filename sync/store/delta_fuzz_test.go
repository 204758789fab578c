package store

import (
	"bytes"
	"testing"

	"github.com/cmcsync/cmcsync/faults/reference"
)

// FuzzDelta: applyDelta never panics on garbage and agrees with the
// independent decoder (faults/reference.ApplyDelta) on what a record does
// to a chunk; encodeDelta's records, in the framing of format versions 3
// and 5, rebuild the chunk they encode.
func FuzzDelta(f *testing.F) {
	base := randomBytes(1, 300)
	data := append([]byte(nil), base...)
	data[7] ^= 1
	data[200] ^= 0xFF
	f.Add(encodeDelta(FormatVersion, 2, 5, 1, base, data), base, data)
	f.Add(encodeDelta(chainVersion, 2, 5, 1, base, data), base, data)
	f.Add([]byte("CMD3garbage"), base, base)
	f.Add([]byte{deltaTag5, 2, 5, 0, 0, 0, 1, 0, 0}, base, base)
	f.Fuzz(func(t *testing.T, rec, a, b []byte) {
		p, q := bytes.Clone(a), bytes.Clone(a)
		err1 := applyDelta(rec, 2, 5, p)
		err2 := reference.ApplyDelta(rec, 2, 5, q)
		if (err1 == nil) != (err2 == nil) {
			t.Fatalf("store %v, reference %v", err1, err2)
		}
		if err1 == nil && !bytes.Equal(p, q) {
			t.Fatalf("the two decoders apply the record differently")
		}
		n := min(len(a), len(b), deltaMaxChunk)
		for _, v := range []uint32{chainVersion, FormatVersion} {
			r := encodeDelta(v, 2, 5, 9, a[:n], b[:n])
			got := bytes.Clone(a[:n])
			if err := applyDelta(r, 2, 5, got); err != nil || !bytes.Equal(got, b[:n]) {
				t.Fatalf("round trip, version %d framing: %v", v, err)
			}
		}
	})
}
