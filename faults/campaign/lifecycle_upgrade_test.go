package campaign

import (
	"context"
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/cmcsync/cmcsync/faults"
	"github.com/cmcsync/cmcsync/faults/reference"
	"github.com/cmcsync/cmcsync/sync/engine"
	"github.com/cmcsync/cmcsync/sync/info"
)

// TestLifecycleRestoreAfterHeaderReadFault: the restore-defaults step
// makes its choice right after Open; when Open's read of the primary's
// image header fails, the engine does not know of the upgrade and refuses
// the choice (engine.ErrNoUpgradePending), and the step goes on as the
// daemon does (a round finds the upgrade, then the choice): a read error
// there still ends the life with the restore committed, and a power cut
// there replays to the oracle's verdicts, all kept.
func TestLifecycleRestoreAfterHeaderReadFault(t *testing.T) {
	ctx := context.Background()
	sc, err := LookupScenario(LifecycleScenario)
	require.NoError(t, err)
	const seed = 1
	l, err := recordLifecycle(ctx, sc, seed, engine.None)
	require.NoError(t, err)
	header := int64(-1) // Open's read of the primary's image header in the restore step
	for _, lop := range l.ops[l.facts[stepRestore].first:] {
		if lop.op.Role == faults.Primary && lop.op.Kind == faults.Read && lop.op.Off == 0 {
			header = lop.op.Index
			break
		}
	}
	require.GreaterOrEqual(t, header, int64(0), "the restore step reads the primary's image header")
	require.Equal(t, stepRestore, l.ops[header].step)

	t.Run("read error", func(t *testing.T) {
		s, err := faults.ParseSchedule(fmt.Sprintf("(on (at %d) (fail media))", header))
		require.NoError(t, err)
		r, err := newLifeRun(sc, seed, engine.None, s, nil)
		require.NoError(t, err)
		require.NoError(t, r.run(ctx), "the life ends despite the read error")
		require.Len(t, r.in.Fired(), 1, "the read error was injected")
		h, err := info.ReadImageHeader(r.chips[0])
		require.NoError(t, err)
		end, err := reference.Decode(r.chips[1], r.layout.StoreOff, r.layout.StoreSize)
		require.NoError(t, err)
		restored := l.facts[stepScrub].before.Committed
		require.Equal(t, uint8(engine.RestoreDefaults), restored.UpgradeChoice)
		require.Equal(t, uint8(engine.RestoreDefaults), end.Committed.UpgradeChoice)
		require.Equal(t, h.Version, end.Committed.ImageVersion)
	})
	t.Run("power cut", func(t *testing.T) {
		c, err := ParseCase(fmt.Sprintf("lifecycle seed=%d mutant=none | (on (at %d) cut) | none", seed, header))
		require.NoError(t, err)
		vs, err := Replay(ctx, c)
		require.NoError(t, err)
		require.NotEmpty(t, vs)
		for _, v := range vs {
			require.True(t, v.OK, "%s: %s", v.Invariant, v.Saw)
		}
	})
}
