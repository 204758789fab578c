package engine

import (
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/cmcsync/cmcsync/sync/info"
	"github.com/cmcsync/cmcsync/sync/store"
)

// describeConfig formats c on one line for the event log.
func describeConfig(c Config) string {
	return fmt.Sprintf("types=%s interval=%v threshold=%v verify=%v group=%d retry-at-once=%v",
		info.FormatList(c.Types), c.Interval, c.Threshold, c.Verify, c.GroupSize, c.RetryAtOnce)
}

// Config returns the configuration in effect.
func (e *Engine) Config() Config {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.config.Clone()
}

// SetConfig validates c and commits it durably on the backup chip before
// it returns (one config-commit record; nothing when c is the committed
// configuration): it takes effect at once, and a later interrupted round's
// purge-then-reinit returns to c, the last committed configuration — a
// configuration a user was told is saved is never reverted. It fails
// (ErrPending from the store) while an interrupted round awaits its purge.
func (e *Engine) SetConfig(c Config) error {
	return e.setConfig(c, e.opts.Mutant != ConfigNotDurable)
}

// StageConfig validates c and stages it on the backup chip for the next
// generation only: it takes effect at once and is committed with the next
// round, but a purge-then-reinit before then drops it for the last
// committed configuration (the method's reinit). It exists for callers
// that want a configuration tried for one round — and for the fault
// campaign, which stages a configuration before every round it judges so
// that reinit has one to drop.
func (e *Engine) StageConfig(c Config) error {
	return e.setConfig(c, false)
}

