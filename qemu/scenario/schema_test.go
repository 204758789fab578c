package scenario

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/cmcsync/cmcsync/faults/campaign"
	"github.com/cmcsync/cmcsync/internal/jsonout"
	"github.com/cmcsync/cmcsync/internal/jsonschema"
)

// TestReportMatchesItsSchema: a report with every part a scenario fills
// (boots, checks, a power cut, an exact cut, the guest's figures), as
// vm scenario --json writes it, follows the JSON convention (durations in
// *_seconds: they were "_s") and docs/schema/vm-scenario.json; the schema
// refuses the old names. (A scenario needs QEMU; this is the report's own
// encoding, not a run.)
func TestReportMatchesItsSchema(t *testing.T) {
	s := Seconds(1500 * time.Millisecond)
	verdicts := []campaign.Verdict{{Invariant: campaign.Atomic, OK: true, Saw: "generation 3"}}
	backup := campaign.BackupSummary{Generation: 3, Chunks: []string{"power[0] block 190 ab"}, Chips: [2]string{"aa", "bb"}}
	rep := &Report{Scenario: "powercut", Variant: "arm", Kernel: "6.1.0-arm64", Seed: 1, WorkDir: "/tmp/w",
		Boots:  []Boot{{ToShell: s, GuestUptime: s}},
		Guest:  json.RawMessage(`{"rounds": 3}`),
		Checks: []Check{{Name: "atomic", OK: true, Detail: "generation 3"}},
		Cycles: []Cycle{{Cycle: 1, KillRound: 2, KillDelay: s, Basis: s, KillAt: 0.5, Boot: s, Wall: s, LastCommitted: 2, InFlight: 3,
			AfterCut: 2, Interrupted: true, InterruptedBlocks: 1, Recovered: 2, RecoveryChecked: true, Purged: true, Events: []string{"purge"}, Replay: "x"}},
		ExactCuts: []ExactCut{{Replay: "standard seed=1 mutant=none | (on (at 5) cut) | none", VMReplay: "y", Kind: "cut", KilledAt: 5, KilledOp: "erase",
			RoundOps: 400, TraceSame: true, RecoveryOps: 20, Sim: verdicts, World: verdicts, SimBackup: backup, WorldBackup: backup,
			RoundWall: s, RecoveryWall: s, Wall: s}},
		Pass: true, Replay: "cmcsync vm scenario powercut --seed 1", Elapsed: s}
	b, err := json.Marshal(rep)
	require.NoError(t, err)
	require.NoError(t, jsonout.Check(b), "%s", b)
	sc, err := jsonschema.CompileFile(filepath.Join("..", "..", "docs", "schema", "vm-scenario.json"))
	require.NoError(t, err)
	require.NoError(t, sc.Validate(b), "%s", b)
	for _, old := range []string{"elapsed_s", "to_shell_s", "boot_s", "point_s"} {
		wrong := strings.Replace(string(b), `"`+strings.TrimSuffix(old, "_s")+`_seconds"`, `"`+old+`"`, 1)
		require.NotEqual(t, string(b), wrong, old)
		require.ErrorIs(t, sc.Validate([]byte(wrong)), jsonschema.ErrInvalid, old)
	}
}
