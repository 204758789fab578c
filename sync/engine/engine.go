package engine

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/cmcsync/cmcsync/hal"
	"github.com/cmcsync/cmcsync/sync/info"
	"github.com/cmcsync/cmcsync/sync/store"
)

// Engine runs the sync method on a pair of chips. Its methods are safe for
// concurrent use: rounds, upgrades and configuration changes are
// serialized; Status, Events and Config never wait for a round.
type Engine struct {
	roundMu   sync.Mutex // serializes Round, Upgrade, SetConfig
	clock     hal.Clock
	opts      Options
	chips     [2]hal.Flash // by chip id
	storeOpts store.Options
	// ids are the chips' identities as Open checked them (resolveIdentities).
	ids [2]chipIdentity

	// Owned by the goroutine holding roundMu.
	stores        [2]*store.Store
	rewriteChunks map[info.Type][]int // damaged chunks the next round rewrites
	rehashChunks  map[info.Type][]int // primary chunks the change table missed: the next round re-reads them
	scrub         *scrubState         // where ScrubStep stands
	wake          chan struct{}       // wakes Run (see kick)
	// cache holds the payloads of the last committed round (by type),
	// taken from chip cacheChip, for generation cacheGeneration of the backup.
	cache           map[info.Type][]byte
	cacheChip       int
	cacheGeneration uint64
	noCache         bool // the region keeps change tables: remember keeps nothing

	mu             sync.Mutex // guards the fields below
	role           store.Role
	config         Config
	openScrub      *ScrubReport // Open's check of the backup (verifyAtOpen)
	events         []Event
	newestState    store.State // newest committed generation (a copy)
	lastSync       time.Time
	nextSync       time.Time
	lastError      string
	notSynced      string    // Status.NotSynced
	notSyncedSince time.Time // Status.NotSyncedSince
	counters       Counters
	upgradePending bool
	primaryVersion string
	heldVersion    string // the version the active chip's image is held to (committedFromActive)
	heldChoice     uint8  // the upgrade choice recorded with it: Status.UpgradeChoice
	lastReport     *RoundReport
	damage         []string
	primaryErrors  map[info.Type]string // TypeStatus.PrimaryError
	restoreFailed  TypeList             // Status.RestoreFailed
	scrubDamage    []ChunkDamage        // Status.ScrubDamage
	pending        []ReadOnlyPending    // Pending: repairs a read-only Open left undone
	lastScrub      time.Time            // Status.LastScrub
}

// Open opens the pair: reads both stores (superblocks and journals only),
// takes the active role from the store with the newest role epoch, and
// recovers: an interrupted round on either chip is purged (erased, read
// back, marked) and the configuration reinitialised from the last
// committed generation; a failover whose information restore did not finish
// is finished; a restore-defaults cut short is completed (see
// restoreDefaults); an image upgrade waiting for a choice is noted
// (Status.UpgradePending), as a round would find it.
//
// chipA is the chip configured as the primary (formatted as chip A, id 0)
// and chipB the one configured as the backup (chip B, id 1), whichever of
// them the role record says is active now. Open checks that their stores
// carry those identities and one pair id before it writes anything
// (from the superblocks alone: each journal is read once, after), and
// refuses with an error wrapping ErrWrongChip (a chip carrying the other's
// store: re-imaged from a dump of it, or the chips given the wrong way
// round) or ErrForeignPair (stores of two different pairs).
func Open(ctx context.Context, chipA, chipB hal.Flash, opts Options) (*Engine, error) {
	if chipA == nil {
		return nil, errors.New("open: chip A is nil")
	}
	if err := opts.fill(chipA.Geometry()); err != nil {
		return nil, fmt.Errorf("open: %w", err)
	}
	if err := checkPair(chipA, chipB, opts.Layout); err != nil {
		return nil, fmt.Errorf("open: %w", err)
	}
	chips := [2]hal.Flash{chipA, chipB}
	// Identity by configured role, checked before anything is written.
	// TODO(integrity): once store.Options gains ExpectChip/ExpectPair, open
	// each store (openStore) with ExpectChip: i and the pair read from the
	// other chip, and map store.ErrWrongChip/ErrForeignPair to the errors
	// checkIdentity returns (or alias ErrWrongChip and ErrForeignPair to
	// them).
	// The identities are read from the superblocks alone
	// (store.ReadIdentity): each journal is read once, by openStore.
	// A chip one of whose superblock copies is another store's is read
	// by the copy its role expects (resolveIdentities), and its store is
	// opened so (openStore: store.Options.Expect), which repairs the
	// other copy.
	ids := resolveIdentities(chips, opts.Layout, [2]chipIdentity{readIdentity(chipA, opts.Layout), readIdentity(chipB, opts.Layout)})
	if err := checkIdentity(chips, ids); err != nil {
		return nil, fmt.Errorf("open: %w", err)
	}
	e := &Engine{clock: opts.Clock, opts: opts, chips: chips, ids: ids, storeOpts: opts.storeOptions(), wake: make(chan struct{}, 1)}
	var errs [2]error
	for i := range 2 {
		errs[i] = e.openStore(i)
	}
	if errs[0] != nil && errs[1] != nil {
		return nil, fmt.Errorf("open: no usable store: chip A: %v; chip B: %w", errs[0], errs[1])
	}
	e.role = e.newestRole()
	if sb := 1 - int(e.role.Active); errors.Is(errs[sb], store.ErrNotFormatted) {
		// A blank standby (a replaced chip): say so at once, naming the
		// way on, rather than only at the first round's scrub.
		e.setErr(fmt.Errorf("open: the standby %s %s has no store, so no round can commit (%w); `cmcsync reseed` formats its store only and syncs it from the active chip", chipRoles[sb], chips[sb].Geometry().Name, errs[sb]))
	}
	if opts.ReadOnly {
		e.recoverReadOnly()
	} else if err := e.recover(ctx, true); err != nil {
		e.setErr(err)
	}
	if err := e.verifyAtOpen(ctx); err != nil {
		e.setErr(err)
	}
	e.mu.Lock()
	e.config = e.configAtOpen()
	e.nextSync = e.newestState.NextSync
	e.lastSync = e.newestState.Time
	e.mu.Unlock()
	if err := e.usableConfig(); err != nil {
		// Said at once; Open still succeeds so that the configuration can
		// be read and replaced (SetConfig) and the pair inspected.
		e.logf("open: %v", err)
		e.setErr(fmt.Errorf("open: %w", err))
	}
	if opts.ReadOnly {
		if err := e.upgradeAtOpenReadOnly(ctx); err != nil {
			e.setErr(err)
		}
	} else if err := e.upgradeAtOpen(ctx); err != nil {
		e.setErr(err)
	}
	return e, nil
}

