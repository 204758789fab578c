package cmcsim

import (
	"crypto/sha256"
	"encoding/hex"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// TestGoldenDigest pins the bytes the generator writes: the SHA-256 of a
// whole 8 MiB chip (W25Q512JV part, region at 0) after Populate with seed 1,
// and after two Steps and two Mutates more. The digests were computed with
// the generator as it was in sync/info before it moved here, so a change
// to the generator's output (or to info's table codec, Write or Rewrite)
// fails this test. Benchmarks, campaigns and QEMU images all depend on the
// same seed giving the same region.
func TestGoldenDigest(t *testing.T) {
	if testing.Short() {
		t.Skip("8 MiB region")
	}
	const size = 8 << 20
	r, f := newRegion(t, size)
	digest := func() string {
		img := make([]byte, size)
		_, err := f.ReadAt(img, 0)
		require.NoError(t, err)
		sum := sha256.Sum256(img)
		return hex.EncodeToString(sum[:])
	}
	g := New(1)
	require.NoError(t, g.Populate(r))
	require.Equal(t, "3dc0fa53c8e4aef4bcd76abee75ef2999e860442c68c9ccfb84915053ea999d1", digest(), "populated, seed 1")
	require.NoError(t, g.Step(r, TypicalInterval))
	require.NoError(t, g.Step(r, 3*time.Hour))
	_, err := g.Mutate(r, 0.01, true)
	require.NoError(t, err)
	_, err = g.Mutate(r, 0.001, false)
	require.NoError(t, err)
	require.Equal(t, "bbb98f2ee741674090e1ae81ae8b4ba2e5028420ddbe2c6f4c3b9b50bdef5017", digest(), "after steps and mutates, seed 1")
}
