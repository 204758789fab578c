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

// DefaultImageVersion is the firmware image version Format writes when
// Options.ImageVersion is empty.
const DefaultImageVersion = "1.0.0"

// Options configure Format and Open.
type Options struct {
	Clock  hal.Clock // required: the time source (a sim.Clock for virtual time)
	Layout Layout    // same on both chips; zero: DefaultLayout(chip A's geometry, 0)
	Config Config    // the configuration written by Format (Open reads the stored one)
	Mutant Mutant    // None: the real engine
	// Logf, if set, receives every event as a line.
	Logf func(format string, args ...any)
	// ImageVersion is the firmware version Format writes on both chips
	// (default DefaultImageVersion).
	ImageVersion string
	// ProbeEvery is the least clock time between primary probes during a
	// round's writes (default 20 ms); ProbeRetry the pause between probes
	// while waiting for the primary to answer (default 5 ms).
	ProbeEvery, ProbeRetry time.Duration
	// PrimaryLock, if set, is held while a round runs (Round, Upgrade,
	// Prepare, Apply and the rounds Run starts): CMC services that can
	// hold their writes to the information region while a round reads it
	// share it with the engine (the simulated CMC of cmcsync serve does).
	// Without it, a record rewritten while it is read is read again, and
	// one still inconsistent is a primary anomaly. It is taken after the
	// engine's own lock, so its holders must not call the engine's round
	// methods.
	PrimaryLock sync.Locker
	// OnRound, if set, is called after each round Run starts (the
	// scheduled ones, not the rounds Round or Upgrade run when called
	// directly) with its report and error, from Run's goroutine, with no
	// engine lock held.
	OnRound func(RoundReport, error)
}

func (o *Options) fill(g hal.Geometry) error {
	if o.Clock == nil {
		return errors.New("engine options: Clock is required (hal.SystemClock{} or a sim clock)")
	}
	if o.Layout == (Layout{}) {
		l, err := DefaultLayout(g, 0)
		if err != nil {
			return err
		}
		o.Layout = l
	}
	if o.ImageVersion == "" {
		o.ImageVersion = DefaultImageVersion
	}
	if o.ProbeEvery <= 0 {
		o.ProbeEvery = 20 * time.Millisecond
	}
	if o.ProbeRetry <= 0 {
		o.ProbeRetry = 5 * time.Millisecond
	}
	return nil
}

func checkPair(chipA, chipB hal.Flash, l Layout) error {
	if chipA == nil || chipB == nil {
		return errors.New("two chips are required")
	}
	ga, gb := chipA.Geometry(), chipB.Geometry()
	if ga.EraseSize != gb.EraseSize || ga.Kind != gb.Kind || ga.PageSize != gb.PageSize || ga.WriteSize != gb.WriteSize {
		return fmt.Errorf("chips differ: %v and %v (both chips must have the same kind, erase, write and page size)", ga, gb)
	}
	for _, g := range []hal.Geometry{ga, gb} {
		if err := l.Check(g); err != nil {
			return fmt.Errorf("%s: %w", g.Name, err)
		}
	}
	return nil
}

func (o *Options) storeOptions() store.Options {
	so := store.Options{}
	switch o.Mutant {
	case NoCRCCheck:
		so.TrustRecords = true
	case NoPurge:
		so.SkipPurgeErase = true
	case CommitBeforeDurable:
		so.EarlyCommit = true
	}
	return so
}

