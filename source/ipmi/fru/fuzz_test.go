package fru

import (
	"bytes"
	"testing"
)

// FuzzFRU: Decode and FitSlot never panic; whatever decodes re-encodes,
// and the re-encoded image decodes to the same Image and encodes to the
// same bytes again (Encode∘Decode is idempotent after one step).
func FuzzFRU(f *testing.F) {
	for _, name := range []string{"basic-all.bin", "basic-internal.bin", "checksum-zero.bin"} {
		f.Add(readTestdata(f, name)[:512])
	}
	f.Add(must(Encode(inventecLike())))
	f.Add(must(Encode(&Image{Product: &Product{Language: 43, Name: text("Gehäuse")}})))
	f.Add(bytes.Repeat([]byte{0xFF}, 64))
	f.Fuzz(func(t *testing.T, b []byte) {
		_, _ = FitSlot(b, 256)
		img, err := Decode(b)
		if err != nil {
			return
		}
		enc, err := Encode(img)
		if err != nil {
			// Only a decoded area too large to re-encode may fail: one
			// whose custom fields, re-encoded, outgrow 255×8 bytes.
			if !bytes.Contains([]byte(err.Error()), []byte("more than 255×8")) &&
				!bytes.Contains([]byte(err.Error()), []byte("past the last offset")) {
				t.Fatalf("decoded image does not re-encode: %v", err)
			}
			return
		}
		img2, err := Decode(enc)
		if err != nil {
			t.Fatalf("re-encoded image does not decode: %v\n% x", err, enc)
		}
		enc2, err := Encode(img2)
		if err != nil || !bytes.Equal(enc, enc2) {
			t.Fatalf("Encode(Decode(Encode(img))) differs (err %v):\n% x\n% x", err, enc, enc2)
		}
	})
}
