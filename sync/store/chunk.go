// Chunks and digests: how a payload is cut into chunks and how chunks and
// payloads are identified (docs/FORMAT.md, Chunks and digests).

package store

import (
	"crypto/sha256"
	"encoding/hex"
	"hash/crc32"
)

// DigestSize is the size of a chunk or payload digest (SHA-256).
const DigestSize = sha256.Size

// Digest is a SHA-256 digest of a chunk's bytes, or of a whole payload (see
// PayloadDigest).
type Digest [DigestSize]byte

// String returns the digest in lower-case hex.
func (d Digest) String() string { return hex.EncodeToString(d[:]) }

// IsZero reports whether d is all zero (no digest).
func (d Digest) IsZero() bool { return d == Digest{} }

// ChunkDigest returns the digest of one chunk's bytes: SHA-256 of p.
func ChunkDigest(p []byte) Digest { return sha256.Sum256(p) }

var ieee = crc32.MakeTable(crc32.IEEE)

// ChunkCheck returns the fast check of one chunk's bytes: CRC-32C in the
// high 32 bits, CRC-32 (IEEE) in the low 32 bits. Two CRCs with different
// polynomials make a 64-bit check that both hardware-accelerated CRC
// instructions compute at several GB/s; a round uses it to find the
// chunks that changed and hashes (SHA-256) only those. A changed chunk
// escapes it with probability about 2^-64.
func ChunkCheck(p []byte) uint64 {
	return uint64(crc32.Checksum(p, castagnoli))<<32 | uint64(crc32.Checksum(p, ieee))
}

// PayloadDigest returns the digest of a whole payload of size bytes whose
// chunks have the given digests: SHA-256 over the size (uint64,
// little-endian) followed by the chunk digests in order. It identifies a
// payload without hashing it twice; DigestPayload computes it from the
// bytes.
func PayloadDigest(size int64, chunks []Digest) Digest {
	return payloadDigest(size, len(chunks), func(i int) *Digest { return &chunks[i] })
}

// payloadDigestOf is PayloadDigest of the digests of chunks.
func payloadDigestOf(size int64, chunks []Chunk) Digest {
	return payloadDigest(size, len(chunks), func(i int) *Digest { return &chunks[i].Digest })
}

// payloadDigest is PayloadDigest of the n chunk digests digest(0), ...
func payloadDigest(size int64, n int, digest func(i int) *Digest) Digest {
	h := sha256.New()
	var b [8]byte
	le.PutUint64(b[:], uint64(size))
	h.Write(b[:])
	for i := range n {
		h.Write(digest(i)[:])
	}
	var d Digest
	h.Sum(d[:0])
	return d
}

// DigestPayload splits payload into chunks (phase, chunkSize: see
// ChunkCount) and returns the chunk digests and the payload digest.
func DigestPayload(payload []byte, phase, chunkSize int64) ([]Digest, Digest) {
	n := ChunkCount(int64(len(payload)), phase, chunkSize)
	ds := make([]Digest, n)
	for i := range n {
		lo, hi := ChunkBounds(int64(len(payload)), phase, chunkSize, i)
		ds[i] = ChunkDigest(payload[lo:hi])
	}
	return ds, PayloadDigest(int64(len(payload)), ds)
}

// ChunkCount returns how many chunks a payload of size bytes has when it
// starts phase bytes into an erase block of chunkSize bytes on the primary:
// chunk boundaries fall on the primary's erase-block boundaries, so chunk 0
// holds chunkSize-phase bytes and the others chunkSize (the last one fewer).
// A zero-length payload has no chunks. phase must be in [0, chunkSize).
func ChunkCount(size, phase, chunkSize int64) int {
	if size <= 0 || chunkSize <= 0 {
		return 0
	}
	phase %= chunkSize
	return int((phase + size + chunkSize - 1) / chunkSize)
}

// ChunkBounds returns the payload byte range [lo, hi) of chunk i (see
// ChunkCount).
func ChunkBounds(size, phase, chunkSize int64, i int) (lo, hi int64) {
	phase %= chunkSize
	lo = int64(i)*chunkSize - phase
	hi = lo + chunkSize
	lo = max(lo, 0)
	hi = min(hi, size)
	return lo, hi
}

// Chunk is one committed chunk: the data-area block that holds it (relative
// to the data area's first block), the fast check of its bytes (see
// ChunkCheck) and their digest.
type Chunk struct {
	Block  uint32
	Check  uint64
	Digest Digest
	// Deltas: the chunk's delta records (format version 3), applied in
	// order over the bytes of Block; none: Block holds the chunk whole.
	// Never modified in place (a new chain is a new slice).
	Deltas []DeltaRef
}