// Format makes two blank (or to-be-wiped) chips usable: on each, the
// firmware image (version Options.ImageVersion), an information region
// with default contents, and an empty store (generation 0 holding
// Options.Config; chip A active). It destroys what the chips held in the
// layout's ranges.
func Format(chipA, chipB hal.Flash, opts Options) error {
	if chipA == nil {
		return errors.New("format: chip A is nil")
	}
	if err := opts.fill(chipA.Geometry()); err != nil {
		return fmt.Errorf("format: %w", err)
	}
	if err := checkPair(chipA, chipB, opts.Layout); err != nil {
		return fmt.Errorf("format: %w", err)
	}
	cfg := opts.Config
	if cfg.Types == nil && cfg.Interval == 0 {
		cfg = DefaultConfig()
	}
	if err := cfg.Validate(); err != nil {
		return fmt.Errorf("format: %w", err)
	}
	now := opts.Clock.Now()
	pair := uint64(now.UnixNano()) | 1
	l := opts.Layout
	e := chipA.Geometry().EraseSize
	for i, chip := range []hal.Flash{chipA, chipB} {
		h := info.ImageHeader{Version: opts.ImageVersion, Size: l.ImageSize - info.ImageHeaderSize, Built: now}
		if err := info.WriteImage(chip, h, pair); err != nil {
			return fmt.Errorf("format %s: %w", chip.Geometry().Name, err)
		}
		if err := info.FormatRegion(chip, l.InfoOff, l.InfoSize); err != nil {
			return fmt.Errorf("format %s: %w", chip.Geometry().Name, err)
		}
		fo := store.FormatOptions{ChipID: uint8(i), PairID: pair, Time: now, MaxChunks: l.maxChunks(e), Config: toStoreConfig(cfg)}
		if err := store.Format(chip, l.StoreOff, l.StoreSize, fo); err != nil {
			return fmt.Errorf("format %s: %w", chip.Geometry().Name, err)
		}
	}
	return nil
}

// Counters count what the engine did since Open.
type Counters struct {
	Rounds         int64 `json:"rounds"`
	Commits        int64 `json:"commits"`
	NothingChanged int64 `json:"nothing_changed"`
	Interrupts     int64 `json:"interrupts"`
	Failovers      int64 `json:"failovers"`
	Purges         int64 `json:"purges"`
	Recoveries     int64 `json:"recoveries"`
	Errors         int64 `json:"errors"`
}

// TypeStatus is one information type of the newest committed generation.
type TypeStatus struct {
	Type     info.Type `json:"type"`
	Name     string    `json:"name"`
	Selected bool      `json:"selected"`
	Size     int64     `json:"size"`
	Seq      uint64    `json:"seq"`    // the primary record's sequence number it was taken from
	Digest   string    `json:"digest"` // store.PayloadDigest, hex
	Chunks   int       `json:"chunks"`
}

// Status is the engine's state for the API and CLI.
type Status struct {
	Active     string `json:"active"`      // "primary" (chip 0's image runs) or "backup" (after a failover)
	ActiveChip int    `json:"active_chip"` // 0 or 1: the chip the active image runs from
	BackupChip int    `json:"backup_chip"`
	RoleEpoch  uint64 `json:"role_epoch"` // failovers since format
	// Generation is the newest committed generation (on the backup chip,
	// or after a failover on the chip that became active).
	Generation     uint64       `json:"generation"`
	LastSync       time.Time    `json:"last_sync"`
	NextSync       time.Time    `json:"next_sync"`
	NextGroup      TypeList     `json:"next_group"`
	Types          []TypeStatus `json:"types"`
	LastError      string       `json:"last_error,omitempty"`
	UpgradePending bool         `json:"upgrade_pending"`
	// PrimaryVersion is the image version the last probe read;
	// CommittedVersion the one recorded with the newest generation.
	PrimaryVersion   string        `json:"primary_version"`
	CommittedVersion string        `json:"committed_version"`
	UpgradeChoice    UpgradeChoice `json:"upgrade_choice"`
	Config           Config        `json:"config"`
	Counters         Counters      `json:"counters"`
	LastRound        *RoundReport  `json:"last_round,omitempty"`
	Mutant           string        `json:"mutant,omitempty"`
	// Damage lists damage the stores reported when opened (a bad
	// superblock copy, journal records lost); empty normally.
	Damage []string `json:"damage,omitempty"`
}

// UpgradeChoice is what to do with the information after an image upgrade.
type UpgradeChoice uint8

// Upgrade choices.
const (
	NoChoice        UpgradeChoice = UpgradeChoice(store.ChoiceNone)
	KeepUpgraded    UpgradeChoice = UpgradeChoice(store.ChoiceKeepUpgraded)    // keep the upgraded image's information: sync it as the new baseline
	RestoreDefaults UpgradeChoice = UpgradeChoice(store.ChoiceRestoreDefaults) // write the preset defaults to the primary, then sync them
)

// String returns "none", "keep-upgraded" or "restore-defaults".
func (u UpgradeChoice) String() string {
	switch u {
	case NoChoice:
		return "none"
	case KeepUpgraded:
		return "keep-upgraded"
	case RestoreDefaults:
		return "restore-defaults"
	}
	return fmt.Sprintf("choice(%d)", uint8(u))
}

