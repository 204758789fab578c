package web_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/cmcsync/cmcsync/web"
)

// fakeBackend is an in-memory engine for the web tests: it keeps a config,
// commits a new generation per round, logs events, and can be given an
// image upgrade. It implements web.Backend and web.UpgradeSimulator.
type fakeBackend struct {
	mu       sync.Mutex
	now      time.Time // advances one second per call of tick
	cfg      web.Config
	gen      uint64
	sizes    map[string]int64
	typeGen  map[string]uint64
	events   []web.Event
	version  string
	upgrade  *web.UpgradeInfo
	choices  []web.UpgradeChoice
	counters web.Counters
	lastSync time.Time
	// lastScrub, when set, is the status's last complete scrub (health ok).
	lastScrub time.Time
	// restoreFailed, if set, is a failover's restore that failed for these
	// types (Status.RestorePending).
	restoreFailed []string
	// refuse, if set, makes SetConfig refuse every config with this error
	// (wrapped in web.ErrInvalid), like an engine with stricter rules.
	refuse string
	// syncErr, if set, makes SyncNow fail with this error (a device
	// failure: 500), changing nothing.
	syncErr string
	// active is the active chip (0: chip A); Failback refuses at 0.
	active int
	// configRead, if set, is called by every Config after it read the
	// configuration, before it returns it (a test holds a reader there).
	configRead func()
	// infoPut, if set, is called by every PutInfo first (a test holds a
	// writer there).
	infoPut func()
}

// fakeRegion is the fake's running information region: 2 MiB, not the
// 8 MiB reference region the TypicalSize texts describe.
const fakeRegion = 2 << 20

var fakeTypes = []web.TypeInfo{
	{Name: "power", Title: "Power supply information", Holds: "PSU inventory, input and output readings, redundancy policy.", WhyBackup: "After a failover the CMC must keep the power budget and redundancy policy.", TypicalSize: "About 845 KiB in a 1,056 KiB extent of the standard 8 MiB region.", ChangeRate: "Readings every few seconds", CapacityBytes: 264 << 10, RegionBytes: fakeRegion},
	{Name: "fan", Title: "Fan information", Holds: "Fan zones, speeds, curves and failures.", WhyBackup: "The backup image must cool the chassis with the same curves.", TypicalSize: "About 845 KiB in a 1,056 KiB extent of the standard 8 MiB region.", ChangeRate: "Every few seconds", CapacityBytes: 96 << 10, RegionBytes: fakeRegion},
	{Name: "node", Title: "Node information", Holds: "Slots, node power state and management addresses.", WhyBackup: "Node management continues across a failover.", TypicalSize: "About 493 KiB in a 616 KiB extent of the standard 8 MiB region.", ChangeRate: "On node events", CapacityBytes: 154 << 10, RegionBytes: fakeRegion},
	// The event log's explanation is long, as the real ones are: the
	// page's fixed display area scrolls it.
	{Name: "event-log", Title: "Node event log (SEL)", Holds: strings.Repeat("System event log entries of every node: record ID, type, timestamp, generator, sensor and event data. ", 14), WhyBackup: "Evidence of what happened before the failover.", TypicalSize: "About 2.5 MiB in a 3,168 KiB extent of the standard 8 MiB region.", ChangeRate: "Appends on every event", CapacityBytes: 792 << 10, RegionBytes: fakeRegion},
	{Name: "fault-log", Title: "Node fault log", Holds: "Faults diagnosed per node.", WhyBackup: "Service needs the fault history.", TypicalSize: "About 1.65 MiB in a 2,112 KiB extent of the standard 8 MiB region.", ChangeRate: "On faults", CapacityBytes: 528 << 10, RegionBytes: fakeRegion},
	// The asset type's size is left unknown: the page falls back to the
	// descriptive TypicalSize text.
	{Name: "asset", Title: "Node asset information (FRU)", Holds: "Serial numbers, part numbers and firmware versions.", WhyBackup: "Inventory stays correct after a failover.", TypicalSize: "4-16 KiB", ChangeRate: "Rarely"},
}

var fakeSizes = map[string]int64{"power": 3072, "fan": 1536, "node": 6144, "event-log": 40960, "fault-log": 12288, "asset": 8192}

func newFake() *fakeBackend {
	return &fakeBackend{
		now:     time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC),
		cfg:     web.Config{Types: []string{"power", "fan", "node", "event-log", "fault-log", "asset"}, Interval: web.Duration(30 * time.Second), Threshold: web.Duration(500 * time.Millisecond), Verify: true},
		sizes:   map[string]int64{},
		typeGen: map[string]uint64{},
		version: "1.4.2",
	}
}

func (f *fakeBackend) tick() time.Time {
	f.now = f.now.Add(time.Second)
	return f.now
}