// openStore opens the store of chip i (nil on error) and notes the
// damage it reports in the log and in Status.Damage.
func (e *Engine) openStore(i int) error {
	l := e.opts.Layout
	o := e.storeOpts
	if o.Expect == nil {
		o.Expect = expectOf(e.ids, i)
	}
	s, err := store.Open(e.chips[i], l.StoreOff, l.StoreSize, o)
	if err != nil {
		e.stores[i] = nil
		return err
	}
	e.stores[i] = s
	for _, d := range s.Damage() {
		d = e.chips[i].Geometry().Name + " store: " + d
		e.logf("%s", d)
		e.mu.Lock()
		e.damage = append(e.damage, d)
		e.mu.Unlock()
	}
	return nil
}

// newestRole returns the role record with the newest epoch on either
// store (at an equal epoch, one with a restore pending).
func (e *Engine) newestRole() store.Role {
	var r store.Role
	for _, s := range e.stores {
		if s != nil {
			if sr := s.StateRef().Role; sr.Epoch > r.Epoch || (sr.Epoch == r.Epoch && sr.RestorePending && !r.RestorePending) {
				r = sr
			}
		}
	}
	if r.Active > 1 {
		r.Active = 0
	}
	return r
}

// newest returns the store holding the newest committed generation.
func (e *Engine) newest() *store.Store {
	var best *store.Store
	for _, s := range e.stores {
		if s != nil && (best == nil || s.StateRef().Generation > best.StateRef().Generation) {
			best = s
		}
	}
	return best
}

// configAtOpen: a configuration staged on the backup store; else one
// staged on the store with the newest generation (staged on the chip that
// has since become active by a failover); else the backup store's
// committed one when it holds the newest generation (SetConfig commits
// there, between generations); else the one committed with the newest
// generation.
func (e *Engine) configAtOpen() Config {
	bk := e.stores[1-e.role.Active]
	if bk != nil {
		if c, ok := e.stagedAtOpen(bk); ok {
			return FromStoreConfig(c)
		}
	}
	if n := e.newest(); n != nil {
		if c, ok := e.stagedAtOpen(n); ok {
			return FromStoreConfig(c)
		}
		if bk != nil && bk.StateRef().Generation >= n.StateRef().Generation {
			return FromStoreConfig(bk.StateRef().Config)
		}
		return FromStoreConfig(n.StateRef().Config)
	}
	return DefaultConfig()
}

// refreshNewestState copies the newest committed generation's state for
// Status.
func (e *Engine) refreshNewestState() {
	if n := e.newest(); n != nil {
		// Chunk maps of committed states are never modified in place, so
		// the snapshot shares them.
		st := *n.StateRef()
		st.Types = slices.Clone(st.Types)
		st.Config.Types = slices.Clone(st.Config.Types)
		v, choice := st.ImageVersion, st.UpgradeChoice
		if c := e.committedFromActive(); c != nil {
			v, choice = c.ImageVersion, c.UpgradeChoice
		}
		e.mu.Lock()
		e.newestState = st
		e.heldVersion, e.heldChoice = v, choice
		e.mu.Unlock()
	}
}

// newestGeneration returns the newest committed generation.
func (e *Engine) newestGeneration() uint64 {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.newestState.Generation
}

// Primary returns the chip the active image runs from (the sync source).
func (e *Engine) Primary() hal.Flash {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.chips[e.role.Active]
}

// Backup returns the chip rounds write to.
func (e *Engine) Backup() hal.Flash {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.chips[1-e.role.Active]
}

// Chip returns the chip with id i (0: formatted as chip A, 1: chip B).
func (e *Engine) Chip(i int) hal.Flash { return e.chips[i&1] }

// Layout returns the layout in use.
func (e *Engine) Layout() Layout { return e.opts.Layout }

// backupStore returns the backup chip's store, opening (and recovering) it
// if needed.
func (e *Engine) backupStore() (*store.Store, error) {
	i := 1 - int(e.role.Active)
	if e.stores[i] == nil {
		if err := e.openStore(i); err != nil {
			return nil, fmt.Errorf("backup store on %s: %w", e.chips[i].Geometry().Name, err)
		}
	}
	s := e.stores[i]
	// Read-only: the interrupted round stays (Pending); readers use the
	// committed generation, which the purge leaves as it is, and every
	// write is refused before it gets here (readOnly).
	if in := s.Interrupted(); in != nil && !e.opts.ReadOnly {
		if err := e.purgeAndReinit(s, in); err != nil {
			return nil, err
		}
	}
	return s, nil
}

// storeGen returns the committed generation of chip i's store (0 if it
// is not open).
func (e *Engine) storeGen(i int) uint64 {
	if e.stores[i] == nil {
		return 0
	}
	return e.stores[i].StateRef().Generation
}
