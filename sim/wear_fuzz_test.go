package sim

import (
	"encoding/binary"
	"errors"
	"os"
	"path/filepath"
	"testing"
)

// FuzzWearFile: any bytes in an image's .wear file either are refused
// with ErrImageMismatch (not a wear file for this chip: size, magic or
// block count) or load, each block's wear and bad mark as the file
// records them; never a panic.
func FuzzWearFile(f *testing.F) {
	const size = 256 << 10
	o := Options{Part: mustPart(f, norName), Size: size, Name: "fuzz"}
	dir := f.TempDir()
	path := filepath.Join(dir, "chip.img")
	img := make([]byte, size)
	for i := range img {
		img[i] = 0xFF
	}
	if err := os.WriteFile(path, img, 0o644); err != nil {
		f.Fatal(err)
	}
	nblocks := int64(size / 4096)
	fresh := freshWear(nblocks)
	worn := append([]byte(nil), fresh...)
	binary.LittleEndian.PutUint64(worn[wearHeader:], 7)
	binary.LittleEndian.PutUint64(worn[wearHeader+8*3:], badBit|2)
	wrongCount := append([]byte(nil), fresh...)
	binary.LittleEndian.PutUint64(wrongCount[8:], uint64(nblocks+1))
	for _, b := range [][]byte{fresh, worn, wrongCount, fresh[:wearHeader], []byte("cmcwear1"), nil} {
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, wear []byte) {
		if err := os.WriteFile(path+".wear", wear, 0o644); err != nil {
			t.Fatal(err)
		}
		ch, err := OpenFileReadOnly(path, o)
		if err != nil {
			if !errors.Is(err, ErrImageMismatch) {
				t.Fatalf("refused without ErrImageMismatch: %v", err)
			}
			return
		}
		defer ch.Close()
		if int64(len(wear)) != wearHeader+8*nblocks || string(wear[:8]) != wearMagic || binary.LittleEndian.Uint64(wear[8:]) != uint64(nblocks) {
			t.Fatalf("loaded a wear file of %d bytes that is not one for %d blocks: %x", len(wear), nblocks, wear[:min(len(wear), 16)])
		}
		for b := range nblocks {
			v := binary.LittleEndian.Uint64(wear[wearHeader+8*b:])
			bad, err := ch.IsBad(b * 4096)
			if err != nil {
				t.Fatalf("IsBad(block %d): %v", b, err)
			}
			if got := ch.Wear(b); got != int64(v&^badBit) || bad != (v&badBit != 0) {
				t.Fatalf("block %d: wear %d bad %v, the file records %#x", b, got, bad, v)
			}
		}
	})
}
