package campaign

import (
	"fmt"
	"sort"
	"strconv"
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
	// LongRun: the scenario is a long history of rounds (see longrun.go);
	// Round, if set, is the round of it under test ("longrun@K"), and
	// Swapped: the engine is given the chips in the other order (chip B
	// first) at every open ("longrun@K/swapped").
	LongRun bool
	Round   int
	Swapped bool
	// Lifecycle: the scenario is the daemon's life around the rounds
	// (see lifecycle.go).
	Lifecycle bool
	// FactoryBad lists, per chip (primary, backup), the erase blocks that
	// are bad from the start (a NAND part's factory bad blocks): the
	// format and every round must step over them.
	FactoryBad [2][]int64
	// FormatVersion, if set, is the older format version both chips'
	// stores are rewritten as right after the format (oldformat.go): the
	// round under test is the one that upgrades the store.
	FormatVersion uint32
	// ScatterRun, if set, replaces the CMC activity by one changed run of
	// ScatterRun bytes in every chunk of every payload, and DenseRounds
	// rounds of such changes run between the first sync and the round
	// under test (dense.go).
	ScatterRun  int64
	DenseRounds int
	// StaleTable, with ScatterRun, writes the scattered changes leaving
	// the change tables stale, so every round reads its records whole
	// (staletable.go).
	StaleTable bool
	// OldStore, if set, names the pair of images an older cmcsync wrote
	// (testdata/oldstores) the chips start from instead of a format and a
	// first sync (oldstore.go).
	OldStore string
}