// MarshalText encodes the choice as its name.
func (u UpgradeChoice) MarshalText() ([]byte, error) { return []byte(u.String()), nil }

// UnmarshalText parses a name of String.
func (u *UpgradeChoice) UnmarshalText(b []byte) error {
	v, err := ParseUpgradeChoice(string(b))
	*u = v
	return err
}

// ParseUpgradeChoice parses "keep-upgraded", "restore-defaults" or "none".
func ParseUpgradeChoice(s string) (UpgradeChoice, error) {
	for _, c := range []UpgradeChoice{NoChoice, KeepUpgraded, RestoreDefaults} {
		if c.String() == s {
			return c, nil
		}
	}
	return NoChoice, fmt.Errorf("unknown upgrade choice %q (want keep-upgraded or restore-defaults)", s)
}

// Engine runs the sync method on a pair of chips. Its methods are safe for
// concurrent use: rounds, upgrades and configuration changes are
// serialized; Status, Events and Config never wait for a round.
type Engine struct {
	op    sync.Mutex // serializes Round, Upgrade, SetConfig
	clock hal.Clock
	opts  Options
	chips [2]hal.Flash // by chip id
	sopts store.Options

	// Owned by the goroutine holding op.
	stores   [2]*store.Store
	rewrite  map[info.Type][]int // damaged chunks the next round rewrites
	lastHdr  *info.ImageHeader
	pairID   uint64
	chipSwap bool
	wake     chan struct{} // wakes Run (see kick)
	// cache holds the payloads of the last committed round (by type),
	// taken from chip cacheChip, for generation cacheGen of the backup.
	cache     map[info.Type][]byte
	cacheChip int
	cacheGen  uint64

	mu       sync.Mutex // guards the fields below
	role     store.Role
	cfg      Config
	events   []Event
	snap     store.State // newest committed generation (a copy)
	lastSync time.Time
	nextSync time.Time
	lastErr  string
	counters Counters
	upgrade  bool
	primVer  string
	lastRep  *RoundReport
	damage   []string
}

// Open opens the pair: reads both stores (superblocks and journals only),
// takes the active role from the store with the newest role epoch, and
// recovers: an interrupted round on either chip is purged (erased, read
// back, marked) and the configuration reinitialised from the last
// committed generation; a failover whose information restore did not finish
// is finished. The chips may be given in either order.
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
	e := &Engine{clock: opts.Clock, opts: opts, chips: [2]hal.Flash{chipA, chipB}, sopts: opts.storeOptions(), wake: make(chan struct{}, 1)}
	var errs [2]error
	for i := range 2 {
		errs[i] = e.openStore(i)
	}
	if errs[0] != nil && errs[1] != nil {
		return nil, fmt.Errorf("open: no usable store: chip A: %v; chip B: %w", errs[0], errs[1])
	}
	// Chips given in the other order: swap so index = chip id.
	if s := e.stores[0]; s != nil && s.Superblock().ChipID == 1 {
		e.swap()
	} else if s := e.stores[1]; s != nil && s.Superblock().ChipID == 0 {
		e.swap()
	}
	if a, b := e.stores[0], e.stores[1]; a != nil && b != nil && a.Superblock().PairID != b.Superblock().PairID {
		e.logf("warning: the chips' stores were formatted as different pairs")
	}
	e.role = e.newestRole()
	if err := e.recover(ctx, true); err != nil {
		e.setErr(err)
	}
	e.mu.Lock()
	e.cfg = e.configAtOpen()
	e.nextSync = e.snap.NextSync
	e.lastSync = e.snap.Time
	e.mu.Unlock()
	return e, nil
}

func (e *Engine) swap() {
	e.chips[0], e.chips[1] = e.chips[1], e.chips[0]
	e.stores[0], e.stores[1] = e.stores[1], e.stores[0]
	e.chipSwap = !e.chipSwap
}

