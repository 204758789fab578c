// ReadIdentity: who a store belongs to, from its superblocks alone — for
// a caller that must check a chip's identity before it opens the store
// for writing, without scanning the journal twice.

package store

import (
	"fmt"

	"github.com/cmcsync/cmcsync/hal"
)

// ReadIdentity reads the superblock copies of the store range [off,
// off+size) of f and returns the identity Open would use: the same choice
// between copies (with opts.Expect, of two valid copies that differ, the
// one carrying Expect's identity; else copy 0), the same refusals of the
// superblocks (ErrNotFormatted, ErrFormatInterrupted, ErrVersion, a
// superblock whose layout does not fit the range). Only opts.Expect and
// opts.TrustRecords are used. It never writes and never reads the journal:
// a store whose journal Open would refuse still has an identity here.
//
// Unlike Open, it does not refuse a store whose identity is not Expect's:
// the caller compares.
func ReadIdentity(f hal.Flash, off, size int64, opts Options) (Identity, error) {
	g := f.Geometry()
	if off < 0 || size <= 0 || off > g.Size || size > g.Size-off || g.EraseSize <= 0 || off%g.EraseSize != 0 {
		return Identity{}, fmt.Errorf("store range %#x+%#x does not fit %s or is not erase-aligned", off, size, g.Name)
	}
	s := &Store{flash: f, offset: off, size: size, eraseSize: g.EraseSize,
		opts: Options{ReadOnly: true, Expect: opts.Expect, TrustRecords: opts.TrustRecords}}
	if err := s.readSuperblocks(); err != nil {
		return Identity{}, err
	}
	return s.layout.identity(), nil
}