var scenarios = map[string]Scenario{
	"standard": {
		Name: "standard",
		Description: "generator information on an 8 MiB region of an MX66L1G45G (32 MiB simulated chips), " +
			"synced once, then the round after a typical interval's changes (about 1%), all six types",
		Part: "mx66l1g45g", ChipSize: 32 << 20, RegionSize: 8 << 20, Types: info.All(),
		Activity: cmcsim.TypicalInterval, Interval: 5 * time.Minute, NextInterval: cmcsim.TypicalInterval, Threshold: 2 * time.Second,
	},
	"longrun": {
		Name: "longrun",
		Description: "a long history on a small store (a 256 KiB region on 2 MiB MX66L1G45G chips), the engine restarted before every round: " +
			"rounds until the journal has wrapped (compacted into the other area) three times and the allocation cursor has wrapped, so dirty blocks are reused; " +
			"the campaign cuts and tears every operation of the compacting rounds and of rounds that reuse dirty blocks (longrun@K is round K), " +
			"runs one of them with the chips swapped (longrun@K/swapped) and with the backup re-imaged from the primary",
		Part: "mx66l1g45g", ChipSize: 2 << 20, RegionSize: 256 << 10, Types: info.All(),
		Activity: cmcsim.TypicalInterval, Interval: 5 * time.Minute, NextInterval: 6 * time.Minute, Threshold: 2 * time.Second, LongRun: true,
	},
	LifecycleScenario: {
		Name: LifecycleScenario,
		Description: "the daemon's life on the long run's small store (a 256 KiB region on 2 MiB MX66L1G45G chips): format, first round, configuration change, " +
			"upgrade pending and kept, upgrade with restore-defaults, backup damage scrubbed and repaired, restart; every operation of every step cut and torn",
		Part: "mx66l1g45g", ChipSize: 2 << 20, RegionSize: 256 << 10, Types: info.All(),
		Activity: cmcsim.TypicalInterval, Interval: 5 * time.Minute, NextInterval: 7 * time.Minute, Threshold: 2 * time.Second, Lifecycle: true,
	},
	"nand": {
		Name: "nand",
		Description: "generator information on a 2 MiB region of an MT29F2G01 SPI NAND (32 MiB simulated chips: 128 KiB blocks, 2 KiB pages), " +
			"two factory bad blocks in the backup's data area (block 196, among the first round's chunks, and block 204, among the chunks the round under test allocates), " +
			"synced once, then the round after a typical interval's changes, all six types",
		Part: "mt29f2g01", ChipSize: 32 << 20, RegionSize: 2 << 20, Types: info.All(),
		Activity: cmcsim.TypicalInterval, Interval: 5 * time.Minute, NextInterval: cmcsim.TypicalInterval, Threshold: 2 * time.Second,
		FactoryBad: [2][]int64{nil, {NANDFactoryBad, NANDRoundBad}},
	},
	"oldformat": {
		Name: "oldformat",
		Description: "the small scenario's store made format version 2 right after the format (both superblock copies rewritten as an older writer leaves them): " +
			"the first sync keeps version 2, the round under test writes the store's first deltas and upgrades it to version 5 before its intent; " +
			"every operation of the upgrade and of the round cut and torn",
		Part: "mx66l1g45g", ChipSize: 8 << 20, RegionSize: 1 << 20, Types: info.All(),
		Activity: cmcsim.TypicalInterval, Interval: 5 * time.Minute, NextInterval: cmcsim.TypicalInterval, Threshold: 2 * time.Second,
		FormatVersion: 2,
	},
	"dense": {
		Name: "dense",
		Description: "a 256 KiB region on 2 MiB MX66L1G45G chips, synced once, then 31 rounds each changing a run of 115 bytes in every chunk (45 of 48) of every payload: " +
			"delta records of 128 bytes, 32 to a delta block, which they fill exactly, the delta budget folding chunks; then the round under test, the same, " +
			"which brings 32 chunks' chains to the delta-chain limit (32 records, a chunk's worth of bytes)",
		Part: "mx66l1g45g", ChipSize: 2 << 20, RegionSize: 256 << 10, Types: info.All(),
		Interval: 5 * time.Minute, NextInterval: 6 * time.Minute, Threshold: 2 * time.Second,
		ScatterRun: 115, DenseRounds: 31,
	},
	"denselimit": {
		Name: "denselimit",
		Description: "the dense scenario with 32 rounds before the round under test: 32 chunks' chains are at the delta-chain limit, " +
			"so the round under test writes those chunks whole (their chains released) and deltas for the others",
		Part: "mx66l1g45g", ChipSize: 2 << 20, RegionSize: 256 << 10, Types: info.All(),
		Interval: 5 * time.Minute, NextInterval: 6 * time.Minute, Threshold: 2 * time.Second,
		ScatterRun: 115, DenseRounds: 32,
	},
	"densewhole": {
		Name: "densewhole",
		Description: "the dense scenario written by a CMC that keeps no change table (each record's table left as it was before the change), so every round reads the records whole " +
			"and the store, holding the payloads, releases the delta block with the fewest remaining chunks by writing them whole when the delta budget is full; " +
			"19 rounds before the round under test fill the budget (38 delta blocks), so the round under test releases the 19 blocks of 13 chunks (their chunks written whole)",
		Part: "mx66l1g45g", ChipSize: 2 << 20, RegionSize: 256 << 10, Types: info.All(),
		Interval: 5 * time.Minute, NextInterval: 6 * time.Minute, Threshold: 2 * time.Second,
		ScatterRun: 115, DenseRounds: 19, StaleTable: true,
	},
	"densemany": {
		Name: "densemany",
		Description: "a 1 MiB region on 8 MiB MX66L1G45G chips, synced once, then the round under test changing a run of 20 bytes in every chunk of every payload: " +
			"more 33-byte delta records than one intent-deltas record lists (86 at 4 KiB), so the round's delta blocks end at that count, not at their size",
		Part: "mx66l1g45g", ChipSize: 8 << 20, RegionSize: 1 << 20, Types: info.All(),
		Interval: 5 * time.Minute, NextInterval: 6 * time.Minute, Threshold: 2 * time.Second,
		ScatterRun: 20,
	},
	"densecap": {
		Name: "densecap",
		Description: "a 4 MiB region on 16 MiB MX66L1G45G chips (1030 chunks, a journal area of 126 blocks), synced once, then 21 rounds each changing a run of 20 bytes in every chunk of every payload: " +
			"797 compact delta records a round, whose chains stay short (22 records) but whose count reaches the store's delta record cap (16660: what a checkpoint of them fits in a journal area) in the 21st round (4 chunks written whole: 16653 records), " +
			"so the round under test, which would bring it from 16653 to 17446, writes chunks whole instead of as deltas until the state fits the cap",
		Part: "mx66l1g45g", ChipSize: 16 << 20, RegionSize: 4 << 20, Types: info.All(),
		Interval: 5 * time.Minute, NextInterval: 6 * time.Minute, Threshold: 2 * time.Second,
		ScatterRun: 20, DenseRounds: 21,
	},
	"v3chain": {
		Name: "v3chain",
		Description: "a pair of 4 MiB W25Q256JV chips (256 KiB region) as an older cmcsync wrote them in format version 3 (testdata/oldstores: 10 rounds of delta chains, up to 8 records), " +
			"then the round under test, changing a run of 20 bytes in every chunk: it upgrades the store to version 5 and extends the version 3 chains; every operation cut and torn",
		Part: "w25q256jv", ChipSize: 4 << 20, RegionSize: 256 << 10, Types: info.All(),
		Interval: 5 * time.Minute, NextInterval: 6 * time.Minute, Threshold: 2 * time.Second,
		ScatterRun: 20, OldStore: "v3",
	},
	"v4chain": {
		Name:        "v4chain",
		Description: "the v3chain scenario on a pair an older cmcsync wrote in format version 4 (14 rounds: chains longer than version 3's limit of 8)",
		Part:        "w25q256jv", ChipSize: 4 << 20, RegionSize: 256 << 10, Types: info.All(),
		Interval: 5 * time.Minute, NextInterval: 6 * time.Minute, Threshold: 2 * time.Second,
		ScatterRun: 20, OldStore: "v4",
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

// LookupScenario returns the scenario called name; "longrun@K" is round K
// of the long run, "longrun@K/swapped" the same with the chips swapped.
func LookupScenario(name string) (Scenario, error) {
	if s, ok := scenarios[name]; ok {
		return s, nil
	}
	if base, at, ok := strings.Cut(name, "@"); ok {
		if s, known := scenarios[base]; known && s.LongRun {
			k, swapped := strings.CutSuffix(at, "/swapped")
			n, err := strconv.Atoi(k)
			if err != nil || n < 1 {
				return Scenario{}, fmt.Errorf("scenario %q: want %s@K with K a round number from 1", name, base)
			}
			s.Name, s.Round, s.Swapped = name, n, swapped
			return s, nil
		}
	}
	var names []string
	for _, s := range Scenarios() {
		names = append(names, s.Name)
	}
	return Scenario{}, fmt.Errorf("unknown scenario %q (want one of %s)", name, strings.Join(names, ", "))
}

// NANDFactoryBad and NANDRoundBad are the backup's factory bad blocks in
// the nand scenario (erase block numbers). NANDFactoryBad lies among the
// blocks the store's first round puts chunks in (the format and the first
// round step over it); NANDRoundBad among those the round under test
// allocates (NAND rounds write whole chunks: delta records are NOR-only),
// so that round's allocation steps over it too — the cut points past it
// are the ones WorldPlan.Crossed reports.
const (
	NANDFactoryBad = 196
	NANDRoundBad   = 204
)
