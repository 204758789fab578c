package campaign

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/cmcsync/cmcsync/faults"
	"github.com/cmcsync/cmcsync/sync/engine"
)

// Case is one replayable run: a scenario (which fixes the chips, the data
// and the round under test), the engine variant, the fault schedule applied
// to the round, and the schedule applied to the recovery that follows it
// (depth 2). Its String is the replay line; [ParseCase] reads it back.
//
//	standard seed=1 mutant=none | (seed 5) (on (at 41) (torn bits)) | none
type Case struct {
	Scenario string
	Seed     uint64 // the scenario's generator seed
	Mutant   engine.Mutant
	Round    faults.Schedule
	Recovery faults.Schedule
}

// ErrBadCase is wrapped by every error of ParseCase.
var ErrBadCase = errors.New("bad replay line")

// String returns the one-line replay form.
func (c Case) String() string {
	return fmt.Sprintf("%s seed=%d mutant=%v | %v | %v", c.Scenario, c.Seed, c.Mutant, c.Round, c.Recovery)
}

// ParseCase reads a replay line as Case.String prints it. The recovery part
// may be left out (no faults in the recovery).
func ParseCase(line string) (Case, error) {
	parts := strings.Split(strings.TrimSpace(line), "|")
	if len(parts) < 2 || len(parts) > 3 {
		return Case{}, fmt.Errorf("%w: want \"SCENARIO seed=N mutant=NAME | ROUND SCHEDULE [| RECOVERY SCHEDULE]\", got %q", ErrBadCase, line)
	}
	head := strings.Fields(parts[0])
	if len(head) != 3 || !strings.HasPrefix(head[1], "seed=") || !strings.HasPrefix(head[2], "mutant=") {
		return Case{}, fmt.Errorf("%w: the head must be \"SCENARIO seed=N mutant=NAME\", got %q", ErrBadCase, strings.TrimSpace(parts[0]))
	}
	var c Case
	c.Scenario = head[0]
	seed, err := strconv.ParseUint(strings.TrimPrefix(head[1], "seed="), 10, 64)
	if err != nil {
		return Case{}, fmt.Errorf("%w: seed: %v", ErrBadCase, err)
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
