package reference

import (
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
)

// Chunk geometry and digests (docs/FORMAT.md, 4.5).

// ChunkCount is how many chunks a payload of size bytes has when it starts
// phase bytes into an erase block of e bytes: chunk 0 holds [0, e−phase),
// chunk i [i·e−phase, (i+1)·e−phase), the last one fewer; none if size is 0.
func ChunkCount(size, phase, e int64) int64 {
	if size <= 0 {
		return 0
	}
	return (size + phase + e - 1) / e
}

// ChunkBounds returns chunk i's byte range [lo, hi) of the payload.
func ChunkBounds(size, phase, e, i int64) (lo, hi int64) {
	lo = max(0, i*e-phase)
	hi = min(size, (i+1)*e-phase)
	return lo, hi
}

// chunkCheck is the 64-bit check: CRC-32C(chunk) << 32 | CRC-32/IEEE(chunk).
func chunkCheck(p []byte) uint64 {
	return uint64(crc32c(p))<<32 | uint64(crc32.ChecksumIEEE(p))
}

// payloadDigest is SHA-256(u64 payload size ‖ chunk digest 0 ‖ chunk
// digest 1 ‖ …).
func payloadDigest(size int64, chunks []Chunk) Digest {
	h := sha256.New()
	var n [8]byte
	binary.LittleEndian.PutUint64(n[:], uint64(size))
	h.Write(n[:])
	for _, c := range chunks {
		h.Write(c.Digest[:])
	}
	var d Digest
	h.Sum(d[:0])
	return d
}

// ErrPhase: a phase outside [0, erase size), or an erase size that is not
// positive.
var ErrPhase = errors.New("phase outside the erase block")

// DigestPayload cuts payload into chunks as docs/FORMAT.md 4.5 says — it
// starts phase bytes into an erase block of e bytes on the primary — and
// returns what a store commits for it: size, phase, chunk count, payload
// digest, and each chunk's check and digest (Type and the chunks' blocks
// are left 0). An oracle compares it with a committed type.
func DigestPayload(payload []byte, phase, e int64) (TypeState, error) {
	if e <= 0 || phase < 0 || phase >= e {
		return TypeState{}, fmt.Errorf("%w: phase %d, erase size %d", ErrPhase, phase, e)
	}
	size := int64(len(payload))
	n := ChunkCount(size, phase, e)
	t := TypeState{TypeMeta: TypeMeta{Phase: uint32(phase), Size: size, ChunkCount: uint32(n)}, Chunks: make([]Chunk, n)}
	for i := range t.Chunks {
		lo, hi := ChunkBounds(size, phase, e, int64(i))
		p := payload[lo:hi]
		t.Chunks[i] = Chunk{Check: chunkCheck(p), Digest: sha256.Sum256(p)}
	}
	t.Digest = payloadDigest(size, t.Chunks)
	return t, nil
}

// checkMeta checks a type's metadata against the geometry: a known type,
// a phase inside an erase block, a chunk count that matches the size and
// phase and that the data area can hold.
func (sb *Superblock) checkMeta(m TypeMeta) error {
	switch {
	case m.Type < minType || m.Type > maxType:
		return fmt.Errorf("metadata of type %d, want %d..%d", m.Type, minType, maxType)
	case int64(m.Phase) >= sb.EraseSize:
		return fmt.Errorf("type %d: phase %d is not inside an erase block of %d bytes", m.Type, m.Phase, sb.EraseSize)
	case m.Size < 0:
		return fmt.Errorf("type %d: negative payload size %d", m.Type, m.Size)
	case m.ChunkCount > sb.DataBlocks:
		return fmt.Errorf("type %d: %d chunks, the data area has %d blocks", m.Type, m.ChunkCount, sb.DataBlocks)
	}
	if want := ChunkCount(m.Size, int64(m.Phase), sb.EraseSize); int64(m.ChunkCount) != want {
		return fmt.Errorf("type %d: %d chunks, a payload of %d bytes at phase %d has %d", m.Type, m.ChunkCount, m.Size, m.Phase, want)
	}
	return nil
}

