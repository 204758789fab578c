package engine

import (
	"context"
	"errors"
	"fmt"

	"github.com/cmcsync/cmcsync/hal"
	"github.com/cmcsync/cmcsync/sync/store"
)

// ErrReseedRefused is wrapped by Reseed's error when it refuses, having
// written nothing: the standby chip already holds a store of this pair,
// holds data that is neither blank nor a store of this pair (and force
// does not name it), the chip without a store is the active one, or no
// chip holds a valid store to reseed from.
var ErrReseedRefused = errors.New("refused")

// ReseedReport is what Reseed did.
type ReseedReport struct {
	Standby int    // the chip id whose store was formatted (0: chip A, 1: chip B)
	Active  int    // the chip id of the active chip (never written)
	PairID  uint64 // the pair the new store joined
	Erased  bool   // the standby's store range held data (force) and was erased
	Was     string // what the standby's store range held (store.Probe's words)
	// ConfigReplaced: the active store's committed configuration was
	// invalid, and ReseedWithConfig's replaced it.
	ConfigReplaced bool
	Round          RoundReport
}

// Reseed brings a standby chip whose store range is blank (a chip
// replaced in the field) back into service: it formats the store range of
// the standby (non-active) chip only, as that chip of the active chip's
// pair (the chip id of its position, the active store's pair id, its
// committed configuration and role record), and then opens the pair and
// runs one full round, so that the standby holds a committed generation
// of the active chip's information.
//
// chipA and chipB are given as Open takes them (chip A the one configured
// as the primary). force[i] allows the store range of chip i to be erased
// when it holds data (anything but blank or a cut format of this pair).
//
// It never writes the active chip's ranges; the round reads it. It writes
// nothing outside the standby's store range before the round. It refuses,
// writing nothing, with an error wrapping ErrReseedRefused when: no chip
// holds a valid store of its own position; the chip holding it is not the
// active one by its role record (the blank chip is the active one:
// failback or the documented procedure is the way); the standby already
// holds a valid store of this pair (nothing to reseed: sync brings it up
// to date); or the standby's range holds other data and force does not
// name it; or the active store's committed configuration is one
// Config.Validate refuses (ReseedWithConfig replaces it).
//
// Power-safe: the format marks its intent first (store.Format), so a cut
// leaves the standby's range a cut format of this pair (Reseed again
// finishes it) or a store of this pair at generation 0 (or with a round
// cut, which Open recovers); the next sync, or Reseed refusing as nothing
// to reseed, says which. The active chip is unchanged either way.
func Reseed(ctx context.Context, chipA, chipB hal.Flash, opts Options, force [2]bool) (ReseedReport, error) {
	return reseed(ctx, chipA, chipB, opts, force, nil)
}

// ReseedWithConfig is Reseed for an active store whose committed
// configuration Config.Validate refuses (a store written by another tool,
// or damaged in a way its own checks allow), which Reseed refuses before
// writing anything (ErrReseedRefused wrapping ErrCommittedConfig): config
// set cannot fix it first, as it commits on the standby's store, which is
// missing. The standby's store is formatted as Reseed does, and cfg
// (which must be valid: else ErrConfig, nothing written) is committed on
// it before the round, replacing the invalid one as config set would
// (ReseedReport.ConfigReplaced). With a valid committed configuration cfg
// is not used: ReseedWithConfig is Reseed.
func ReseedWithConfig(ctx context.Context, chipA, chipB hal.Flash, opts Options, force [2]bool, cfg Config) (ReseedReport, error) {
	if err := cfg.Validate(); err != nil {
		return ReseedReport{}, fmt.Errorf("reseed: the configuration to replace the committed one with: %w (nothing was written)", err)
	}
	return reseed(ctx, chipA, chipB, opts, force, &cfg)
}

