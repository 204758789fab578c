// Command cmcsync syncs a chassis management controller's information from
// its primary flash image to its backup image, and verifies that it does so
// safely: fault campaigns, benchmarks, a QEMU-booted CMC and a web page.
//
// Usage:
//
//	cmcsync <command> [flags]
//
// Run "cmcsync help" for the list of commands.
package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"slices"
	"sort"
	"strings"
	"syscall"
	"time"

	"github.com/cmcsync/cmcsync/config"
	"github.com/cmcsync/cmcsync/internal/chipstate"
	"github.com/cmcsync/cmcsync/internal/devlock"
	"github.com/cmcsync/cmcsync/sim"
	"github.com/cmcsync/cmcsync/sync/engine"
	"github.com/cmcsync/cmcsync/web"
)

// stopSignals end a command cleanly (docs/CLI.md, Signals): SIGINT
// (Ctrl-C), SIGTERM (systemctl stop, kill) and SIGHUP (the terminal or
// session it runs in went away; no command reloads anything), unless the
// process was started with SIGHUP ignored (nohup): it stays ignored.
func stopSignals() []os.Signal {
	sigs := []os.Signal{os.Interrupt, syscall.SIGTERM}
	if !signal.Ignored(syscall.SIGHUP) {
		sigs = append(sigs, syscall.SIGHUP)
	}
	return sigs
}

// stopContext is the context a command runs under: it ends at the first
// of stopSignals, which asks the command to stop cleanly. That signal
// also gives the stop signals their default action back, so a second one
// ends the process at once, as a kill would (every command's writes are
// power-cut safe; a stop that waits, for a hung chip or a failover action
// say, is cut short).
func stopContext() (context.Context, context.CancelFunc) {
	ctx, stop := signal.NotifyContext(context.Background(), stopSignals()...)
	context.AfterFunc(ctx, stop)
	return ctx, stop
}

func main() {
	ctx, stop := stopContext()
	err := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	if err != nil {
		var ee *exitError
		if !errors.As(err, &ee) || ee.msg != "" {
			fmt.Fprintln(os.Stderr, "cmcsync:", err)
		}
		os.Exit(exitCode(err))
	}
}

// Exit statuses (docs/CLI.md): every command follows them.
const (
	exitOK      = 0 // done; for checks: nothing wrong found
	exitFailure = 1 // failed, or a check found a violation or damage
	exitUsage   = 2 // bad command line, configuration file or input
	exitRefused = 3 // refused, nothing done: would destroy data, nothing to do (no upgrade pending), not now (a choice or a repair pending), a device is busy, or (campaign merge) shards missing
)

// exitCode maps an error to its exit status: an exitError's own code;
// refusals and busy devices 3; bad configuration files, sizes that
// contradict the chip (a region size its header contradicts, a simulated
// chip's image file of another size than the spec's chip, a layout the chip
// cannot hold, a place or image identity that does not parse or names no
// partition of the chip), serve off loopback without TLS files and bad
// input files 2;
// anything else 1.
func exitCode(err error) int {
	var ee *exitError
	switch {
	case err == nil:
		return exitOK
	case errors.As(err, &ee):
		return ee.code
	case errors.Is(err, chipstate.ErrRefused), errors.Is(err, devlock.ErrBusy):
		return exitRefused
	case errors.Is(err, config.ErrConfig), errors.Is(err, chipstate.ErrSizeMismatch), errors.Is(err, chipstate.ErrEraseMismatch), errors.Is(err, errBadInput), errors.Is(err, chipstate.ErrPlace),
		errors.Is(err, sim.ErrImageMismatch), errors.Is(err, engine.ErrLayout), errors.Is(err, web.ErrNeedTLS):
		return exitUsage
	}
	return exitFailure
}

// errBadInput marks an input file (information to put) that does not
// decode: exit status 2.
var errBadInput = errors.New("bad input")

