package engine

import (
	"context"
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/cmcsync/cmcsync/sync/info"
	"github.com/cmcsync/cmcsync/sync/store"
)

// TestScrubStepFindsAndRepairs: a scrub in small steps (each reading at
// most one chunk of either chip, besides two small headers) finds a
// committed chunk of the backup that fails its digest and decides from
// the primary's copy how to repair it: rewritten by the next round if the
// primary's copy still matches the committed digest, re-synced if the
// primary changed it since, reported unrepairable if the primary's record
// is corrupt too.
func TestScrubStepFindsAndRepairs(t *testing.T) {
	for _, tc := range []struct {
		name string
		// primary changes the primary's copy of the damaged chunk at
		// chip offset off (nil: left as committed).
		primary func(t *testing.T, p *pair, off int64) string
		want    string
	}{
		{"primary copy intact", nil, RepairRewrite},
		{"primary changed since", func(t *testing.T, p *pair, off int64) string {
			r := p.region(t, p.chipA)
			rec, err := r.Read(info.EventLog)
			require.NoError(t, err)
			ext, _ := r.Extent(info.EventLog)
			rec.Payload[off-ext-info.RecordHeaderSize] ^= 0xFF
			require.NoError(t, r.Write(info.EventLog, rec.Payload))
			return ""
		}, RepairResync},
		{"primary record corrupt too", func(t *testing.T, p *pair, off int64) string {
			return fmt.Sprintf("(on (at 0) (flip primary %#x %#x 8))", off, off+1)
		}, RepairImpossible},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx := context.Background()
			p := syncedPairAfter(t, DefaultConfig(), 0)
			l := p.opts.Layout
			chunk := p.chipB.Geometry().EraseSize
			s, err := store.Open(p.chipB, l.StoreOff, l.StoreSize, store.Options{ReadOnly: true})
			require.NoError(t, err)
			ts, ok := s.StateRef().Type(uint8(info.EventLog))
			require.True(t, ok)
			require.Greater(t, len(ts.Chunks), 3)
			const damaged = 2 // a full chunk of the event log
			backupOff := s.BlockOffset(ts.Chunks[damaged].Block)
			ext, _ := p.region(t, p.chipA).Extent(info.EventLog)
			lo, _ := store.ChunkBounds(ts.Size, int64(ts.Phase), chunk, damaged)
			primaryOff := ext + info.RecordHeaderSize + lo + 10 // a byte of the same chunk on the primary
			schedule := fmt.Sprintf("(on (at 0) (flip backup %#x %#x 1))", backupOff, backupOff+chunk)
			if tc.primary != nil {
				schedule += " " + tc.primary(t, p, primaryOff)
			}
			e, _ := p.openWithFaults(t, p.opts, "%s", schedule)
			// Open verified every committed chunk (a complete pass) before
			// the flip, which the injector makes once the engine is open.
			require.Equal(t, HealthOK, e.Status().BackupHealth)

			var found *ChunkDamage
			total := 0
			for step := 0; ; step++ {
				require.Less(t, step, 10000, "the pass ends")
				a, b := p.chipA.Stats(), p.chipB.Stats()
				prog, err := e.ScrubStep(ctx)
				require.NoError(t, err)
				readA, readB := p.chipA.Stats().Sub(a).BytesRead, p.chipB.Stats().Sub(b).BytesRead
				require.LessOrEqual(t, readB, chunk, "step %d reads at most one chunk of the backup", step)
				require.LessOrEqual(t, readA, chunk+info.RegionHeaderSize+2*info.RecordHeaderSize, "step %d reads at most one chunk of the primary", step)
				if prog.Damage != nil && prog.Damage.Repair != RepairChecking {
					found = prog.Damage
				}
				total = prog.Total
				if prog.PassDone {
					break
				}
			}
			require.NotNil(t, found)
			require.Equal(t, info.EventLog, found.Type)
			require.Equal(t, damaged, found.Index)
			require.Equal(t, tc.want, found.Repair)
			require.Contains(t, eventKinds(e), EventScrub)
			st := e.Status()
			require.False(t, st.LastScrub.IsZero())
			require.Len(t, st.ScrubDamage, 1)
			t.Logf("%d chunks scrubbed; damage %+v", total, *found)

			if tc.want == RepairImpossible {
				require.Equal(t, HealthUnrepairable, st.BackupHealth)
				return
			}
			require.Equal(t, HealthDamaged, st.BackupHealth)
			rep, err := e.Round(ctx)
			require.NoError(t, err)
			require.Equal(t, OutcomeCommitted, rep.Outcome)
			if tc.want == RepairRewrite {
				require.Equal(t, 1, rep.ChangedChunks, "only the damaged chunk is rewritten")
			}
			require.Contains(t, eventKinds(e), EventRepair)
			require.Empty(t, e.Status().ScrubDamage)
			requireSynced(t, p, p.chipA, p.chipB, info.All())
			s, err = store.Open(p.chipB, l.StoreOff, l.StoreSize, store.Options{ReadOnly: true})
			require.NoError(t, err)
			require.Empty(t, s.VerifyChunks(), "every committed chunk matches its digest")
			// A clean pass makes the backup healthy again.
			for {
				prog, err := e.ScrubStep(ctx)
				require.NoError(t, err)
				if prog.PassDone {
					break
				}
			}
			require.Equal(t, HealthOK, e.Status().BackupHealth)
		})
	}
}