func (f *fakeBackend) Status() web.Status {
	f.mu.Lock()
	defer f.mu.Unlock()
	st := web.Status{
		Active: "primary", ActiveChip: 0, ImageVersion: f.version, Generation: f.gen,
		LastSync: f.lastSync, Counters: f.counters, RestorePending: len(f.restoreFailed) > 0, RestoreFailed: f.restoreFailed,
		Chips: []web.Chip{{Role: "primary", Name: "flash0", Geometry: "mx66l1g45g NOR 8 MiB"}, {Role: "backup", Name: "flash1", Geometry: "mx66l1g45g NOR 8 MiB"}},
	}
	if !f.lastSync.IsZero() {
		st.NextSync = f.lastSync.Add(time.Duration(f.cfg.Interval))
	}
	if !f.lastScrub.IsZero() {
		st.BackupHealth, st.LastScrub = "ok", f.lastScrub
	}
	if f.cfg.GroupSize > 0 && len(f.cfg.Types) > 0 {
		for i := range f.cfg.GroupSize {
			st.NextGroup = append(st.NextGroup, f.cfg.Types[(int(f.gen)*f.cfg.GroupSize+i)%len(f.cfg.Types)])
		}
	}
	if f.upgrade != nil {
		u := *f.upgrade
		st.Upgrade = &u
	}
	for _, t := range fakeTypes {
		ts := web.TypeStatus{Name: t.Name, Selected: slices.Contains(f.cfg.Types, t.Name), Size: f.sizes[t.Name], Generation: f.typeGen[t.Name]}
		if ts.Generation != 0 {
			ts.Digest = fmt.Sprintf("%08x%08x", ts.Generation*2654435761, ts.Size)
		}
		switch {
		case !ts.Selected:
			ts.State = "not-selected"
		case ts.Generation == 0:
			ts.State = "pending"
		default:
			ts.State = "synced"
		}
		st.Types = append(st.Types, ts)
	}
	return st
}

func (f *fakeBackend) Events() []web.Event {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.events)
}

func (f *fakeBackend) Types() []web.TypeInfo { return slices.Clone(fakeTypes) }

func (f *fakeBackend) Config() web.Config {
	f.mu.Lock()
	c := f.cfg
	c.Types = slices.Clone(c.Types)
	f.mu.Unlock()
	if f.configRead != nil {
		f.configRead()
	}
	return c
}

func (f *fakeBackend) SetConfig(c web.Config) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.refuse != "" {
		return fmt.Errorf("%w: %s", web.ErrInvalid, f.refuse)
	}
	c.Types = slices.Clone(c.Types)
	f.cfg = c
	f.events = append(f.events, web.Event{Time: f.tick(), Kind: "config", Generation: f.gen, Detail: fmt.Sprintf("configuration stored: %d types, interval %v", len(c.Types), time.Duration(c.Interval))})
	return nil
}

func (f *fakeBackend) SyncNow(ctx context.Context) (web.Round, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.syncErr != "" {
		return web.Round{}, errors.New(f.syncErr)
	}
	if f.upgrade != nil {
		return web.Round{}, fmt.Errorf("%w: an image upgrade waits for the user's choice", web.ErrConflict)
	}
	f.gen++
	r := web.Round{Time: f.tick(), Generation: f.gen, Outcome: "committed", Types: slices.Clone(f.cfg.Types), DurationSeconds: 0.004 * float64(f.gen)}
	for _, t := range f.cfg.Types {
		f.sizes[t] = fakeSizes[t] + int64(f.gen)*16
		f.typeGen[t] = f.gen
		r.BytesWritten += 256
	}
	f.lastSync = r.Time
	f.counters.Rounds++
	f.counters.BytesWritten += r.BytesWritten
	f.events = append(f.events, web.Event{Time: r.Time, Kind: "commit", Generation: f.gen, Detail: fmt.Sprintf("generation %d committed: %d types", f.gen, len(r.Types))})
	return r, nil
}

func (f *fakeBackend) Upgrade(ctx context.Context, choice web.UpgradeChoice) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.upgrade == nil {
		return web.ErrNoUpgrade
	}
	f.choices = append(f.choices, choice)
	f.upgrade = nil
	if choice == web.RestoreDefaults {
		for t := range f.sizes {
			f.sizes[t] = 128
		}
	}
	f.events = append(f.events, web.Event{Time: f.tick(), Kind: "upgrade-choice", Generation: f.gen, Detail: "chose " + string(choice)})
	return nil
}

func (f *fakeBackend) SimulateUpgrade(ctx context.Context) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	from := f.version
	f.version = fmt.Sprintf("1.%d.0", 5+len(f.choices))
	f.upgrade = &web.UpgradeInfo{FromVersion: from, ToVersion: f.version, Detected: f.tick()}
	f.events = append(f.events, web.Event{Time: f.now, Kind: "upgrade", Detail: "image upgraded " + from + " -> " + f.version})
	return nil
}

func (f *fakeBackend) setSyncErr(msg string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.syncErr = msg
}

func (f *fakeBackend) upgradeChoices() []web.UpgradeChoice {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.choices)
}

func (f *fakeBackend) Failback(ctx context.Context) (web.Failback, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.active == 0 {
		return web.Failback{}, fmt.Errorf("%w: failback refused: chip A is already the active chip", web.ErrConflict)
	}
	if f.gen == 0 {
		return web.Failback{}, fmt.Errorf("%w: failback refused: no committed generation to re-seed chip A from", web.ErrConflict)
	}
	f.active = 0
	return web.Failback{Generation: f.gen, Types: slices.Clone(f.cfg.Types), RoleEpoch: 2, ActiveChip: 0}, nil
}

func (f *fakeBackend) PutInfo(ctx context.Context, p web.InfoPut) (web.InfoPutResult, error) {
	if f.infoPut != nil {
		f.infoPut()
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if string(p.Data) == "bad" {
		return web.InfoPutResult{}, fmt.Errorf("%w: bad information input: does not decode", web.ErrInvalid)
	}
	changed := f.sizes[p.Type] != int64(len(p.Data))
	f.sizes[p.Type] = int64(len(p.Data))
	return web.InfoPutResult{Type: p.Type, Slot: p.Slot, Changed: changed, Seq: 1, Size: len(p.Data)}, nil
}
