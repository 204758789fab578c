package engine

import (
	"bytes"
	"errors"
	"fmt"
	"time"

	"github.com/cmcsync/cmcsync/hal"
	"github.com/cmcsync/cmcsync/sync/info"
	"github.com/cmcsync/cmcsync/sync/store"
)

// restoreActive writes the newest committed generation into the active
// chip's information region (the image that now runs needs the synced
// information), then clears RestorePending.
func (e *Engine) restoreActive() error {
	act := int(e.role.Active)
	src := e.stores[act]
	if src == nil || src.StateRef().Generation < e.newest().StateRef().Generation {
		src = e.newest()
	}
	if src == nil {
		return errors.New("restore: no store")
	}
	restored, err := e.restoreRegion(act, src)
	if err != nil {
		return err
	}
	r := e.role
	r.RestorePending = false
	if s := e.stores[act]; s != nil && s.Interrupted() == nil {
		if err := s.SetRole(r); err != nil {
			return fmt.Errorf("restore: %w", err)
		}
	}
	e.mu.Lock()
	e.role = r
	e.mu.Unlock()
	e.event(EventRestore, src.StateRef().Generation, fmt.Sprintf("information region of %s restored from generation %d: %v", e.chips[act].Geometry().Name, src.StateRef().Generation, restored))
	return nil
}

// restoreRegion writes every type of src's committed generation into the
// information region of chip id chip (formatting the region first when it
// does not open), each record read back (restoreType). A damaged chunk of
// src is taken from the other chip's record when that is exactly the
// committed payload. It returns the names of the types written. Shared by
// the failover's restore and Failback.
func (e *Engine) restoreRegion(chip int, src *store.Store) ([]string, error) {
	f := e.chips[chip]
	l := e.opts.Layout
	region, err := info.OpenRegion(f, l.InfoOff, l.InfoSize)
	if err != nil {
		if err := info.FormatRegion(f, l.InfoOff, l.InfoSize); err != nil {
			return nil, fmt.Errorf("restore: %w", err)
		}
		if region, err = info.OpenRegion(f, l.InfoOff, l.InfoSize); err != nil {
			return nil, fmt.Errorf("restore: %w", err)
		}
	}
	var restored []string
	for _, ts := range src.StateRef().Types {
		p, err := src.ReadPayload(ts.Type)
		if err != nil {
			// A committed chunk is damaged: the other chip's record
			// (the old primary's, which the faults may have left whole)
			// serves if it is exactly the committed payload.
			alt, ok := e.committedFromOther(chip, ts, src.ChunkSize())
			if !ok {
				return nil, fmt.Errorf("restore %v: %w", info.Type(ts.Type), err)
			}
			e.event(EventRepair, src.StateRef().Generation, fmt.Sprintf("restore %v: the store's copy is damaged (%v); restored from %s's record, which matches the committed digest", info.Type(ts.Type), err, e.chips[1-chip].Geometry().Name))
			p = alt
		}
		if err := restoreType(region, info.Type(ts.Type), p); err != nil {
			return nil, fmt.Errorf("restore %v: %w", info.Type(ts.Type), err)
		}
		restored = append(restored, info.Type(ts.Type).String())
	}
	return restored, nil
}

// committedFromOther returns the payload of ts's type from the
// information region of the chip that is not act, if it reads and its
// payload digest (cut at ts's phase into chunks of chunkSize) is the
// committed one.
func (e *Engine) committedFromOther(act int, ts store.TypeState, chunkSize int64) ([]byte, bool) {
	l := e.opts.Layout
	region, err := info.OpenRegion(e.chips[1-act], l.InfoOff, l.InfoSize)
	if err != nil {
		return nil, false
	}
	rec, err := region.Read(info.Type(ts.Type))
	if err != nil || int64(len(rec.Payload)) != ts.Size {
		return nil, false
	}
	if _, d := store.DigestPayload(rec.Payload, int64(ts.Phase), chunkSize); d != ts.Digest {
		return nil, false
	}
	return rec.Payload, true
}

// restoreTries bounds how often restoreType writes a record that does not
// read back.
const restoreTries = 3

// restoreType writes payload p as t's record of region and reads it back
// twice: an erase that reported success without erasing leaves the record
// garbage, a weakly programmed page reads right once and differently
// afterwards (docs/FORMAT.md, Verifying programs and erases). A record
// that does not read back as p both times is written again (Write erases
// and programs the blocks that differ), at most restoreTries times in all;
// then the restore fails with an error wrapping store.ErrVerify, and the
// restore stays pending.
func restoreType(region *info.Region, t info.Type, p []byte) error {
	for try := 1; ; try++ {
		if err := region.Write(t, p); err != nil {
			return err
		}
		var why error
		for range 2 {
			rec, err := region.Read(t)
			if err != nil {
				why = err
				break
			}
			if !bytes.Equal(rec.Payload, p) {
				why = errors.New("payload differs")
				break
			}
		}
		if why == nil {
			return nil
		}
		if try == restoreTries {
			return fmt.Errorf("%w: the record does not read back as written after %d writes (an erase or program of the chip is failing): %v", store.ErrVerify, try, why)
		}
	}
}

// failover makes the backup chip the active one, durably (a role record in
// its store, which later commits copy to the other chip).
func (e *Engine) failover(rs *roundState, wait time.Duration) error {
	old := e.role
	r := store.Role{Epoch: old.Epoch + 1, Active: 1 - old.Active, RestorePending: e.opts.Mutant != FailoverNoRestore} // MUTANT: the restore recorded as done
	err := rs.backup.SetRole(r)
	if err != nil && !errors.Is(err, hal.ErrPowerLoss) {
		// One failed erase or program of the backup's journal must not
		// keep the engine on a primary that stopped answering: a failed
		// program left the journal's tail in the next block, and the
		// journal erases a block again before it writes there. Once more.
		e.event(EventError, rs.report.Generation, "failover: "+err.Error()+" (retrying)")
		err = rs.backup.SetRole(r)
	}
	if err != nil {
		e.event(EventError, rs.report.Generation, "failover: "+err.Error())
		return fmt.Errorf("failover: %w", err)
	}
	e.mu.Lock()
	e.role = r
	e.counters.Failovers++
	e.primaryErrors = nil // about the chip that is no longer the primary
	e.mu.Unlock()
	e.event(EventFailover, rs.report.Generation, fmt.Sprintf("wait-response %v exceeds threshold %v: %s is now active", wait, rs.config.Threshold, e.chips[r.Active].Geometry().Name))
	return nil
}
