package campaign

import (
	"errors"
	"fmt"
	"runtime"
	"strings"

	"github.com/cmcsync/cmcsync/sync/engine"
)

// Mode is how a campaign chooses its fault points.
type Mode uint8

// The modes.
const (
	// Exhaustive branches at every flash operation of the recorded round
	// (a clean power cut, torn variants of programs and erases) and runs
	// the other fault kinds at the operations they apply to (see the
	// package doc and [Options.Depth]).
	Exhaustive Mode = iota
	// Random draws seeded mixed schedules and runs each from the base,
	// or from the recorded round's first half when no fault strikes
	// before it (see [Options.Count]).
	Random
)

var modeNames = []string{Exhaustive: "exhaustive", Random: "random"}

// String returns "exhaustive" or "random".
func (m Mode) String() string {
	if int(m) < len(modeNames) {
		return modeNames[m]
	}
	return fmt.Sprintf("mode(%d)", uint8(m))
}

// ParseMode returns the mode called name ("" means [Exhaustive]).
func ParseMode(name string) (Mode, error) {
	if name == "" {
		return Exhaustive, nil
	}
	for m, n := range modeNames {
		if n == name {
			return Mode(m), nil
		}
	}
	return 0, fmt.Errorf("%w: unknown mode %q (want %s)", ErrOptions, name, strings.Join(modeNames, " or "))
}

// ErrOptions is wrapped by every error of [Options.Validate] and
// [ParseMode]: options a campaign cannot run with.
var ErrOptions = errors.New("bad campaign options")

// Options configure a campaign. The zero value runs the exhaustive
// campaign of the standard scenario with the real engine.
type Options struct {
	Mode     Mode
	Scenario string        // default "standard"
	Seed     uint64        // the scenario's generator seed and the random schedules' seed (default 1)
	Mutant   engine.Mutant // engine variant, default engine.None (the real engine)
	// Depth 2 (exhaustive) also cuts at every operation of the recovery
	// after each cut of the round (default 1).
	Depth int
	Count int // random mode: schedules to run (default 100)
	Shard Shard
	// Workers run points side by side, each on its own pair of chips
	// (default GOMAXPROCS). The report does not depend on it (but for
	// its Workers field and the timing fields).
	Workers int
	// LiveEvery checks the live invariant (a full round after recovery)
	// at every Nth point only (0 or 1: at every point).
	LiveEvery int
	// KeepViolations bounds the violations listed in the report (all are
	// counted); 0 means 100.
	KeepViolations int
	// StopAfter ends the campaign early once this many violations were
	// found (0: run every point).
	StopAfter int
	// Progress, if set, is called after each point with the points done
	// and the total.
	Progress func(done, total int)
}

// Validate reports the first option a campaign cannot run with, wrapping
// [ErrOptions]; zero values stand for their defaults. [Run] validates its
// options the same way.
func (o Options) Validate() error {
	_, err := o.withDefaults()
	return err
}

// withDefaults returns o with its defaults filled in, or the first bad
// option.
func (o Options) withDefaults() (Options, error) {
	if o.Mode != Exhaustive && o.Mode != Random {
		return o, fmt.Errorf("%w: unknown mode %v (want %s)", ErrOptions, o.Mode, strings.Join(modeNames, " or "))
	}
	if o.Scenario == "" {
		o.Scenario = "standard"
	}
	if _, err := LookupScenario(o.Scenario); err != nil {
		return o, fmt.Errorf("%w: %w", ErrOptions, err)
	}
	if o.Seed == 0 {
		o.Seed = 1
	}
	if err := checkMutant(o.Mutant); err != nil {
		return o, err
	}
	if o.Depth == 0 {
		o.Depth = 1
	}
	if o.Depth < 1 || o.Depth > 2 {
		return o, fmt.Errorf("%w: depth %d: want 1 or 2", ErrOptions, o.Depth)
	}
	if o.Mode == Random && o.Count <= 0 {
		o.Count = 100
	}
	if o.Shard.Count == 0 {
		o.Shard = Shard{0, 1}
	}
	if o.Shard.Index < 0 || o.Shard.Index >= o.Shard.Count {
		return o, fmt.Errorf("%w: shard %v: want K/N with 0 <= K < N", ErrOptions, o.Shard)
	}
	if o.Workers <= 0 {
		o.Workers = runtime.GOMAXPROCS(0)
	}
	if o.KeepViolations <= 0 {
		o.KeepViolations = 100
	}
	return o, nil
}

// checkMutant reports a mutant engine.ParseMutant does not know.
func checkMutant(m engine.Mutant) error {
	if _, err := engine.ParseMutant(m.String()); err != nil {
		return fmt.Errorf("%w: %w", ErrOptions, err)
	}
	return nil
}
