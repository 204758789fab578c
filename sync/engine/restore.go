package engine

import (
	"errors"
	"fmt"
	"strings"

	"github.com/cmcsync/cmcsync/sync/info"
	"github.com/cmcsync/cmcsync/sync/store"
)

// ErrRestorePending: a failover's restore of the new active chip's
// information region has not completed. Until it does, no round commits:
// the region would be synced to the backup half restored, over the last
// good generation. Each round (and Open) retries the restore first.
var ErrRestorePending = errors.New("the failover's restore of the active chip's information is not complete")

// RestoreError is a restore that wrote what it could and failed for the
// types of Failed, each with its cause. It wraps ErrRestorePending.
type RestoreError struct {
	Chip   string // the active chip whose region was being restored
	Failed []TypeFailure
}

// TypeFailure is one type a restore could not write as committed.
type TypeFailure struct {
	Type info.Type
	Err  error
}

func (f TypeFailure) String() string { return fmt.Sprintf("%v: %v", f.Type, f.Err) }

// Types returns the types that failed, in the order tried.
func (re *RestoreError) Types() TypeList {
	ts := make(TypeList, 0, len(re.Failed))
	for _, f := range re.Failed {
		ts = append(ts, f.Type)
	}
	return ts
}

func (re *RestoreError) Error() string {
	parts := make([]string, 0, len(re.Failed))
	for _, f := range re.Failed {
		parts = append(parts, f.String())
	}
	return fmt.Sprintf("restore of %s failed for %s: %s", re.Chip, info.FormatList(re.Types()), strings.Join(parts, "; "))
}

func (re *RestoreError) Unwrap() []error {
	errs := []error{ErrRestorePending}
	for _, f := range re.Failed {
		errs = append(errs, f.Err)
	}
	return errs
}

// restoreActive writes the newest committed generation into the active
// chip's information region (the image that now runs needs the synced
// information), then clears RestorePending. It restores every type it
// can: a type whose committed chunks are damaged comes from the other
// chip's record if that is exactly the committed payload, and fails
// otherwise without stopping the others. If any type fails, the restore
// stays pending, the restore-failed alarm names each (event,
// Status.RestoreFailed, Counters.RestoreFailures), and the error is a
// *RestoreError.
func (e *Engine) restoreActive() error {
	act := int(e.role.Active)
	src := e.stores[act]
	if src == nil || src.StateRef().Generation < e.newest().StateRef().Generation {
		src = e.newest()
	}
	if src == nil {
		return fmt.Errorf("restore: no store: %w", ErrRestorePending)
	}
	chip := e.chips[act]
	gen := src.StateRef().Generation
	restored, failed, err := e.restoreRegion(act, src)
	if err != nil {
		return fmt.Errorf("restore: %w: %w", ErrRestorePending, err)
	}
	if len(failed) > 0 {
		re := &RestoreError{Chip: chip.Geometry().Name, Failed: failed}
		e.mu.Lock()
		e.restoreFailed = re.Types()
		e.counters.RestoreFailures++
		e.mu.Unlock()
		e.event(EventRestoreFailed, gen, fmt.Sprintf("%v (restored: %v); no round commits until the restore completes, each round retries it", re, restored))
		return re
	}
	r := e.role
	r.RestorePending = false
	if s := e.stores[act]; s != nil && s.Interrupted() == nil {
		if err := s.SetRole(r); err != nil {
			return fmt.Errorf("restore: %w: %w", ErrRestorePending, err)
		}
	}
	e.mu.Lock()
	e.role = r
	e.restoreFailed = nil
	e.mu.Unlock()
	e.event(EventRestore, gen, fmt.Sprintf("information region of %s restored from generation %d: %v", chip.Geometry().Name, gen, restored))
	return nil
}

// restoreRegion writes every type of src's committed generation into the
// information region of chip id chip (formatting the region first when it
// does not open), each record read back (restoreType). A type whose
// committed chunks are damaged comes from the other chip's record if that
// is exactly the committed payload, and is listed in failed otherwise,
// without stopping the others. It returns the names of the types written;
// err is a region that can be neither opened nor formatted. Shared by the
// failover's restore and Failback.
func (e *Engine) restoreRegion(chip int, src *store.Store) (restored []string, failed []TypeFailure, err error) {
	f := e.chips[chip]
	l := e.opts.Layout
	region, err := info.OpenRegion(f, l.InfoOff, l.InfoSize)
	if err != nil {
		if err := info.FormatRegion(f, l.InfoOff, l.InfoSize); err != nil {
			return nil, nil, err
		}
		if region, err = info.OpenRegion(f, l.InfoOff, l.InfoSize); err != nil {
			return nil, nil, err
		}
	}
	gen := src.StateRef().Generation
	var scratch []byte // the read-backs' buffer, shared by the types
	for _, ts := range src.StateRef().Types {
		t := info.Type(ts.Type)
		p, err := src.ReadPayload(ts.Type)
		if err != nil {
			// A committed chunk is damaged: the other chip's record
			// (the old primary's, which the faults may have left whole)
			// serves if it is exactly the committed payload.
			alt, ok := e.committedFromOther(chip, ts, src.ChunkSize())
			if !ok {
				failed = append(failed, TypeFailure{Type: t, Err: fmt.Errorf("no good copy: the store's is damaged (%w) and %s's record is not the committed payload", err, e.chips[1-chip].Geometry().Name)})
				continue
			}
			e.event(EventRepair, gen, fmt.Sprintf("restore %v: the store's copy is damaged (%v); restored from %s's record, which matches the committed digest", t, err, e.chips[1-chip].Geometry().Name))
			p = alt
		}
		if scratch, err = restoreType(region, t, p, scratch); err != nil {
			failed = append(failed, TypeFailure{Type: t, Err: err})
			continue
		}
		restored = append(restored, t.String())
	}
	return restored, failed, nil
}

// restorePending reports whether a failover's restore is pending.
func (e *Engine) restorePending() bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.role.RestorePending
}

// retryRestore runs before a round writes anything: if a failover's
// restore is pending it is tried again, and an error wrapping
// ErrRestorePending (a *RestoreError when types failed) means the round
// must not commit.
func (e *Engine) retryRestore() error {
	if !e.restorePending() || e.opts.Mutant == FailoverNoRestore {
		return nil
	}
	e.event(EventRecovery, e.newestGeneration(), "a failover's restore is pending: trying it again before the round")
	err := e.restoreActive()
	if err != nil && !errors.Is(err, ErrRestorePending) {
		err = fmt.Errorf("%w: %w", ErrRestorePending, err)
	}
	return err
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
// restore stays pending. The read-backs go into scratch (grown if it is
// too small), which restoreType returns for the next type.
func restoreType(region *info.Region, t info.Type, p, scratch []byte) ([]byte, error) {
	crc := info.Checksum(p)
	for try := 1; ; try++ {
		if err := region.Write(t, p); err != nil {
			return scratch, err
		}
		var why error
		for range 2 {
			// A valid record whose payload is exactly p (compared byte for
			// byte, its CRC taken from p's).
			if scratch, why = region.ReadEqual(t, p, crc, scratch); why != nil {
				break
			}
		}
		if why == nil {
			return scratch, nil
		}
		if try == restoreTries {
			return scratch, fmt.Errorf("%w: the record does not read back as written after %d writes (an erase or program of the chip is failing): %v", store.ErrVerify, try, why)
		}
	}
}