// reseed is Reseed, and with replace ReseedWithConfig.
func reseed(ctx context.Context, chipA, chipB hal.Flash, opts Options, force [2]bool, replace *Config) (ReseedReport, error) {
	if chipA == nil || chipB == nil {
		return ReseedReport{}, errors.New("reseed: a chip is nil")
	}
	if err := opts.fill(chipA.Geometry()); err != nil {
		return ReseedReport{}, fmt.Errorf("reseed: %w", err)
	}
	if err := checkPair(chipA, chipB, opts.Layout); err != nil {
		return ReseedReport{}, fmt.Errorf("reseed: %w", err)
	}
	l := opts.Layout
	chips := [2]hal.Flash{chipA, chipB}
	names := [2]string{chipA.Geometry().Name, chipB.Geometry().Name}
	who := [2]string{chipLabel(0, names[0]), chipLabel(1, names[1])}
	var probes [2]store.ProbeResult
	for i, f := range chips {
		p, err := store.Probe(f, l.StoreOff, l.StoreSize)
		if err != nil {
			return ReseedReport{}, fmt.Errorf("reseed: %s: %w", names[i], err)
		}
		probes[i] = p
	}
	// A valid store is one that opens and carries its position's chip id.
	var valid [2]*reseedStore
	for i, f := range chips {
		if probes[i].State != store.Formatted {
			continue
		}
		s, err := store.Open(f, l.StoreOff, l.StoreSize, store.Options{ReadOnly: true})
		if err != nil {
			continue
		}
		if s.Superblock().ChipID == uint8(i) {
			valid[i] = &reseedStore{id: s.Identity(), role: s.StateRef().Role, cfg: s.StateRef().Config, gen: s.StateRef().Generation}
		}
		s.Release()
	}
	refuse := func(format string, a ...any) (ReseedReport, error) {
		return ReseedReport{}, fmt.Errorf("%w: %s (nothing was written)", ErrReseedRefused, fmt.Sprintf(format, a...))
	}
	active := -1
	switch {
	case valid[0] == nil && valid[1] == nil:
		return refuse("neither chip holds a valid store of its position to reseed from (%s: %s; %s: %s); reseed copies the active chip's store, it cannot start a pair (`cmcsync sync --populate` formats a new pair)",
			chipRoles[0], probes[0].Detail, chipRoles[1], probes[1].Detail)
	case valid[0] != nil && valid[1] != nil && valid[0].id.PairID == valid[1].id.PairID:
		i := int(valid[0].role.Active)
		if valid[1].role.Epoch > valid[0].role.Epoch {
			i = int(valid[1].role.Active)
		}
		return refuse("the standby %s already holds a valid store of this pair (generation %d): nothing to reseed; `cmcsync sync` brings it up to date",
			who[1-i&1], valid[1-i&1].gen)
	case valid[0] != nil && valid[1] != nil:
		// Two pairs: force names the one to erase.
		if force[0] == force[1] {
			return refuse("%s belongs to pair %#x and %s to pair %#x: which is the standby? --force naming the one to reseed ERASES its store",
				who[0], valid[0].id.PairID, who[1], valid[1].id.PairID)
		}
		active = 0
		if force[0] {
			active = 1
		}
	case valid[0] != nil:
		active = 0
	default:
		active = 1
	}
	src := valid[active]
	standby := 1 - active
	if int(src.role.Active) != active {
		return refuse("the active chip by the role record (epoch %d) is %s, and it is the one without a valid store of this pair (%s): reseed never formats the active chip. "+
			"Run `cmcsync failback` once chip A carries its firmware image, or follow docs/DEPLOY.md (Replacing a chip)",
			src.role.Epoch, who[src.role.Active&1], probes[src.role.Active&1].Detail)
	}
	// Validated before anything is written: the round that follows the
	// format would refuse it (ErrCommittedConfig), after the format.
	replaced := false
	if err := FromStoreConfig(src.cfg).Validate(); err != nil {
		if replace == nil {
			return ReseedReport{}, fmt.Errorf("%w: the active %s holds a committed sync configuration that is invalid (%s): %w: %w; a round refuses to run with it, and `cmcsync config set` cannot fix it before the standby has its store "+
				"(nothing was written): `cmcsync reseed --default-config` formats the standby with the default configuration instead (`cmcsync config set` changes it after)",
				ErrReseedRefused, who[active], describeConfig(FromStoreConfig(src.cfg)), ErrCommittedConfig, err)
		}
		replaced = true
	}
	pb := probes[standby]
	resume := pb.State == store.FormatInterrupted &&
		(pb.Identity == (store.Identity{}) || (pb.Identity.PairID == src.id.PairID && pb.Identity.ChipID == uint8(standby)))
	rep := ReseedReport{Standby: standby, Active: active, PairID: src.id.PairID, Was: pb.Detail, ConfigReplaced: replaced}
	if pb.State != store.Blank && !resume {
		if !force[standby] {
			return refuse("the standby %s holds data in its store range that is neither blank nor a store of this pair (%s): reseed would ERASE it; "+
				"`cmcsync inspect` shows what is there; --force naming that chip erases it",
				who[standby], pb.Detail)
		}
		rep.Erased = true
	}
	fo := store.FormatOptions{
		ChipID: uint8(standby), PairID: src.id.PairID, Time: opts.now(),
		MaxChunks: l.maxChunks(chipA.Geometry().EraseSize), Config: src.cfg, Role: src.role,
	}
	if err := store.Format(chips[standby], l.StoreOff, l.StoreSize, fo); err != nil {
		return rep, fmt.Errorf("reseed: format the store of %s: %w (run reseed again)", who[standby], err)
	}
	e, err := Open(ctx, chipA, chipB, opts)
	if err != nil {
		return rep, fmt.Errorf("reseed: %w (the standby's store is formatted: `cmcsync sync` brings it into service)", err)
	}
	defer e.Release()
	if replaced {
		if err := e.SetConfig(*replace); err != nil {
			return rep, fmt.Errorf("reseed: commit the configuration replacing the invalid one: %w (the standby's store is formatted: `cmcsync config set`, then `cmcsync sync`, bring it into service)", err)
		}
	}
	rr, err := e.Round(ctx)
	rep.Round = rr
	if err != nil {
		return rep, fmt.Errorf("reseed: round %s: %w (the standby's store is formatted: `cmcsync sync` brings it into service)", rr.Outcome, err)
	}
	return rep, nil
}

// reseedStore is what Reseed reads of a valid store.
type reseedStore struct {
	id   store.Identity
	role store.Role
	cfg  store.Config
	gen  uint64
}
