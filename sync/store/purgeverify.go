// The purge's second read-back of the blocks it erased.

package store

import (
	"fmt"

	"github.com/cmcsync/cmcsync/hal"
)

// purgeReadAgain reads data block b, which eraseVerified found erased,
// back a second time, as every program is read back twice: cells a torn
// program left between states that an erase did not clear (it reported
// success and did not run, or ran in part) can read erased once and 0
// the next time. A block that does not read erased again is erased and
// verified once more (eraseVerified); a read that fails with a media
// error or no response is tried again (readRetrying: at most three reads
// in all). buf holds one erase block.
func (s *Store) purgeReadAgain(b uint32, buf []byte) error {
	if s.retired[b] {
		return nil // retired by eraseVerified: never used again
	}
	off := s.dataOff(b)
	if err := readRetrying(func() error {
		_, err := s.flash.ReadAt(buf, off)
		return err
	}); err != nil {
		return fmt.Errorf("purge: verify block %d again: %w", b, err)
	}
	if hal.IsErased(buf) {
		return nil
	}
	s.erased.remove(b)
	var again PurgeResult // b counts in res.Erased once
	return s.eraseVerified(b, buf, &again)
}
