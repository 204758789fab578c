package campaign

import (
	"fmt"

	"github.com/cmcsync/cmcsync/sync/info"
)

// A writer that keeps no change table ("densewhole"): the dense
// scenario's changes written to the primary's record while the record's
// change table keeps describing the payload before them, as a CMC writer
// that keeps no table leaves it (docs/FORMAT.md; sync/engine changed.go).
// The table's entries then equal the committed chunks' checks, the chunks'
// CRCs do not add up to the record's, and the round reads the record
// whole: the store gets every synced type's payload, not chunk accessors,
// so it can release a delta block under budget pressure by writing its
// chunks whole (sync/store deltaplan.go, bound).

// writeStaleTable writes payload p as t's record on region and leaves
// t's change table as it was for the record before (brought up to date
// with that record first).
func writeStaleTable(region *info.Region, t info.Type, p []byte) error {
	old, err := region.Read(t)
	if err != nil {
		return fmt.Errorf("stale table: read %v: %w", t, err)
	}
	if err := region.Write(t, old.Payload); err != nil { // the table describes old
		return fmt.Errorf("stale table: write %v: %w", t, err)
	}
	toff, entries, ok := region.ChangeTable(t)
	if !ok {
		return fmt.Errorf("stale table: %v has no change table", t)
	}
	e := region.ChangeUnit()
	lo := toff - toff%e
	hi := (toff + int64(entries)*info.ChangeEntrySize + e - 1) / e * e
	f := region.Flash()
	table := make([]byte, hi-lo)
	if _, err := f.ReadAt(table, lo); err != nil {
		return fmt.Errorf("stale table: read %v table: %w", t, err)
	}
	if err := region.Write(t, p); err != nil {
		return fmt.Errorf("stale table: write %v: %w", t, err)
	}
	if err := f.Erase(lo, hi-lo); err != nil {
		return fmt.Errorf("stale table: erase %v table: %w", t, err)
	}
	if _, err := f.WriteAt(table, lo); err != nil {
		return fmt.Errorf("stale table: restore %v table: %w", t, err)
	}
	return nil
}
