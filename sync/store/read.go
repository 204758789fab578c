// Reading committed chunks back and checking their digests.

package store

import (
	"fmt"
	"slices"
)

// ReadChunk reads chunk i of type t of the committed generation and checks
// its digest (unless the store trusts records).
func (s *Store) ReadChunk(t uint8, i int) ([]byte, error) {
	ts, ok := s.committed.Type(t)
	if !ok || i < 0 || i >= len(ts.Chunks) {
		return nil, fmt.Errorf("type %d chunk %d not in generation %d", t, i, s.committed.Generation)
	}
	lo, hi := ChunkBounds(ts.Size, int64(ts.Phase), s.eraseSize, i)
	return s.readChunkInto(make([]byte, hi-lo), t, i, ts.Chunks[i])
}

// readChunkInto reads committed chunk i of type t (c, len(p) bytes) into
// p and checks its digest (unless the store trusts records).
func (s *Store) readChunkInto(p []byte, t uint8, i int, c Chunk) ([]byte, error) {
	if _, err := s.flash.ReadAt(p, s.dataOff(c.Block)); err != nil {
		return nil, err
	}
	for _, d := range c.Deltas {
		if err := s.readDelta(p, t, i, d); err != nil {
			if s.opts.TrustRecords {
				return p, nil
			}
			return p, fmt.Errorf("%w: type %d chunk %d: its delta in data block %d at %#x: %w", ErrVerify, t, i, d.Block, s.dataOff(d.Block)+int64(d.Off), err)
		}
	}
	if !s.opts.TrustRecords && s.opts.Digests.Digest(p) != c.Digest {
		return p, fmt.Errorf("%w: type %d chunk %d (block %d at %#x) does not match its digest", ErrVerify, t, i, c.Block, s.dataOff(c.Block))
	}
	return p, nil
}

// readDelta reads delta record d of chunk i of type t and applies it to p,
// the bytes of the chunk's base block.
func (s *Store) readDelta(p []byte, t uint8, i int, d DeltaRef) error {
	rec := make([]byte, d.Len)
	if _, err := s.flash.ReadAt(rec, s.dataOff(d.Block)+int64(d.Off)); err != nil {
		return err
	}
	return applyDelta(rec, t, uint32(i), p)
}

// ReadPayload reads type t's committed payload, checking every chunk.
func (s *Store) ReadPayload(t uint8) ([]byte, error) {
	ts, ok := s.committed.Type(t)
	if !ok {
		return nil, fmt.Errorf("type %d not in generation %d", t, s.committed.Generation)
	}
	// Each chunk is read in place (a chunk that cannot be read adds
	// nothing: the next one is read where it would have gone).
	out := make([]byte, ts.Size)
	n := int64(0)
	var firstErr error
	for i, c := range ts.Chunks {
		lo, hi := ChunkBounds(ts.Size, int64(ts.Phase), s.eraseSize, i)
		p, err := s.readChunkInto(out[n:n+hi-lo], t, i, c)
		if err != nil && firstErr == nil {
			firstErr = err
		}
		n += int64(len(p))
	}
	return out[:n], firstErr
}

// ChunkError is a committed chunk that fails its digest.
type ChunkError struct {
	Type  uint8
	Index int
	Block uint32
	Err   error
}

// VerifyChunks reads every committed chunk (of the given types, or all if
// none) and returns those that do not match their digests.
func (s *Store) VerifyChunks(types ...uint8) []ChunkError {
	var bad []ChunkError
	var buf []byte // one chunk at a time
	for _, ts := range s.committed.Types {
		if len(types) > 0 && !slices.Contains(types, ts.Type) {
			continue
		}
		for i, c := range ts.Chunks {
			lo, hi := ChunkBounds(ts.Size, int64(ts.Phase), s.eraseSize, i)
			if buf == nil {
				buf = make([]byte, s.eraseSize)
			}
			if _, err := s.readChunkInto(buf[:hi-lo], ts.Type, i, c); err != nil {
				bad = append(bad, ChunkError{Type: ts.Type, Index: i, Block: c.Block, Err: err})
			}
		}
	}
	return bad
}
