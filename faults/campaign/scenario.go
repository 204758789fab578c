package campaign

import (
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/cmcsync/cmcsync/cmcsim"
	"github.com/cmcsync/cmcsync/sync/info"
)

// Scenario fixes what a campaign exercises: the chips, the information on
// the primary and the round under test.
type Scenario struct {
	Name        string
	Description string
	Part        string // sim part name
	ChipSize    int64  // simulated chip size (0: the part's size)
	RegionSize  int64  // primary information region
	Types       []info.Type
	// Activity is the CMC activity (cmcsim.Generator.Step) between the first
	// sync and the round under test.
	Activity time.Duration
	// Interval and Threshold are the configuration of the first sync;
	// NextInterval is the interval the user sets between the first sync and
	// the round (a staged configuration change, so that the round in
	// flight and the last committed generation carry different
	// configurations and reinit can be told right from wrong).
	Interval, NextInterval, Threshold time.Duration
}

var scenarios = map[string]Scenario{
	"standard": {
		Name: "standard",
		Description: "generator information on an 8 MiB region of an MX66L1G45G (32 MiB simulated chips), " +
			"synced once, then the round after a typical interval's changes (about 1%), all six types",
		Part: "mx66l1g45g", ChipSize: 32 << 20, RegionSize: 8 << 20, Types: info.All(),
		Activity: cmcsim.TypicalInterval, Interval: 5 * time.Minute, NextInterval: cmcsim.TypicalInterval, Threshold: 2 * time.Second,
	},
	"small": {
		Name:        "small",
		Description: "a 1 MiB region on 8 MiB MX66L1G45G chips, synced once, then a typical interval's changes; for quick tests",
		Part:        "mx66l1g45g", ChipSize: 8 << 20, RegionSize: 1 << 20, Types: info.All(),
		Activity: cmcsim.TypicalInterval, Interval: 5 * time.Minute, NextInterval: cmcsim.TypicalInterval, Threshold: 2 * time.Second,
	},
}

// Scenarios lists the known scenarios by name.
func Scenarios() []Scenario {
	var out []Scenario
	for _, s := range scenarios {
		out = append(out, s)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// LookupScenario returns the scenario called name.
func LookupScenario(name string) (Scenario, error) {
	if s, ok := scenarios[name]; ok {
		return s, nil
	}
	var names []string
	for _, s := range Scenarios() {
		names = append(names, s.Name)
	}
	return Scenario{}, fmt.Errorf("unknown scenario %q (want one of %s)", name, strings.Join(names, ", "))
}
