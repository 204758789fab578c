package engine

import (
	"hash/crc32"
	"math/rand/v2"
	"testing"

	"github.com/cmcsync/cmcsync/sync/store"
	"github.com/stretchr/testify/require"
)

// TestPayloadCRCFromChunkChecks: the payload CRC combined from the chunks'
// checks equals the CRC-32C of the whole payload, for every phase, size
// and a chunk size the engine uses.
func TestPayloadCRCFromChunkChecks(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 7^0x9e3779b97f4a7c15))
	tab := crc32.MakeTable(crc32.Castagnoli)
	for _, tc := range []struct {
		size, phase, chunk int64
	}{
		{0, 0, 4096}, {1, 0, 4096}, {1, 4095, 4096}, {4096, 0, 4096}, {4097, 32, 4096},
		{100_000, 1056, 4096}, {3 * 4096, 4064, 4096}, {777, 5, 64}, {65536 + 3, 100, 65536},
	} {
		p := make([]byte, tc.size)
		for i := range p {
			p[i] = byte(rng.Uint32())
		}
		n := store.ChunkCount(tc.size, tc.phase, tc.chunk)
		checks := make([]uint64, n)
		for i := range n {
			lo, hi := store.ChunkBounds(tc.size, tc.phase, tc.chunk, i)
			checks[i] = store.ChunkCheck(p[lo:hi])
		}
		require.Equal(t, crc32.Checksum(p, tab), payloadCRC(checks, tc.size, tc.phase, tc.chunk), "size %d phase %d chunk %d", tc.size, tc.phase, tc.chunk)
		if tc.size > 0 {
			p[rng.IntN(len(p))] ^= 1 << rng.IntN(8)
			require.NotEqual(t, crc32.Checksum(p, tab), payloadCRC(checks, tc.size, tc.phase, tc.chunk), "a flipped bit must change the CRC")
		}
	}
}
