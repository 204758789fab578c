package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"time"

	"github.com/cmcsync/cmcsync/cmcsim"
	"github.com/cmcsync/cmcsync/config"
	"github.com/cmcsync/cmcsync/internal/chipstate"
	"github.com/cmcsync/cmcsync/internal/flashspec"
	"github.com/cmcsync/cmcsync/internal/jsonout"
	"github.com/cmcsync/cmcsync/sync/engine"
	"github.com/cmcsync/cmcsync/sync/info"
	"github.com/cmcsync/cmcsync/web"
)

func init() {
	register(command{name: "sync", summary: "run one sync round from a primary flash to a backup flash", run: runSync})
}

// syncResult is sync's --json output.
type syncResult struct {
	Formatted bool            `json:"formatted"`
	Populated bool            `json:"populated"`
	Layout    jsonout.Layout  `json:"layout"`
	Selected  *selectChange   `json:"select_stored,omitempty"`
	Scrub     jsonout.Scrub   `json:"scrub"`
	Round     jsonout.Round   `json:"round"`
	Status    jsonout.Status  `json:"status"`
	Events    []jsonout.Event `json:"events"`
	// anomaly is the round's anomaly as an error (Round.Anomaly is its
	// text), for the hint printSync chooses by errors.Is.
	anomaly error
}

// selectChange is the stored configuration's change --select made.
type selectChange struct {
	Was []string `json:"was"`
	Now []string `json:"now"`
}