// command is one subcommand. Each lives in its own file and registers itself
// from an init function.
type command struct {
	name    string
	summary string
	run     func(ctx context.Context, args []string, stdout, stderr io.Writer) error
}

var commands = map[string]command{}

func register(c command) {
	if _, dup := commands[c.name]; dup {
		panic("cmcsync: command registered twice: " + c.name)
	}
	commands[c.name] = c
}

// exitError asks main to exit with a given status, printing msg if non-empty.
// A command returns it when the exit status itself carries meaning (e.g. a
// campaign that found violations).
type exitError struct {
	code int
	msg  string
}

func (e *exitError) Error() string {
	if e.msg == "" {
		return fmt.Sprintf("exit status %d", e.code)
	}
	return e.msg
}

// usageError reports a command-line mistake; it exits with status 2.
func usageError(format string, a ...any) error {
	return &exitError{code: exitUsage, msg: fmt.Sprintf(format, a...)}
}

// newFlagSet returns a flag set for the command name that reports to
// stderr and whose -h prints the usage lines, one a line, then the flags.
func newFlagSet(name string, stderr io.Writer, usage ...string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		for _, line := range usage {
			fmt.Fprintln(fs.Output(), line)
		}
		fs.PrintDefaults()
	}
	return fs
}

// parseQuiet parses args into fs. -h prints the usage to fs's output and
// returns flag.ErrHelp; any other mistake (an unknown flag, a value that
// does not parse) prints nothing and returns a usage error of one line,
// naming fs.Name() and where the flags are listed, for main to print once.
func parseQuiet(fs *flag.FlagSet, args []string) error {
	out := fs.Output()
	var buf bytes.Buffer
	fs.SetOutput(&buf)
	err := fs.Parse(args)
	fs.SetOutput(out)
	switch {
	case err == nil:
		return nil
	case errors.Is(err, flag.ErrHelp):
		_, _ = out.Write(buf.Bytes())
		return err
	}
	return usageError("%s: %v (%scmcsync help %s lists the flags)", fs.Name(), err, flagHint(fs, err), fs.Name())
}

// flagHint is the start of the hint after a flag mistake: for an unknown
// flag, the defined one it is likely a typo of ("did you mean --populate?
// "); for a flag given without its value, what the value is (its usage);
// for a duration flag whose value does not parse, the form a duration
// takes (a bare "30" is not one). "" when there is nothing to add.
func flagHint(fs *flag.FlagSet, err error) string {
	msg := err.Error()
	if name, ok := strings.CutPrefix(msg, "flag provided but not defined: -"); ok {
		if near := nearestFlag(fs, strings.TrimPrefix(name, "-")); near != "" {
			return "did you mean --" + near + "? "
		}
		return ""
	}
	if name, ok := strings.CutPrefix(msg, "flag needs an argument: -"); ok {
		// What the value is: the flag's own usage line.
		if f := fs.Lookup(strings.TrimPrefix(name, "-")); f != nil && f.Usage != "" {
			return "--" + f.Name + " takes a value: " + strings.Join(strings.Fields(f.Usage), " ") + "; "
		}
		return ""
	}
	if _, rest, ok := strings.Cut(msg, " for flag -"); ok {
		name, _, _ := strings.Cut(rest, ":")
		if f := fs.Lookup(name); f != nil {
			if g, ok := f.Value.(flag.Getter); ok {
				if _, isDur := g.Get().(time.Duration); isDur {
					return "--" + name + " takes a duration with its unit, such as 30s, 5m, 1h30m or 500ms; "
				}
			}
		}
	}
	return ""
}

