package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/cmcsync/cmcsync/internal/chipstate"
	"github.com/cmcsync/cmcsync/internal/flashspec"
	"github.com/cmcsync/cmcsync/sync/engine"
	"github.com/cmcsync/cmcsync/sync/store"
)

// pairFlags are the flags of the commands that open the engine on a
// formatted pair (info, upgrade, config): the chips, the configuration
// file and the layout.
type pairFlags struct {
	primary, backup *string
	chips           *chipFlags
	json            *bool
}

func addPairFlags(fs *flag.FlagSet) *pairFlags {
	return &pairFlags{
		primary: fs.String("primary", "", "the primary flash: "+flashspec.Usage),
		backup:  fs.String("backup", "", "the backup flash, same forms"),
		chips:   addChipFlags(fs),
		json:    fs.Bool("json", false, "print the result as JSON (docs/JSON.md)"),
	}
}

// openedEngine is the engine on a locked pair; Close closes all.
type openedEngine struct {
	*engine.Engine
	pair *pair
	// created lists the image files opening the chips created (a missing
	// file is created erased, see newSimFiles).
	created []string
}

func (o *openedEngine) Close() error {
	o.Engine.Release()
	return o.pair.Close()
}

// CloseAfter closes all after the command's outcome err and returns err
// joined with the close's error. The image files the open created are
// removed again when the command failed or was refused (any err: a file
// created for a mistyped path must not stay behind, nor a refusal leave
// one) and after a read-only command (info get, config get) whatever
// its outcome; they are still erased then, or hold only what the failed
// command began, which their absence equals.
func (o *openedEngine) CloseAfter(err error, readOnly bool) error {
	o.Engine.Release()
	var discard []string
	if err != nil || readOnly {
		discard = o.created
	}
	return errors.Join(err, o.pair.closeDiscarding(discard))
}

// open applies the configuration file, then locks and opens the chips and
// the engine on them (recovery included, as sync does). It never formats:
// chips without a store are an error naming what they hold.
func (p *pairFlags) open(ctx context.Context, fs *flag.FlagSet) (*openedEngine, error) {
	return p.openMode(ctx, fs, false)
}

// openReadOnly opens the pair as open does, for a command that only
// reads (config get, info get): the chips read-only (openPairReadOnly)
// and the engine with engine.Options.ReadOnly, which programs and erases
// nothing: no recovery is made, an interrupted round is left for the next
// writing command, and what needs one is in the engine's Pending. It
// never creates a file.
func (p *pairFlags) openReadOnly(ctx context.Context, fs *flag.FlagSet) (*openedEngine, error) {
	return p.openMode(ctx, fs, true)
}

func (p *pairFlags) openMode(ctx context.Context, fs *flag.FlagSet, readOnly bool) (*openedEngine, error) {
	cmd := fs.Name()
	if err := p.chips.load(fs); err != nil {
		return nil, err
	}
	if *p.primary == "" || *p.backup == "" {
		return nil, usageError("%s: --primary and --backup are required, on the command line or in --config (%s)", cmd, flashspec.Usage)
	}
	places, err := p.chips.places(cmd)
	if err != nil {
		return nil, err
	}
	if err := refuseNewPair(cmd, *p.primary, *p.backup, "or make a new pair with cmcsync sync --populate"); err != nil {
		return nil, err
	}
	// One missing file of a formatted pair is a mistyped path (a replaced
	// chip is brought in by reseed): created blank, a missing primary
	// would read as a failed chip, a missing chip B after a failover would
	// leave chip A's older role record to say which chip is active.
	for _, c := range []chipFile{{"primary", *p.primary}, {"backup", *p.backup}} {
		if err := refuseMissingImage(cmd, c.role, c.spec, "give the existing image file of the pair's "+c.role+" (a replaced chip: cmcsync reseed creates and formats it)"); err != nil {
			return nil, err
		}
	}
	// A chip that fails to open leaves no file this command created
	// (openPair removes them; a read-only open creates none).
	openChips := openPair
	if readOnly {
		openChips = openPairReadOnly
	}
	pr, err := openChips(cmd, *p.primary, *p.backup)
	if err != nil {
		return nil, err
	}
	created := pr.created
	layout, id, err := chipstate.PairLayout(pr.chips, pr.specs, places, false)
	if err != nil {
		return nil, errors.Join(fmt.Errorf("%s: %w", cmd, err), pr.closeDiscarding(created))
	}
	e, err := engine.Open(ctx, pr.chips[0], pr.chips[1], engine.Options{Clock: pr.clock, Wall: time.Now, Layout: layout, Image: id, Config: engine.DefaultConfig(), ReadOnly: readOnly})
	if err != nil {
		return nil, errors.Join(fmt.Errorf("%s: %w%s", cmd, err, newPairHint(err)), pr.closeDiscarding(created))
	}
	return &openedEngine{Engine: e, pair: pr, created: created}, nil
}