// setConfig commits (durable) or stages c.
func (e *Engine) setConfig(c Config, durable bool) error {
	if err := e.readOnly("config"); err != nil {
		return err
	}
	if err := c.Validate(); err != nil {
		return err
	}
	e.roundMu.Lock()
	defer e.roundMu.Unlock()
	bk, err := e.backupStore()
	if err != nil {
		return err
	}
	if durable {
		if _, err := bk.CommitConfig(toStoreConfig(c)); err != nil {
			return err
		}
	} else if err := bk.StageConfig(toStoreConfig(c)); err != nil {
		return err
	}
	e.mu.Lock()
	e.config = c.Clone()
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

// Config is the sync configuration a user chooses on the selection page.
type Config struct {
	Types       TypeList      `json:"types"`         // chosen types, in polling order
	Interval    time.Duration `json:"interval"`      // between rounds
	Threshold   time.Duration `json:"threshold"`     // response-time threshold for failover
	Verify      bool          `json:"verify"`        // read back what was written
	GroupSize   int           `json:"group_size"`    // types per round, round-robin; 0 = all chosen every round
	RetryAtOnce bool          `json:"retry_at_once"` // after a purged round whose primary recovered in time: retry now
}

// Limits of Config fields.
const (
	MinInterval  = 100 * time.Millisecond
	MaxInterval  = 31 * 24 * time.Hour
	MinThreshold = time.Millisecond
	MaxThreshold = time.Hour
)

// DefaultConfig returns the configuration of a new store: every type, a
// round every 5 minutes, a 2 s response-time threshold, no read-back
// verify, no groups.
func DefaultConfig() Config {
	return Config{Types: info.All(), Interval: 5 * time.Minute, Threshold: 2 * time.Second}
}

// ErrConfig marks an invalid configuration.
var ErrConfig = errors.New("invalid sync configuration")

// Validate reports the first problem with c, wrapping ErrConfig.
func (c Config) Validate() error {
	if len(c.Types) == 0 {
		return fmt.Errorf("%w: select at least one information type", ErrConfig)
	}
	seen := map[info.Type]bool{}
	for _, t := range c.Types {
		if !t.Valid() {
			return fmt.Errorf("%w: unknown information type %d", ErrConfig, uint8(t))
		}
		if seen[t] {
			return fmt.Errorf("%w: type %v chosen twice", ErrConfig, t)
		}
		seen[t] = true
	}
	switch {
	case c.Interval < MinInterval || c.Interval > MaxInterval:
		return fmt.Errorf("%w: interval %v out of range [%v, %v]", ErrConfig, c.Interval, MinInterval, MaxInterval)
	case c.Threshold < MinThreshold || c.Threshold > MaxThreshold:
		return fmt.Errorf("%w: threshold %v out of range [%v, %v]", ErrConfig, c.Threshold, MinThreshold, MaxThreshold)
	case c.GroupSize < 0 || c.GroupSize > len(c.Types):
		return fmt.Errorf("%w: group size %d out of range [0, %d] (0 syncs every chosen type each round)", ErrConfig, c.GroupSize, len(c.Types))
	}
	return nil
}

// ErrCommittedConfig marks a committed configuration (read from the
// store as it is) that Validate refuses: a store written by another tool
// or damaged in a way its own checks allow. Open notes it in
// Status.LastError; rounds, upgrade choices and Prepare refuse to run
// with it (they write nothing, so the committed data is untouched) until
// SetConfig commits a valid configuration. Read-only uses (inspect,
// config get, Status) work as before.
var ErrCommittedConfig = errors.New("the committed sync configuration is invalid")

// usableConfig returns nil when the configuration in effect is valid,
// else an error wrapping ErrCommittedConfig and ErrConfig that names the
// field (Validate's message) and the way to fix it.
func (e *Engine) usableConfig() error {
	e.mu.Lock()
	c := e.config.Clone()
	e.mu.Unlock()
	if err := c.Validate(); err != nil {
		return fmt.Errorf("%w (%s): %w; nothing was written, the committed data is untouched: commit a valid one with `cmcsync config set%s` or PUT /api/config",
			ErrCommittedConfig, describeConfig(c), err, fixFlags(c))
	}
	return nil
}

// fixFlags names config set flags that make c valid, with the default's
// values, for the fields Validate refuses ("" when it refuses none).
func fixFlags(c Config) string {
	d := DefaultConfig()
	var out string
	if len(c.Types) == 0 { // a store's types are known and distinct (its decoder checks)
		out += " --types all"
	}
	if c.Interval < MinInterval || c.Interval > MaxInterval {
		out += fmt.Sprintf(" --interval %v", d.Interval)
	}
	if c.Threshold < MinThreshold || c.Threshold > MaxThreshold {
		out += fmt.Sprintf(" --threshold %v", d.Threshold)
	}
	if c.GroupSize < 0 || c.GroupSize > len(c.Types) {
		out += " --group-size 0"
	}
	return out
}

// scheduleInterval is the interval the schedule uses: the configuration's,
// or the default one while the configuration is invalid (an interval of 0
// read from a store must not make Run spin).
func (e *Engine) scheduleInterval() time.Duration {
	if e.config.Validate() != nil {
		return DefaultConfig().Interval
	}
	return e.config.Interval
}

// Equal reports whether c and o are the same configuration.
func (c Config) Equal(o Config) bool {
	return slices.Equal(c.Types, o.Types) && c.Interval == o.Interval && c.Threshold == o.Threshold &&
		c.Verify == o.Verify && c.GroupSize == o.GroupSize && c.RetryAtOnce == o.RetryAtOnce
}

// Clone returns a copy of c that shares nothing with it.
func (c Config) Clone() Config {
	c.Types = slices.Clone(c.Types)
	return c
}

// toStoreConfig converts c to the form a store records.
func toStoreConfig(c Config) store.Config {
	sc := store.Config{Interval: c.Interval, Threshold: c.Threshold, Verify: c.Verify, GroupSize: c.GroupSize, RetryAtOnce: c.RetryAtOnce}
	for _, t := range c.Types {
		sc.Types = append(sc.Types, uint8(t))
	}
	return sc
}

// FromStoreConfig converts a configuration decoded from a store.
func FromStoreConfig(sc store.Config) Config {
	c := Config{Interval: sc.Interval, Threshold: sc.Threshold, Verify: sc.Verify, GroupSize: sc.GroupSize, RetryAtOnce: sc.RetryAtOnce}
	for _, t := range sc.Types {
		c.Types = append(c.Types, info.Type(t))
	}
	return c
}
