package guest

import (
	"flag"
	"strconv"
	"time"

	"github.com/cmcsync/cmcsync/internal/flashspec"
	"github.com/cmcsync/cmcsync/internal/shellquote"
	"github.com/cmcsync/cmcsync/sync/engine"
)

// DefaultPrimary and DefaultBackup are the fuji-bmc chips as the guest's
// MTD layer names them: flash0 (whole chip; the primary) and flash1 (the
// backup).
const (
	DefaultPrimary = "mtd:/dev/mtd5"
	DefaultBackup  = "mtd:/dev/mtd6"
)

// Command is the command line of the guest service: what the host types
// into the guest's shell (String) and what `cmcsync guest` parses (Flags),
// so both sides agree on every flag.
type Command struct {
	// Primary and Backup are the chips' flash specs (package
	// internal/flashspec syntax).
	Primary, Backup string
	// Rounds is how many rounds to run; 0 runs until killed.
	Rounds int
	// Seed seeds the simulated CMC's activity and the format's content.
	Seed uint64
	// Activity is the CMC activity (generator time) written to the
	// primary before each round; 0 writes none.
	Activity time.Duration
	// Format formats both chips first and fills the primary's
	// information with the seeded CMC content (destroys what they hold).
	Format bool
	// MarkBad lists blocks to mark bad after Format, as if they had gone
	// bad in service.
	MarkBad []BadBlock
	// TraceWrites prints a backup-write line at each round's first
	// program or erase of the backup (for power-cut timing).
	TraceWrites bool
	// Hold waits, after the engine opened, for a line on the service's
	// input before the rounds.
	Hold bool
	// Pause is a wall-clock pause between rounds.
	Pause time.Duration
	// Mutant is a deliberately broken engine variant (engine.None: the
	// real engine).
	Mutant engine.Mutant
}

// DefaultCommand is the command with every flag at its default: the
// fuji-bmc chips, one round, seed 1, ten minutes of CMC activity.
func DefaultCommand() Command {
	return Command{Primary: DefaultPrimary, Backup: DefaultBackup, Rounds: 1, Seed: 1, Activity: 10 * time.Minute}
}

// Flags defines the command's flags on fs, bound to c's fields, with c's
// values as their defaults.
func (c *Command) Flags(fs *flag.FlagSet) {
	fs.StringVar(&c.Primary, "primary", c.Primary, "primary chip ("+flashspec.Usage+")")
	fs.StringVar(&c.Backup, "backup", c.Backup, "backup chip")
	fs.IntVar(&c.Rounds, "rounds", c.Rounds, "rounds to run (0: until killed)")
	fs.Uint64Var(&c.Seed, "seed", c.Seed, "seed of the simulated CMC activity on the primary")
	fs.DurationVar(&c.Activity, "activity", c.Activity, "CMC activity (generator time) written to the primary before each round; 0 = none")
	fs.BoolVar(&c.Format, "format", c.Format, "format both chips first (image, information region, store) and fill the primary's information with the seeded CMC content")
	fs.Var(badBlockList{&c.MarkBad}, "mark-bad", "after --format, mark erase blocks bad as if they had gone bad in service: a `LIST` of primary:BLOCK or backup:BLOCK (block numbers), comma-separated")
	fs.BoolVar(&c.TraceWrites, "trace-writes", c.TraceWrites, "print a line at the first program or erase of the backup in each round (for power-cut timing)")
	fs.BoolVar(&c.Hold, "hold", c.Hold, "after opening (recovery), wait for a line on standard input before the rounds")
	fs.DurationVar(&c.Pause, "pause", c.Pause, "wall-clock pause between rounds")
	fs.Var(mutantValue{&c.Mutant}, "mutant", "deliberately broken engine variant `NAME` (for the fault harness; cmcsync campaign --list-mutants lists them)")
}

// Args returns the command's arguments after "cmcsync guest": the chips,
// rounds, seed and activity always, the other flags when they differ from
// their zero value. Flags parses them back to c.
func (c Command) Args() []string {
	args := []string{"--primary", c.Primary, "--backup", c.Backup,
		"--rounds", strconv.Itoa(c.Rounds), "--seed", strconv.FormatUint(c.Seed, 10), "--activity", c.Activity.String()}
	if c.Format {
		args = append(args, "--format")
	}
	if len(c.MarkBad) > 0 {
		args = append(args, "--mark-bad", FormatBadBlocks(c.MarkBad))
	}
	if c.TraceWrites {
		args = append(args, "--trace-writes")
	}
	if c.Hold {
		args = append(args, "--hold")
	}
	if c.Pause != 0 {
		args = append(args, "--pause", c.Pause.String())
	}
	if c.Mutant != engine.None {
		args = append(args, "--mutant", c.Mutant.String())
	}
	return args
}

// String returns the shell command line that runs c in the guest:
// "cmcsync guest" and Args, each quoted for the shell where it needs it.
func (c Command) String() string { return commandLine("cmcsync guest", c.Args()) }

// commandLine returns prefix followed by args, each quoted for the shell
// where it needs it (package shellquote).
func commandLine(prefix string, args []string) string {
	if len(args) == 0 {
		return prefix
	}
	return prefix + " " + shellquote.Join(args...)
}

// mutantValue is the --mutant flag: an engine mutant by name.
type mutantValue struct{ m *engine.Mutant }

func (v mutantValue) String() string {
	if v.m == nil || *v.m == engine.None {
		return ""
	}
	return v.m.String()
}

func (v mutantValue) Set(s string) error {
	m, err := engine.ParseMutant(s)
	if err != nil {
		return err
	}
	*v.m = m
	return nil
}

// badBlockList is the --mark-bad flag.
type badBlockList struct{ list *[]BadBlock }

func (v badBlockList) String() string {
	if v.list == nil {
		return ""
	}
	return FormatBadBlocks(*v.list)
}

func (v badBlockList) Set(s string) error {
	l, err := ParseBadBlocks(s)
	if err != nil {
		return err
	}
	*v.list = l
	return nil
}
