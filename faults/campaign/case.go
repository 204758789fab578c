package campaign

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/cmcsync/cmcsync/faults"
	"github.com/cmcsync/cmcsync/sync/engine"
)

// Case is one replayable run: a scenario (which fixes the chips, the data
// and the round under test), the engine variant, the damage done to the
// chips before the engine opens for the round, the fault schedule applied
// to the round, and the schedule applied to the recovery that follows it
// (depth 2). Its String is the replay line; [ParseCase] reads it back.
//
//	standard seed=1 mutant=none | (seed 5) (on (at 41) (torn bits)) | none
//	standard seed=1 mutant=none | before (on (at 0) (flip backup 0x9a3000 0x9a3100 2)) | none | none
type Case struct {
	Scenario string
	Seed     uint64 // the scenario's generator seed
	Mutant   engine.Mutant
	// Before is damage to the chips while the CMC is off, before the
	// engine opens for the round: flips, scribbles and copies (a chip
	// re-imaged from the other's dump) of rules that match operation 0, a
	// read of one byte of the primary that the harness issues for them. Empty in most cases (then the line has no
	// "before" part).
	Before   faults.Schedule
	Round    faults.Schedule
	Recovery faults.Schedule
}

// ErrBadCase is wrapped by every error of ParseCase.
var ErrBadCase = errors.New("bad replay line")

// beforeWord starts the replay line's part that holds Case.Before.
const beforeWord = "before "

// String returns the one-line replay form.
func (c Case) String() string {
	before := ""
	if len(c.Before.Rules) > 0 || c.Before.Seed != 0 {
		before = " | " + beforeWord + c.Before.String()
	}
	return fmt.Sprintf("%s seed=%d mutant=%v%s | %v | %v", c.Scenario, c.Seed, c.Mutant, before, c.Round, c.Recovery)
}

// ParseCase reads a replay line as Case.String prints it. The recovery part
// may be left out (no faults in the recovery), and so may the before part.
func ParseCase(line string) (Case, error) {
	parts := strings.Split(strings.TrimSpace(line), "|")
	var c Case
	if len(parts) >= 3 && strings.HasPrefix(strings.TrimSpace(parts[1]), beforeWord) {
		s, err := faults.ParseSchedule(strings.TrimPrefix(strings.TrimSpace(parts[1]), beforeWord))
		if err != nil {
			return Case{}, fmt.Errorf("%w: before schedule: %w", ErrBadCase, err)
		}
		if err := validBefore(s); err != nil {
			return Case{}, fmt.Errorf("%w: before schedule: %w", ErrBadCase, err)
		}
		c.Before = s
		parts = append(parts[:1], parts[2:]...)
	}
	if len(parts) < 2 || len(parts) > 3 {
		return Case{}, fmt.Errorf("%w: want \"SCENARIO seed=N mutant=NAME [| before DAMAGE SCHEDULE] | ROUND SCHEDULE [| RECOVERY SCHEDULE]\", got %q", ErrBadCase, line)
	}
	head := strings.Fields(parts[0])
	if len(head) != 3 || !strings.HasPrefix(head[1], "seed=") || !strings.HasPrefix(head[2], "mutant=") {
		return Case{}, fmt.Errorf("%w: the head must be \"SCENARIO seed=N mutant=NAME\", got %q", ErrBadCase, strings.TrimSpace(parts[0]))
	}
	c.Scenario = head[0]
	seedText := strings.TrimPrefix(head[1], "seed=")
	seed, err := strconv.ParseUint(seedText, 10, 64)
	if err != nil {
		return Case{}, fmt.Errorf("%w: seed=%q: want a whole number from 0 to %d, as the replay line printed it", ErrBadCase, seedText, uint64(math.MaxUint64))
	}
	c.Seed = seed
	mutant := strings.TrimPrefix(head[2], "mutant=")
	if mutant == "" {
		return Case{}, fmt.Errorf("%w: empty mutant name (use mutant=none for the real engine)", ErrBadCase)
	}
	if c.Mutant, err = engine.ParseMutant(mutant); err != nil {
		return Case{}, fmt.Errorf("%w: %w", ErrBadCase, err)
	}
	if c.Round, err = faults.ParseSchedule(parts[1]); err != nil {
		return Case{}, fmt.Errorf("%w: round schedule: %w", ErrBadCase, err)
	}
	if len(parts) == 3 {
		if c.Recovery, err = faults.ParseSchedule(parts[2]); err != nil {
			return Case{}, fmt.Errorf("%w: recovery schedule: %w", ErrBadCase, err)
		}
	}
	return c, nil
}

// validBefore reports a before schedule with an action other than a flip,
// a scribble, a misdirected write or a copy (the damage a chip takes while
// the CMC is off or that a wrong address left, and a chip re-imaged from
// the other's dump).
func validBefore(s faults.Schedule) error {
	for i, r := range s.Rules {
		switch r.Do.(type) {
		case faults.Flip, faults.Scribble, faults.Misdirect, faults.Copy:
		default:
			return fmt.Errorf("rule %d: %v: before the engine opens only flips, scribbles, misdirected writes and copies apply", i+1, r.Do)
		}
	}
	return nil
}