// runSync runs one round: cmcsync sync --primary SPEC --backup SPEC
// [--select TYPES] [--populate [--force CHIPS]] [--json].
func runSync(ctx context.Context, args []string, stdout, stderr io.Writer) (err error) {
	fs := newFlagSet("sync", stderr,
		"usage: cmcsync sync --primary SPEC --backup SPEC [--config FILE] [--select power,fan,...] [--populate [--force CHIPS]] [--json]",
		"\nRuns one sync round: recovery if the last run was cut, a scrub of the backup,",
		"then the round. A sim spec without file= is a new blank chip each run. The",
		"information region's size is read from its header. --select changes the stored",
		"configuration (it says so); cmcsync config set changes the rest. Exits 1 when",
		"the round failed or synced nothing because the primary answered wrongly or",
		"late (interrupted, or failed over to the backup), after printing the round.")
	primary := fs.String("primary", "", "the primary (active) flash: "+flashspec.Usage)
	backup := fs.String("backup", "", "the backup flash: "+flashspec.Usage)
	sel := fs.String("select", "", "information types to sync, comma-separated, or all; STORED: later rounds (serve, sync) keep it (default: the stored configuration)")
	populate := fs.Bool("populate", false, "format both chips and fill the primary's information from the generator, if neither holds a store (ERASES them; chips holding any data also need --force)")
	force := fs.String("force", "", "with --populate: the chips (primary, backup, comma-separated) whose data it may erase")
	seed := fs.Uint64("seed", 1, "generator seed for --populate")
	cf := addChipFlags(fs)
	asJSON := fs.Bool("json", false, "print the result as JSON (docs/JSON.md)")
	if done, err := parseFlags(fs, args); done {
		return err
	}
	if err := cf.load(fs); err != nil {
		return err
	}
	if *primary == "" || *backup == "" {
		return usageError("sync: --primary and --backup are required, on the command line or in --config (%s)", flashspec.Usage)
	}
	var types []info.Type
	if flagGiven(fs, "select") { // --select "" is an empty list, not "not given"
		if types, err = config.ParseTypes(*sel); err != nil {
			var fe *web.FieldError
			if errors.As(err, &fe) {
				err = errors.New(fe.Msg)
			}
			return usageError("sync: %s: %v", cf.origin("select"), err)
		}
	}
	places, err := cf.places("sync")
	if err != nil {
		return err
	}
	forced, err := chipstate.ParseForce(*force, "primary", "backup")
	if err != nil {
		return usageError("sync: %v", err)
	}
	if *force != "" && !*populate {
		return usageError("sync: --force goes with --populate (it names the chips --populate may erase)")
	}
	if !*populate {
		if err := refuseNewImageFiles(*primary, *backup); err != nil {
			return err
		}
	}
	// With --populate, a missing image file is created; one beside a store
	// is refused below (missingImage).
	missing := missingImage(*primary, *backup)
	// A failed sync leaves no file that opening the chips created: bad
	// input (2) or a refusal (3) changed nothing, and a new pair whose
	// --populate or round failed (1) is removed again (openPairTidy).
	p, closePair, err := openPairTidy("sync", *primary, *backup)
	if err != nil {
		return err
	}
	defer func() { err = closePair(err) }()
	fa, fb := p.chips[0], p.chips[1]
	layout, id, err := chipstate.PairLayout(p.chips, p.specs, places, false)
	if err != nil {
		return fmt.Errorf("sync: %w", err)
	}
	var got [2]chipstate.Contents
	for i, f := range p.chips {
		if got[i], err = chipstate.Survey(f, layout); err != nil {
			return fmt.Errorf("sync: %s: %w", []string{"primary", "backup"}[i], err)
		}
	}
	cfg := engine.DefaultConfig()
	if types != nil {
		cfg.Types = types
	}
	opts := engine.Options{Clock: p.clock, Wall: time.Now, Layout: layout, Image: id, Config: cfg}
	res := syncResult{Layout: jsonout.FromLayout(layout)}
	if !got[0].Store && !got[1].Store {
		if !*populate {
			return &exitError{code: exitFailure, msg: fmt.Sprintf("sync: neither chip holds a cmcsync store (primary: %s; backup: %s). "+
				"To start a new pair, --populate formats both chips and fills the primary from the generator: it ERASES what they hold", got[0], got[1])}
		}
		chips := []chipstate.Chip{{Name: "primary", Spec: p.specs[0].String(), Flash: fa, Force: forced[0]}, {Name: "backup", Spec: p.specs[1].String(), Flash: fb, Force: forced[1]}}
		if err := chipstate.CheckFormat(chips, layout, "--populate"); err != nil {
			return fmt.Errorf("sync: %w", err)
		}
		if _, err := engine.FormatAndFill(fa, fb, opts, cmcsim.New(*seed).Populate); err != nil {
			return fmt.Errorf("sync: %w", err)
		}
		res.Formatted, res.Populated = true, true
	} else if *populate {
		if missing != "" {
			// A file created beside a store is not a new pair but a
			// mistyped path or a replaced chip: a round on it failed over
			// (a new primary) or failed (a new backup) and left the file.
			return usageError("sync: --populate formats nothing where a store is (primary: %s; backup: %s), and the %s: give the existing image file, or bring a replaced chip in with cmcsync reseed, which creates and formats it",
				got[0], got[1], missing)
		}
		// Name what each chip holds: one of them may be blank (a replaced
		// chip), and "the chips hold a store" would then be wrong.
		fmt.Fprintf(stderr, "sync: --populate ignored, nothing formatted: a store is there (primary: %s; backup: %s)\n", got[0], got[1])
	}
	e, err := engine.Open(ctx, fa, fb, opts)
	if err != nil {
		return fmt.Errorf("sync: %w", err)
	}
	if types != nil {
		c := e.Config()
		if !slices.Equal(c.Types, types) {
			res.Selected = &selectChange{Was: jsonout.Types(c.Types), Now: jsonout.Types(types)}
			c.Types = types
			c.GroupSize = min(c.GroupSize, len(types))
			// The API's limits, as config set --types checks them.
			if err := apiLimits(c); err != nil {
				return usageError("sync: --select: the stored configuration with these types is outside the API's limits: %v (change it with cmcsync config set)", err)
			}
			if err := e.SetConfig(c); err != nil {
				return fmt.Errorf("sync: %w", err)
			}
		}
	}
	// Open read every committed chunk of the backup back already.
	scrub, ok := e.OpenScrub()
	if !ok {
		if scrub, err = e.Scrub(ctx); err != nil {
			return fmt.Errorf("sync: scrub: %w", err)
		}
	}
	// The change table is not trusted blindly: the primary's unchanged
	// chunks are compared with their committed digests, and the round
	// syncs any change the table missed.
	if scrub.TableFaults, err = e.ScrubPrimary(ctx); err != nil {
		return fmt.Errorf("sync: scrub the primary: %w", err)
	}
	res.Scrub = jsonout.FromScrub(scrub)
	rep, roundErr := e.Round(ctx)
	res.Round, res.Status, res.Events = jsonout.FromRound(rep), jsonout.FromStatus(e.Status()), jsonout.FromEvents(e.Events())
	res.anomaly = rep.AnomalyErr
	if *asJSON {
		if err := writeJSON(stdout, res); err != nil {
			return err
		}
	} else {
		printSync(stdout, &res)
	}
	if roundErr != nil {
		switch {
		case errors.Is(roundErr, engine.ErrUpgradePending):
			// The round waits for a choice: refused, nothing synced
			// (exit 3, as the API's 409).
			return &exitError{code: exitRefused, msg: roundFailure("sync", rep.Outcome, roundErr) + upgradeHint(e.Status())}
		case errors.Is(roundErr, engine.ErrCommittedConfig):
			// Refused before anything is written (the API's 409).
			return &exitError{code: exitRefused, msg: roundFailure("sync", rep.Outcome, roundErr)}
		}
		return &exitError{code: exitFailure, msg: roundFailure("sync", rep.Outcome, roundErr)}
	}
	return roundNotSynced(rep, e.Status())
}