// nearestFlag is the flag of fs closest to the unknown name: one whose name
// starts with it (a flag cut short) or is at most two edits from it (a
// typo); "" when none is, or when two are equally near.
func nearestFlag(fs *flag.FlagSet, name string) string {
	best, bestDist, tie := "", 3, false
	fs.VisitAll(func(f *flag.Flag) {
		d := editDistance(name, f.Name)
		if len(name) >= 3 && strings.HasPrefix(f.Name, name) {
			d = min(d, 1)
		}
		switch {
		case d < bestDist:
			best, bestDist, tie = f.Name, d, false
		case d == bestDist:
			tie = true
		}
	})
	if tie {
		return ""
	}
	return best
}

// editDistance is the Levenshtein distance between a and b (bytes).
func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}

// parseFlags parses a command's flags and refuses positional arguments.
// done is true when the command should return err at once: nil after -h
// printed the usage, a usage error otherwise. Errors name fs.Name().
// Flags after a stray argument are still parsed (as parseWithArgs does),
// so that the error names only the arguments that are not flags.
func parseFlags(fs *flag.FlagSet, args []string) (done bool, err error) {
	pos, done, err := parseWithArgs(fs, args)
	if done {
		return true, err
	}
	if len(pos) > 0 {
		return true, usageError("%s: unexpected arguments %q", fs.Name(), pos)
	}
	return false, nil
}

// run is the whole program, callable from tests.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) >= 2 && args[0] == "help" {
		// help CMD [SUB]: the command's own usage, on stdout.
		c, ok := commands[args[1]]
		if !ok {
			return usageError("help: unknown command %q (want one of %s)", args[1], strings.Join(commandNames(), ", "))
		}
		return c.run(ctx, append(slices.Clone(args[2:]), "-h"), stdout, stdout)
	}
	if len(args) == 0 || args[0] == "help" || args[0] == "-h" || args[0] == "--help" {
		printHelp(stdout)
		if len(args) == 0 {
			return usageError("no command given")
		}
		return nil
	}
	if args[0] == "--version" || args[0] == "-version" {
		args[0] = "version" // what other tools take; cmcsync version is the command
	}
	c, ok := commands[args[0]]
	if !ok {
		return usageError("%s", unknownCommand(args[0]))
	}
	return c.run(ctx, args[1:], stdout, stderr)
}

// unknownCommand says why name is no command and what to type instead: a
// flag before any command goes after one, a typo names the command meant.
func unknownCommand(name string) string {
	list := strings.Join(commandNames(), ", ")
	if strings.HasPrefix(name, "-") {
		return fmt.Sprintf("%q before a command: give the command first, flags after it, cmcsync COMMAND [flags] (commands: %s; cmcsync help lists them)", name, list)
	}
	best, bestDist, tie := "", 3, false
	for _, n := range commandNames() {
		switch d := editDistance(name, n); {
		case d < bestDist:
			best, bestDist, tie = n, d, false
		case d == bestDist:
			tie = true
		}
	}
	if best != "" && !tie {
		return fmt.Sprintf("unknown command %q: did you mean %s? (want one of %s)", name, best, list)
	}
	return fmt.Sprintf("unknown command %q (want one of %s)", name, list)
}

func commandNames() []string {
	names := make([]string, 0, len(commands))
	for n := range commands {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

func printHelp(w io.Writer) {
	fmt.Fprintln(w, "usage: cmcsync <command> [flags]")
	fmt.Fprintln(w, "\ncommands:")
	for _, n := range commandNames() {
		fmt.Fprintf(w, "  %-10s %s\n", n, commands[n].summary)
	}
	fmt.Fprintln(w, "\nRun \"cmcsync help <command>\" for a command's flags. Exit status: 0 done,")
	fmt.Fprintln(w, "1 failure or damage found, 2 bad command line or input, 3 refused or busy")
	fmt.Fprintln(w, "(docs/CLI.md).")
}

// flagGiven reports whether the flag name was given on the command line
// (even with an empty value), after fs was parsed.
func flagGiven(fs *flag.FlagSet, name string) bool {
	given := false
	fs.Visit(func(f *flag.Flag) { given = given || f.Name == name })
	return given
}
