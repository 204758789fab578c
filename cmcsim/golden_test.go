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
	require.Equal(t, "3594c222a3f35eed53bdfc9998ef7a9394d7a4a5a494039f05b4826de1ed861a", digest(), "populated, seed 1")
	require.NoError(t, g.Step(r, TypicalInterval))
	require.NoError(t, g.Step(r, 3*time.Hour))
	_, err := g.Mutate(r, 0.01, true)
	require.NoError(t, err)
	_, err = g.Mutate(r, 0.001, false)
	require.NoError(t, err)
	require.Equal(t, "9da600737e9210b1e8dfe4e3897d11f8ec164e2a55af8b716bf3121ef93caa99", digest(), "after steps and mutates, seed 1")
}