// roundNotSynced is the exit status of a round that ended without an
// error but synced nothing because the primary misbehaved: interrupted
// (the round was purged; the next sync retries) or failed over (the
// backup chip is now active). The engine did its job, but the sync a
// script asked for did not happen, and a failover needs a person, so the
// command fails (exit 1) after printing the round as usual.
func roundNotSynced(rep engine.RoundReport, st engine.Status) error {
	why := reportRegionHint(rep.Anomaly, rep.AnomalyErr, anomalyHint(rep.Outcome))
	if why == "" {
		why = "the primary did not answer correctly"
	}
	switch rep.Outcome {
	case engine.OutcomeInterrupted:
		return &exitError{code: exitFailure, msg: fmt.Sprintf("sync: round interrupted, nothing synced: %s (the round was purged; the next sync tries again)", why)}
	case engine.OutcomeFailover:
		next := "once chip A is repaired, cmcsync failback makes it active again"
		if st.ActiveChip == 0 {
			// A failover from chip B (active since an earlier failover, by
			// the role record) to chip A: chip A is active as normally;
			// chip B, the standby now, is the one to repair.
			next = "chip B, the standby now, is the one that failed: repair or replace it; cmcsync reseed brings a blank one back into the pair"
		}
		return &exitError{code: exitFailure, msg: fmt.Sprintf("sync: round failed over: %s; the %s (chip %d) is now active, running the last committed generation %d (%s)", why, st.Active, st.ActiveChip, st.Generation, next)}
	}
	return nil
}

// upgradeHint says what the two choices do, restore's loss included, and
// that an identity changed by the command line (--image-id, the places)
// rather than by an upgrade needs neither.
func upgradeHint(st engine.Status) string {
	return fmt.Sprintf(" (the primary's image identity is %q, the committed one %q. After a firmware upgrade, choose with the same chips: "+
		"cmcsync upgrade keep syncs the primary's information as the new baseline; cmcsync upgrade restore REPLACES the primary's information with preset defaults. "+
		"If no firmware was upgraded, the image identity setting (--image-id, the places) differs from the one this pair was synced with: give that one and choose neither)",
		st.PrimaryVersion, st.CommittedVersion)
}

func printSync(w io.Writer, res *syncResult) {
	if res.Formatted {
		fmt.Fprintln(w, "formatted both chips; populated the primary's information region")
	}
	if s := res.Selected; s != nil {
		fmt.Fprintf(w, "stored configuration changed by --select: types %s (were %s); later rounds keep it\n", joinNames(s.Now), joinNames(s.Was))
	}
	for _, ev := range res.Events {
		fmt.Fprintf(w, "event: %s %-14s gen=%d %s\n", ev.Time.UTC().Format(time.RFC3339Nano), ev.Kind, ev.Generation, ev.Detail)
	}
	s := res.Scrub
	for _, d := range s.Damage {
		fmt.Fprintf(w, "damage: %s\n", d)
	}
	if len(s.Damage) > 0 {
		fmt.Fprintf(w, "recovered to generation %d, the last intact one\n", s.Generation)
	}
	if len(s.Bad) > 0 {
		fmt.Fprintf(w, "scrub: %d of %d chunks of generation %d damaged (%v); rewriting them\n", len(s.Bad), s.Chunks, s.Generation, s.Rewrite)
	}
	for _, f := range s.TableFaults {
		fmt.Fprintf(w, "scrub: change-table fault: %s chunk %d differs from generation %d although its table entry says unchanged; the round syncs it\n", f.Type, f.Index, f.Generation)
	}
	r := res.Round
	fmt.Fprintf(w, "round: %s, generation %d, types %s\n", r.Outcome, r.Generation, joinNames(r.Types))
	fmt.Fprintf(w, "  changed: %d chunks of %v\n", r.ChangedChunks, r.ChangedTypes)
	fmt.Fprintf(w, "  flash: read %d bytes, programmed %d bytes in %d pages (%d of chunk data), %d erases (%d of data blocks)\n", r.BytesRead, r.BytesWritten, r.PagesProgrammed, r.DataPages, r.Erases, r.DataErases)
	fmt.Fprintf(w, "  time: %v (clock), wait-response %v\n", seconds(r.DurationSeconds), seconds(r.WaitResponseSeconds))
	if r.Anomaly != "" {
		fmt.Fprintf(w, "  anomaly: %s\n", reportRegionHint(r.Anomaly, res.anomaly, anomalyHint(r.Outcome)))
	}
	st := res.Status
	fmt.Fprintf(w, "status: active %s (chip %d), generation %d, next sync %s\n", st.Active, st.ActiveChip, st.Generation, st.NextSync.UTC().Format(time.RFC3339))
}