func (e *Engine) openStore(i int) error {
	l := e.opts.Layout
	s, err := store.Open(e.chips[i], l.StoreOff, l.StoreSize, e.sopts)
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
// has since become active by a failover); else the one committed with the
// newest generation.
func (e *Engine) configAtOpen() Config {
	if bk := e.stores[1-e.role.Active]; bk != nil {
		if c, ok := bk.Staged(); ok {
			return FromStoreConfig(c)
		}
	}
	if n := e.newest(); n != nil {
		if c, ok := n.Staged(); ok {
			return FromStoreConfig(c)
		}
		return FromStoreConfig(n.StateRef().Config)
	}
	return DefaultConfig()
}

func (e *Engine) refreshSnap() {
	if n := e.newest(); n != nil {
		// Chunk maps of committed states are never modified in place, so
		// the snapshot shares them.
		st := *n.StateRef()
		st.Types = slices.Clone(st.Types)
		st.Config.Types = slices.Clone(st.Config.Types)
		e.mu.Lock()
		e.snap = st
		e.mu.Unlock()
	}
}

// recover purges interrupted rounds on both chips and reinitialises the
// configuration; it finishes a pending failover restore.
func (e *Engine) recover(ctx context.Context, atOpen bool) error {
	var firstErr error
	for i, s := range e.stores {
		if s == nil {
			continue
		}
		in := s.Interrupted()
		if in == nil {
			continue
		}
		if atOpen {
			e.event(EventRecovery, in.Generation, fmt.Sprintf("interrupted round of generation %d found on %s (%d blocks)", in.Generation, e.chips[i].Geometry().Name, len(in.Blocks)))
			e.mu.Lock()
			e.counters.Recoveries++
			e.mu.Unlock()
		}
		if err := e.purgeAndReinit(s, in); err != nil && firstErr == nil {
			firstErr = err
		}
	}
	e.refreshSnap()
	if e.role.RestorePending {
		if err := e.restoreActive(); err != nil && firstErr == nil {
			firstErr = err
		}
	}
	return firstErr
}

// purgeAndReinit is steps 4.4 and 4.5 of the method.
func (e *Engine) purgeAndReinit(s *store.Store, in *store.Interrupted) error {
	res, err := s.Purge()
	e.mu.Lock()
	e.counters.Purges++
	e.mu.Unlock()
	if err != nil {
		e.event(EventError, in.Generation, "purge failed: "+err.Error())
		return fmt.Errorf("purge generation %d: %w", in.Generation, err)
	}
	e.event(EventPurge, in.Generation, fmt.Sprintf("%d blocks of %s erased", len(res.Blocks), s.Flash().Geometry().Name))
	e.event(EventPurgeVerified, in.Generation, fmt.Sprintf("%d blocks read back erased; purged mark written", len(res.Blocks)))
	e.refreshSnap()
	var cfg Config
	if e.opts.Mutant == ReinitInFlight { // MUTANT: reinit from the round in flight
		cfg = FromStoreConfig(in.Config)
		_ = s.StageConfig(in.Config)
	} else {
		cfg = FromStoreConfig(e.newest().StateRef().Config)
	}
	e.mu.Lock()
	e.cfg = cfg
	e.mu.Unlock()
	e.event(EventReinit, e.snap.Generation, fmt.Sprintf("configuration reinitialised from generation %d: %s", e.snapGen(), describeConfig(cfg)))
	return nil
}

func (e *Engine) snapGen() uint64 {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.snap.Generation
}

func describeConfig(c Config) string {
	return fmt.Sprintf("types=%s interval=%v threshold=%v verify=%v group=%d retry-at-once=%v",
		info.FormatList(c.Types), c.Interval, c.Threshold, c.Verify, c.GroupSize, c.RetryAtOnce)
}

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
	chip := e.chips[act]
	l := e.opts.Layout
	region, err := info.OpenRegion(chip, l.InfoOff, l.InfoSize)
	if err != nil {
		if err := info.FormatRegion(chip, l.InfoOff, l.InfoSize); err != nil {
			return fmt.Errorf("restore: %w", err)
		}
		if region, err = info.OpenRegion(chip, l.InfoOff, l.InfoSize); err != nil {
			return fmt.Errorf("restore: %w", err)
		}
	}
	var restored []string
	for _, ts := range src.StateRef().Types {
		p, err := src.ReadPayload(ts.Type)
		if err != nil {
			return fmt.Errorf("restore %v: %w", info.Type(ts.Type), err)
		}
		if err := region.Write(info.Type(ts.Type), p); err != nil {
			return fmt.Errorf("restore %v: %w", info.Type(ts.Type), err)
		}
		restored = append(restored, info.Type(ts.Type).String())
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
	e.event(EventRestore, src.StateRef().Generation, fmt.Sprintf("information region of %s restored from generation %d: %v", chip.Geometry().Name, src.StateRef().Generation, restored))
	return nil
}

func (e *Engine) event(k EventKind, gen uint64, detail string) {
	ev := Event{Time: e.clock.Now(), Kind: k, Generation: gen, Detail: detail}
	e.mu.Lock()
	e.events = append(e.events, ev)
	if len(e.events) > maxEvents {
		e.events = slices.Delete(e.events, 0, len(e.events)-maxEvents)
	}
	e.mu.Unlock()
	e.logf("%s", ev)
}

func (e *Engine) logf(format string, args ...any) {
	if e.opts.Logf != nil {
		e.opts.Logf(format, args...)
	}
}

func (e *Engine) setErr(err error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if err == nil {
		e.lastErr = ""
		return
	}
	e.lastErr = err.Error()
	e.counters.Errors++
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

// Events returns the event log, oldest first.
func (e *Engine) Events() []Event {
	e.mu.Lock()
	defer e.mu.Unlock()
	return slices.Clone(e.events)
}

// Config returns the configuration in effect.
func (e *Engine) Config() Config {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.cfg.Clone()
}

// SetConfig validates c and stores it power-safely on the backup chip; it
// takes effect at once and is committed with the next generation. (If the
// next round is interrupted, reinit returns to the last committed
// configuration, as the method says.)
func (e *Engine) SetConfig(c Config) error {
	if err := c.Validate(); err != nil {
		return err
	}
	e.op.Lock()
	defer e.op.Unlock()
	bk, err := e.backupStore()
	if err != nil {
		return err
	}
	if err := bk.StageConfig(toStoreConfig(c)); err != nil {
		return err
	}
	e.mu.Lock()
	e.cfg = c.Clone()
	// A shorter interval takes effect now: the next round is due one new
	// interval after the last sync, if that is sooner.
	if !e.lastSync.IsZero() {
		if sooner := e.lastSync.Add(c.Interval); sooner.Before(e.nextSync) {
			e.nextSync = sooner
		}
	}
	e.mu.Unlock()
	e.kick()
	return nil
}

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
	if in := s.Interrupted(); in != nil {
		if err := e.purgeAndReinit(s, in); err != nil {
			return nil, err
		}
	}
	return s, nil
}

// Status returns the engine's state.
func (e *Engine) Status() Status {
	e.mu.Lock()
	defer e.mu.Unlock()
	st := Status{
		ActiveChip: int(e.role.Active), BackupChip: 1 - int(e.role.Active), RoleEpoch: e.role.Epoch,
		Generation: e.snap.Generation, LastSync: e.lastSync, NextSync: e.nextSync,
		LastError: e.lastErr, UpgradePending: e.upgrade, PrimaryVersion: e.primVer,
		CommittedVersion: e.snap.ImageVersion, UpgradeChoice: UpgradeChoice(e.snap.UpgradeChoice),
		Config: e.cfg.Clone(), Counters: e.counters, LastRound: e.lastRep,
	}
	st.Active = "primary"
	if e.role.Active != 0 {
		st.Active = "backup"
	}
	if e.opts.Mutant != None {
		st.Mutant = e.opts.Mutant.String()
	}
	st.NextGroup = group(e.cfg, e.snap.GroupNext)
	st.Damage = slices.Clone(e.damage)
	for _, t := range info.All() {
		ts := TypeStatus{Type: t, Name: t.String(), Selected: slices.Contains(e.cfg.Types, t)}
		if x, ok := e.snap.Type(uint8(t)); ok {
			ts.Size, ts.Seq, ts.Digest, ts.Chunks = x.Size, x.Seq, x.Digest.String(), len(x.Chunks)
		}
		st.Types = append(st.Types, ts)
	}
	return st
}

// group returns the types of the round that starts at index next of
// c.Types (round-robin polling); all of them when GroupSize is 0.
func group(c Config, next uint16) []info.Type {
	n := len(c.Types)
	if n == 0 {
		return nil
	}
	if c.GroupSize <= 0 || c.GroupSize >= n {
		return slices.Clone(c.Types)
	}
	out := make([]info.Type, 0, c.GroupSize)
	for i := range c.GroupSize {
		out = append(out, c.Types[(int(next)+i)%n])
	}
	return out
}
