package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/cmcsync/cmcsync/internal/chipstate"
	"github.com/cmcsync/cmcsync/internal/flashspec"
	"github.com/cmcsync/cmcsync/internal/jsonout"
	"github.com/cmcsync/cmcsync/sync/engine"
)

func init() {
	register(command{name: "reseed", summary: "bring a replaced (blank) standby chip into the active chip's pair: format its store only, then one round", run: runReseed})
}

// reseedResult is reseed's --json output (docs/JSON.md).
type reseedResult struct {
	Standby    string `json:"standby"` // "primary" or "backup": the chip formatted
	StandbyID  int    `json:"standby_chip"`
	ActiveChip int    `json:"active_chip"`
	PairID     string `json:"pair_id"`
	Erased     bool   `json:"erased"` // --force: the standby's store range held data, erased
	Was        string `json:"was"`    // what the standby's store range held
	// ConfigReplaced: --default-config replaced the active store's invalid
	// committed configuration with the default one.
	ConfigReplaced bool          `json:"config_replaced"`
	Round          jsonout.Round `json:"round"`
}

// runReseed: cmcsync reseed --primary SPEC --backup SPEC [--force CHIP]
// [--config FILE] [--default-config] [--json]. The logic is engine.Reseed's.
func runReseed(ctx context.Context, args []string, stdout, stderr io.Writer) (err error) {
	fs := newFlagSet("reseed", stderr,
		"usage: cmcsync reseed --primary SPEC --backup SPEC [--config FILE] [--force CHIP] [--default-config] [--json]",
		"\nBrings a replaced standby chip (its store range blank) back into service:",
		"formats the store of the standby (non-active) chip only, as that chip of the",
		"active chip's pair, then runs one round so it holds a committed generation.",
		"It never writes the active chip. It refuses, writing nothing, with exit",
		"status 3 when the standby already holds a store of this pair, holds other",
		"data (unless --force names it: that data is ERASED), the blank chip is the",
		"active one, no chip holds a valid store, or the active chip's committed sync",
		"configuration is invalid (--default-config then formats the standby with the",
		"default one). A cut reseed is finished by running it again (or by sync, when",
		"it says there is nothing to reseed).")
	pf := addPairFlags(fs)
	force := fs.String("force", "", "the standby chip (primary or backup) whose store range may be ERASED when it holds data")
	defaultConfig := fs.Bool("default-config", false, "when the active chip's committed sync configuration is invalid (reseed refuses it), commit the default one on the standby instead (config set changes it after); a valid one is kept")
	if done, err := parseFlags(fs, args); done {
		return err
	}
	if err := pf.chips.load(fs); err != nil {
		return err
	}
	if *pf.primary == "" || *pf.backup == "" {
		return usageError("reseed: --primary and --backup are required, on the command line or in --config (%s)", flashspec.Usage)
	}
	places, err := pf.chips.places("reseed")
	if err != nil {
		return err
	}
	forced, err := chipstate.ParseForce(*force, "primary", "backup")
	if err != nil {
		return usageError("reseed: %v", err)
	}
	if err := refuseNewPair("reseed", *pf.primary, *pf.backup, "or make a new pair with cmcsync sync --populate"); err != nil {
		return err
	}
	// A failed reseed leaves no file that opening the chips created
	// (openPairTidy), unless it formatted the standby's store: the
	// engine's error then says that store is there for sync to use.
	p, closePair, err := openPairTidy("reseed", *pf.primary, *pf.backup)
	if err != nil {
		return err
	}
	defer func() { err = closePair(err) }()
	layout, id, err := chipstate.PairLayout(p.chips, p.specs, places, false)
	if err != nil {
		return fmt.Errorf("reseed: %w", err)
	}
	opts := engine.Options{Clock: p.clock, Wall: time.Now, Layout: layout, Image: id, Config: engine.DefaultConfig()}
	var rep engine.ReseedReport
	if *defaultConfig {
		rep, err = engine.ReseedWithConfig(ctx, p.chips[0], p.chips[1], opts, [2]bool{forced[0], forced[1]}, engine.DefaultConfig())
	} else {
		rep, err = engine.Reseed(ctx, p.chips[0], p.chips[1], opts, [2]bool{forced[0], forced[1]})
	}
	// The report names the pair once the standby's format began: after it
	// the engine's error says to run reseed again (a format cut short,
	// which reseed resumes) or that sync brings the formatted store into
	// service, and the file it is on stays for that.
	p.keepCreated = err != nil && rep.PairID != 0
	switch {
	case errors.Is(err, engine.ErrReseedRefused):
		return &exitError{code: exitRefused, msg: fmt.Sprintf("reseed: %v", err)}
	case err != nil:
		return err
	}
	names := [2]string{"primary", "backup"}
	res := reseedResult{Standby: names[rep.Standby], StandbyID: rep.Standby, ActiveChip: rep.Active,
		PairID: fmt.Sprintf("%#x", rep.PairID), Erased: rep.Erased, Was: rep.Was, ConfigReplaced: rep.ConfigReplaced, Round: jsonout.FromRound(rep.Round)}
	if *pf.json {
		return writeJSON(stdout, res)
	}
	if res.Erased {
		fmt.Fprintf(stdout, "reseed: erased what the %s's store range held (%s)\n", res.Standby, res.Was)
	}
	if res.ConfigReplaced {
		fmt.Fprintf(stdout, "reseed: the active chip's committed sync configuration was invalid: the default one is committed instead (`cmcsync config set` changes it)\n")
	}
	fmt.Fprintf(stdout, "reseed: formatted the %s's store (chip %d of pair %s); the active chip (chip %d) was not written\n", res.Standby, res.StandbyID, res.PairID, res.ActiveChip)
	fmt.Fprintf(stdout, "round: %s, generation %d, types %s\n", res.Round.Outcome, res.Round.Generation, joinNames(res.Round.Types))
	return nil
}
