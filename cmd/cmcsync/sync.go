package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"slices"
	"time"

	"github.com/cmcsync/cmcsync/cmcsim"
	"github.com/cmcsync/cmcsync/hal"
	"github.com/cmcsync/cmcsync/internal/flashspec"
	"github.com/cmcsync/cmcsync/sim"
	"github.com/cmcsync/cmcsync/sync/engine"
	"github.com/cmcsync/cmcsync/sync/info"
	"github.com/cmcsync/cmcsync/sync/store"
)

func init() {
	register(command{name: "sync", summary: "run one sync round from a primary flash to a backup flash", run: runSync})
}

// syncResult is sync's --json output.
type syncResult struct {
	Formatted bool               `json:"formatted"`
	Populated bool               `json:"populated"`
	Scrub     engine.ScrubReport `json:"scrub"`
	Round     engine.RoundReport `json:"round"`
	Status    engine.Status      `json:"status"`
	Events    []engine.Event     `json:"events"`
}

// openPair opens two flash specs; sim chips share one virtual clock, which
// is then the engine's clock.
func openPair(a, b string) (fa, fb hal.Flash, clock hal.Clock, err error) {
	sa, err := flashspec.Parse(a)
	if err != nil {
		return nil, nil, nil, usageError("sync: --primary: %v", err)
	}
	sb, err := flashspec.Parse(b)
	if err != nil {
		return nil, nil, nil, usageError("sync: --backup: %v", err)
	}
	var sc *sim.Clock
	clock = hal.SystemClock{}
	if sa.Backend == flashspec.Sim || sb.Backend == flashspec.Sim {
		sc = sim.NewClock(time.Now().UTC().Truncate(time.Second))
		if sa.Backend == flashspec.Sim && sb.Backend == flashspec.Sim {
			clock = sc
		}
	}
	if sa.Name == "" && sa.Backend == flashspec.Sim {
		sa.Name = "primary"
	}
	if sb.Name == "" && sb.Backend == flashspec.Sim {
		sb.Name = "backup"
	}
	if fa, err = flashspec.Open(sa, sc); err != nil {
		return nil, nil, nil, fmt.Errorf("sync: primary: %w", err)
	}
	if fb, err = flashspec.Open(sb, sc); err != nil {
		hal.Close(fa)
		return nil, nil, nil, fmt.Errorf("sync: backup: %w", err)
	}
	return fa, fb, clock, nil
}