// joinNames formats type names as info.FormatList does.
func joinNames(names []string) string {
	ts := make([]info.Type, 0, len(names))
	for _, n := range names {
		if t, err := info.ParseType(n); err == nil {
			ts = append(ts, t)
		}
	}
	return info.FormatList(ts)
}

func seconds(s float64) time.Duration { return time.Duration(s * float64(time.Second)) }

// refuseNewImageFiles refuses a sync without --populate whose two chips
// are simulated image files that do not exist yet: opening them would
// create two blank chip-sized files (and their wear files) only for the
// round to say that neither holds a store. One missing file of a pair is
// left to the engine: a blank chip in place of a replaced one.
//
// The commands that open a formatted pair (info, config, upgrade,
// failback) refuse it the same way (cmd names the command, hint what
// makes a pair).
//
// A missing primary image file of an existing backup is refused too: the
// open would create it blank, a blank primary reads as a failed chip, and
// the round would fail over to the backup (a mistyped primary path made
// the backup the active chip). So is a missing backup image file: created
// blank, the round only failed (exit 1, its store not formatted) and left
// the blank file behind; a replaced backup is brought in by reseed, which
// creates and formats it, and a new pair by --populate.
func refuseNewImageFiles(primary, backup string) error {
	if err := refuseNewPair("sync", primary, backup, "or add --populate to create and format a new pair"); err != nil {
		return err
	}
	if err := refuseMissingImage("sync", "primary", primary,
		"a blank primary reads as a failed chip and the round would fail over to the backup; give the primary's existing image file (chip A replaced after a failover: cmcsync reseed creates and formats it)"); err != nil {
		return err
	}
	return refuseMissingImage("sync", "backup", backup,
		"a blank backup holds no store to sync to; give the backup's existing image file (a replaced backup chip: cmcsync reseed creates and formats its store and syncs it from the primary; --populate makes only a new pair, of two chips without a store, and formats, i.e. ERASES, both)")
}

// refuseMissingImage refuses (exit 2) the chip of role when its spec names
// a simulated chip's image file that does not exist; why says what
// creating it blank would do and what to give instead.
func refuseMissingImage(cmd, role, spec, why string) error {
	if c := simImages(spec)[0]; c.missing {
		return usageError("%s: the %s's image file %s does not exist (nothing created): %s", cmd, role, c.file, why)
	}
	return nil
}

// missingImage names the chip (role and file) of specs primary and backup
// whose simulated image file does not exist, "" if none does or both do
// not (a new pair).
func missingImage(primary, backup string) string {
	var out []string
	for i, c := range simImages(primary, backup) {
		if c.missing {
			out = append(out, fmt.Sprintf("%s's image file %s does not exist (nothing created)", [2]string{"primary", "backup"}[i], c.file))
		}
	}
	if len(out) != 1 {
		return ""
	}
	return out[0]
}

// refuseNewPair refuses (exit 2) a pair of specs that are both simulated
// chips whose image files do not exist: opening them would create a new
// blank pair; hint says how to make one. Specs that do not parse or name
// one chip twice are refused as bad input too.
func refuseNewPair(cmd, primary, backup, hint string) error {
	var specs [2]flashspec.Spec
	for i, c := range [][2]string{{"primary", primary}, {"backup", backup}} {
		s, err := resolveSpec(cmd, c[0], c[1])
		if err != nil {
			return err
		}
		specs[i] = s
	}
	if err := distinctChips(cmd, specs); err != nil {
		return err
	}
	c := simImages(primary, backup)
	if !c[0].missing || !c[1].missing {
		return nil
	}
	return usageError("%s: the image files %s and %s do not exist (nothing created): give the files of an existing pair, %s", cmd, c[0].file, c[1].file, hint)
}