// checkDigest checks that a type's payload digest is the digest of its
// size and chunk digests.
func checkDigest(t *TypeState) error {
	if payloadDigest(t.Size, t.Chunks) != t.Digest {
		return fmt.Errorf("type %d: payload digest %.16s… is not SHA-256 of its size and chunk digests", t.Type, t.Digest)
	}
	return nil
}

// Errors of reading the data area.
var (
	// ErrNoType: the committed state holds no payload of the type.
	ErrNoType = errors.New("type not in the committed state")
	// ErrChunk: a chunk's bytes do not match its digest or check.
	ErrChunk = errors.New("chunk does not match its digest")
	// ErrPayload: the chunks match but not the payload digest.
	ErrPayload = errors.New("payload does not match its digest")
)

// BlockOffset returns the chip offset of data block d: the store offset
// plus (first data block + d) erase blocks (2+2K+d, docs/FORMAT.md 4.1).
func (b *Backup) BlockOffset(d uint32) int64 {
	return b.StoreOff + (int64(b.Superblock.DataFirst)+int64(d))*b.Superblock.EraseSize
}

// readChunk reads chunk i of t and checks its digest and check.
func (b *Backup) readChunk(r io.ReaderAt, t *TypeState, i int) ([]byte, error) {
	c := t.Chunks[i]
	lo, hi := ChunkBounds(t.Size, int64(t.Phase), b.Superblock.EraseSize, int64(i))
	p, err := b.committedBytes(r, t, i, hi-lo)
	if err != nil {
		return p, err
	}
	if sha256.Sum256(p) != c.Digest {
		return p, fmt.Errorf("%w: type %d chunk %d in data block %d: sha-256 differs", ErrChunk, t.Type, i, c.Block)
	}
	if chunkCheck(p) != c.Check {
		return p, fmt.Errorf("%w: type %d chunk %d in data block %d: digest matches, check %#016x differs from %#016x",
			ErrChunk, t.Type, i, c.Block, chunkCheck(p), c.Check)
	}
	return p, nil
}

// Payload reads type t's committed payload from the data area of r (the
// device Decode read) and checks every chunk's digest and check, then the
// payload digest.
func (b *Backup) Payload(r io.ReaderAt, t uint8) ([]byte, error) {
	ts, ok := b.Committed.Type(t)
	if !ok {
		return nil, fmt.Errorf("%w: type %d", ErrNoType, t)
	}
	out := make([]byte, 0, ts.Size)
	digests := make([]Chunk, len(ts.Chunks))
	for i := range ts.Chunks {
		p, err := b.readChunk(r, ts, i)
		if err != nil {
			return nil, err
		}
		out = append(out, p...)
		digests[i].Digest = sha256.Sum256(p)
	}
	if int64(len(out)) != ts.Size || payloadDigest(ts.Size, digests) != ts.Digest {
		return nil, fmt.Errorf("%w: type %d", ErrPayload, t)
	}
	return out, nil
}

// ChunkFault is a committed chunk whose bytes do not match.
type ChunkFault struct {
	Type  uint8
	Index int
	Block uint32
	Err   error
}

// VerifyChunks reads every committed chunk from r and returns those whose
// bytes do not match their digest or check. A read failure is returned as
// an error (the chunks checked so far are returned too).
func (b *Backup) VerifyChunks(r io.ReaderAt) ([]ChunkFault, error) {
	var bad []ChunkFault
	for ti := range b.Committed.Types {
		t := &b.Committed.Types[ti]
		for i, c := range t.Chunks {
			_, err := b.readChunk(r, t, i)
			switch {
			case errors.Is(err, ErrChunk):
				bad = append(bad, ChunkFault{Type: t.Type, Index: i, Block: c.Block, Err: err})
			case err != nil:
				return bad, err
			}
		}
	}
	return bad, nil
}