// runSync runs one round: cmcsync sync --primary SPEC --backup SPEC
// [--select TYPES] [--populate] [--json].
func runSync(ctx context.Context, args []string, stdout, stderr io.Writer) (err error) {
	fs := flag.NewFlagSet("sync", flag.ContinueOnError)
	fs.SetOutput(stderr)
	primary := fs.String("primary", "", "the primary (active) flash: "+flashspec.Usage)
	backup := fs.String("backup", "", "the backup flash: "+flashspec.Usage)
	sel := fs.String("select", "", "information types to sync, comma-separated, or all (default: the stored configuration)")
	populate := fs.Bool("populate", false, "format blank chips and fill the primary's information from the generator")
	seed := fs.Uint64("seed", 1, "generator seed for --populate")
	infoSize := fs.String("info-size", "", "information region size, e.g. 8M (default: a quarter of the chip, at most 8MiB)")
	asJSON := fs.Bool("json", false, "print the result as JSON")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: cmcsync sync --primary SPEC --backup SPEC [--select power,fan,...] [--populate] [--json]")
		fmt.Fprintln(stderr, "\nRuns one sync round: recovery if the last run was cut, a scrub of the backup,")
		fmt.Fprintln(stderr, "then the round. A sim spec without file= is a new blank chip each run.")
		fs.PrintDefaults()
	}
	if done, err := parseFlags(fs, args); done {
		return err
	}
	if *primary == "" || *backup == "" {
		return usageError("sync: --primary and --backup are required (%s)", flashspec.Usage)
	}
	var types []info.Type
	if *sel != "" {
		if types, err = info.ParseList(*sel); err != nil {
			return usageError("sync: --select: %v", err)
		}
	}
	var isize int64
	if *infoSize != "" {
		if isize, err = hal.ParseSize(*infoSize); err != nil {
			return usageError("sync: --info-size: %v", err)
		}
	}
	fa, fb, clock, err := openPair(*primary, *backup)
	if err != nil {
		return err
	}
	defer func() {
		err = errors.Join(err, hal.Close(fa), hal.Close(fb))
	}()
	layout, err := engine.DefaultLayout(fa.Geometry(), isize)
	if err != nil {
		return fmt.Errorf("sync: %w", err)
	}
	cfg := engine.DefaultConfig()
	if types != nil {
		cfg.Types = types
	}
	opts := engine.Options{Clock: clock, Layout: layout, Config: cfg}
	var res syncResult
	if blank(fa, layout) && blank(fb, layout) {
		if !*populate {
			return &exitError{code: 1, msg: "sync: both chips are blank: run with --populate to format them and fill the primary"}
		}
		if _, err := engine.FormatAndFill(fa, fb, opts, cmcsim.New(*seed).Populate); err != nil {
			return fmt.Errorf("sync: %w", err)
		}
		res.Formatted, res.Populated = true, true
	} else if *populate {
		fmt.Fprintln(stderr, "sync: chips already formatted; --populate ignored")
	}
	e, err := engine.Open(ctx, fa, fb, opts)
	if err != nil {
		return fmt.Errorf("sync: %w", err)
	}
	if types != nil {
		c := e.Config()
		if !slices.Equal(c.Types, types) {
			c.Types = types
			c.GroupSize = min(c.GroupSize, len(types))
			if err := e.SetConfig(c); err != nil {
				return fmt.Errorf("sync: %w", err)
			}
		}
	}
	if res.Scrub, err = e.Scrub(ctx); err != nil {
		return fmt.Errorf("sync: scrub: %w", err)
	}
	rep, roundErr := e.Round(ctx)
	res.Round, res.Status, res.Events = rep, e.Status(), e.Events()
	if *asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(res); err != nil {
			return err
		}
	} else {
		printSync(stdout, &res)
	}
	if roundErr != nil {
		return &exitError{code: 1, msg: fmt.Sprintf("sync: round %s: %v", rep.Outcome, roundErr)}
	}
	return nil
}

// blank reports whether f's store range holds no store superblock.
func blank(f hal.Flash, l engine.Layout) bool {
	_, err := store.Open(f, l.StoreOff, l.StoreSize, store.Options{ReadOnly: true})
	return errors.Is(err, store.ErrNotFormatted)
}

func printSync(w io.Writer, res *syncResult) {
	if res.Formatted {
		fmt.Fprintln(w, "formatted both chips; populated the primary's information region")
	}
	for _, ev := range res.Events {
		fmt.Fprintf(w, "event: %s\n", ev)
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
	r := res.Round
	fmt.Fprintf(w, "round: %s, generation %d, types %s\n", r.Outcome, r.Generation, info.FormatList(r.Types))
	fmt.Fprintf(w, "  changed: %d chunks of %v\n", r.ChangedChunks, r.ChangedTypes)
	fmt.Fprintf(w, "  flash: read %d bytes, programmed %d bytes in %d pages (%d of chunk data), %d erases (%d of data blocks)\n", r.BytesRead, r.BytesWritten, r.PagesProgrammed, r.DataPages, r.Erases, r.DataErases)
	fmt.Fprintf(w, "  time: %v (clock), wait-response %v\n", r.Duration, r.WaitResponse)
	if r.Anomaly != "" {
		fmt.Fprintf(w, "  anomaly: %s\n", r.Anomaly)
	}
	st := res.Status
	fmt.Fprintf(w, "status: active %s (chip %d), generation %d, next sync %s\n", st.Active, st.ActiveChip, st.Generation, st.NextSync.UTC().Format(time.RFC3339))
}