// newPairHint is the hint for an open that found no store on either
// chip: a new pair is made by sync --populate. Chips given the wrong way
// round, or of two pairs, hold stores: their error says what to do, and
// making a new pair of them would erase both stores.
func newPairHint(err error) string {
	if !errors.Is(err, store.ErrNotFormatted) || errors.Is(err, engine.ErrWrongChip) || errors.Is(err, engine.ErrForeignPair) {
		return ""
	}
	return " (neither chip holds a store: cmcsync sync --populate makes a new pair; it formats both chips, and refuses chips that hold data unless --force names them)"
}

// subcommand runs the subcommand args[0] of command name.
func subcommand(ctx context.Context, name string, subs map[string]func(context.Context, []string, io.Writer, io.Writer) error, args []string, stdout, stderr io.Writer) error {
	names := make([]string, 0, len(subs))
	for n := range subs {
		names = append(names, n)
	}
	slices.Sort(names)
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" {
		if len(args) == 0 {
			return usageError("%s: want a subcommand: %s (cmcsync %s SUBCOMMAND -h for its flags)", name, strings.Join(names, ", "), name)
		}
		fmt.Fprintf(stderr, "usage: cmcsync %s {%s} ... (cmcsync %s SUBCOMMAND -h for its flags)\n", name, strings.Join(names, "|"), name)
		return nil
	}
	run, ok := subs[args[0]]
	if !ok && strings.HasPrefix(args[0], "-") {
		return usageError("%s: give the subcommand first: cmcsync %s SUBCOMMAND [flags], SUBCOMMAND one of %s", name, name, strings.Join(names, ", "))
	}
	if !ok {
		return usageError("%s: unknown subcommand %q (want %s)", name, args[0], strings.Join(names, ", "))
	}
	return run(ctx, args[1:], stdout, stderr)
}

// parseWithArgs parses flags placed before, between or after positional
// arguments and returns the positional ones; done as parseFlags.
func parseWithArgs(fs *flag.FlagSet, args []string) (pos []string, done bool, err error) {
	for {
		if err := parseQuiet(fs, args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return nil, true, nil
			}
			return nil, true, err
		}
		rest := fs.Args()
		if len(rest) == 0 {
			return pos, false, nil
		}
		if rest[0] == "--" {
			return append(pos, rest[1:]...), false, nil
		}
		pos = append(pos, rest[0])
		args = rest[1:]
	}
}

// requireBackupStore fails (exit 1) when Open found no readable store on
// the backup chip (both superblock copies damaged, a blank or foreign
// range): what config get prints and what upgrade decides come from that
// store, and without it the engine falls back to the other chip's store
// or the defaults, which must not be shown as what the backup holds.
func (o *openedEngine) requireBackupStore(cmd string) error {
	if _, ok := o.OpenScrub(); ok {
		return nil
	}
	why := o.Status().LastError
	if why == "" {
		why = "no store opens on " + o.Backup().Geometry().Name + "; `cmcsync inspect` shows what it holds"
	}
	return &exitError{code: exitFailure, msg: fmt.Sprintf("%s: the backup's store cannot be read, so there is no stored configuration or committed generation to go by (nothing was written): %s", cmd, why)}
}

// readOnlyPending reports the repairs a read-only open (openReadOnly) left
// undone: each is noted on stderr, the answer coming from the committed
// generation; with region (the answer is read from the active chip's
// information region), one that writes that region (a failover's
// restore, a restore-defaults, not finished) is a refusal, exit 3.
func (o *openedEngine) readOnlyPending(cmd string, stderr io.Writer, region bool) error {
	pend := o.Pending()
	for _, p := range pend {
		if region && p.Info {
			return &exitError{code: exitRefused, msg: fmt.Sprintf("%s: %s, so the active chip's information region may hold part old, part new contents; nothing was written (%s only reads and repairs nothing): run cmcsync sync, whose open finishes it, then ask again", cmd, p.What, cmd)}
		}
	}
	for _, p := range pend {
		fmt.Fprintf(stderr, "%s: note: %s; answered from the committed generation, nothing was written (%s only reads: cmcsync sync repairs it)\n", cmd, p.What, cmd)
	}
	return nil
}
