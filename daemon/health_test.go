package daemon

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/cmcsync/cmcsync/sim"
	"github.com/cmcsync/cmcsync/sync/engine"
	"github.com/cmcsync/cmcsync/sync/info"
	"github.com/cmcsync/cmcsync/sync/store"
	"github.com/cmcsync/cmcsync/web"
)

// TestFlashHealth: per chip the work since Open and the worst block's
// wear against its endurance; the backup's health and scrub age follow
// the last scrub.
func TestFlashHealth(t *testing.T) {
	d := openSim(t, 1)
	before := d.FlashHealth()
	require.Len(t, before.Chips, 2)
	require.False(t, before.Scrubbed, "no scrub yet")
	require.True(t, before.BackupHealthy)
	_, err := d.SyncNow(context.Background())
	require.NoError(t, err)
	after := d.FlashHealth()
	for i, c := range after.Chips {
		require.Equal(t, []string{"flash0", "flash1"}[i], c.Name)
		require.Equal(t, int64(100_000), c.Endurance)
		require.GreaterOrEqual(t, c.WorstBlockErases, before.Chips[i].WorstBlockErases)
		require.Positive(t, c.BytesRead, c.Name)
	}
	backup := after.Chips[1]
	require.Greater(t, backup.BytesWritten, before.Chips[1].BytesWritten, "the round wrote the backup")
	require.Greater(t, backup.Erases, before.Chips[1].Erases)
	require.Positive(t, backup.WorstBlockErases)

	require.NoError(t, d.Scrub(context.Background()))
	h := d.FlashHealth()
	require.True(t, h.Scrubbed)
	require.True(t, h.BackupHealthy)
	require.Less(t, h.ScrubAge, time.Minute)

	require.Zero(t, h.DamagedChunks)
}

// damageBackupChunk flips a byte in the middle of chunk index of type t
// of the backup's committed generation (as bit rot would, the daemon
// running or not) and returns the chunk's block.
func damageBackupChunk(t *testing.T, d *Daemon, typ info.Type, index int) uint32 {
	t.Helper()
	l := d.engine.Layout()
	backup := d.raw[1].(*sim.Flash)
	s, err := store.Open(backup, l.StoreOff, l.StoreSize, store.Options{ReadOnly: true})
	require.NoError(t, err)
	ts, ok := s.StateRef().Type(uint8(typ))
	require.True(t, ok)
	require.Greater(t, len(ts.Chunks), index)
	off := s.BlockOffset(ts.Chunks[index].Block) + 100
	b := make([]byte, 1)
	_, err = backup.ReadAt(b, off)
	require.NoError(t, err)
	backup.Poke(off, []byte{b[0] ^ 0x10})
	return ts.Chunks[index].Block
}

// TestScrubFindsAndRepairsDamage: a chunk of the backup damaged after its
// commit is found by the daemon's scrub (the engine's incremental
// ScrubStep): the backup is unhealthy in /metrics and on the page (its
// type "damaged", the status's health and damaged-chunk count), events
// damage and scrub go to the history; the next round rewrites the chunk
// (event repair) and the next pass finds the backup healthy again.
func TestScrubFindsAndRepairsDamage(t *testing.T) {
	ctx := context.Background()
	d := openSim(t, 3)
	_, err := d.SyncNow(ctx)
	require.NoError(t, err)
	require.NoError(t, d.Scrub(ctx))
	require.True(t, d.FlashHealth().BackupHealthy)
	require.Equal(t, "ok", d.Backend().Status().BackupHealth)

	damageBackupChunk(t, d, info.EventLog, 1)
	require.NoError(t, d.Scrub(ctx))
	h := d.FlashHealth()
	require.False(t, h.BackupHealthy, "the scrub found the damaged chunk")
	require.Equal(t, 1, h.DamagedChunks)
	st := d.Backend().Status()
	require.Equal(t, engine.HealthDamaged, st.BackupHealth)
	require.Equal(t, 1, st.DamagedChunks)
	for _, ts := range st.Types {
		want := "synced"
		if ts.Name == info.EventLog.String() {
			want = "damaged"
			require.Contains(t, ts.Reason, "chunk 1")
		}
		require.Equal(t, want, ts.State, ts.Name)
	}
	require.NotEmpty(t, eventsOf(d, "damage"))
	require.NotEmpty(t, eventsOf(d, "scrub"))

	rep, err := d.SyncNow(ctx)
	require.NoError(t, err)
	require.Equal(t, engine.OutcomeCommitted, rep.Outcome, "the round repairs although nothing changed")
	require.NotEmpty(t, eventsOf(d, "repair"))
	require.NoError(t, d.Scrub(ctx))
	require.True(t, d.FlashHealth().BackupHealthy)
	require.Zero(t, d.FlashHealth().DamagedChunks)
	require.Equal(t, "synced", typeState(d.Backend().Status(), info.EventLog))
}

// TestBackupHealthyAfterRestart: before the engine's first pass since a
// start ends, the last pass the history kept decides the health.
func TestBackupHealthyAfterRestart(t *testing.T) {
	for _, tc := range []struct {
		name   string
		health string
		damage []string
		bad    int
		want   bool
	}{
		{"no pass yet, none kept", engine.HealthUnknown, nil, 0, true},
		{"no pass yet, the kept one found damage", engine.HealthUnknown, nil, 2, false},
		{"pass ok, the kept one found damage", engine.HealthOK, nil, 2, true},
		{"damaged", engine.HealthDamaged, nil, 0, false},
		{"unrepairable", engine.HealthUnrepairable, nil, 0, false},
		{"damage at open", engine.HealthOK, []string{"superblock copy 0 bad"}, 0, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := backupHealthy(engine.Status{BackupHealth: tc.health, Damage: tc.damage}, scrubResult{Bad: tc.bad})
			require.Equal(t, tc.want, got)
		})
	}
}

// TestWebTypeStatus: the page's state of a type comes from the engine's
// verdicts, not from the digest alone.
func TestWebTypeStatus(t *testing.T) {
	synced := engine.TypeStatus{Type: info.Fan, Name: "fan", Selected: true, Digest: "ab", Synced: true}
	for _, tc := range []struct {
		name   string
		st     engine.Status
		ts     engine.TypeStatus
		want   string
		reason string
	}{
		{"synced", engine.Status{}, synced, "synced", ""},
		{"not selected", engine.Status{}, engine.TypeStatus{Name: "fan"}, "not-selected", ""},
		{"never committed", engine.Status{}, engine.TypeStatus{Name: "fan", Selected: true}, "pending", ""},
		{"primary corrupt", engine.Status{}, with(synced, func(x *engine.TypeStatus) { x.Synced, x.PrimaryError = false, "crc mismatch" }), "error", "crc mismatch"},
		{"upgrade pending", engine.Status{UpgradePending: true}, with(synced, func(x *engine.TypeStatus) { x.Synced = false }), "not-synced", "upgrade"},
		{"restore incomplete", engine.Status{UpgradePending: true, RestoreIncomplete: true}, with(synced, func(x *engine.TypeStatus) { x.Synced = false }), "not-synced", "restore"},
		{"backup chunk damaged", engine.Status{ScrubDamage: []engine.ChunkDamage{{Type: info.Fan, Index: 3, Repair: engine.RepairRewrite}}}, synced, "damaged", "chunk 3"},
		{"damage of another type", engine.Status{ScrubDamage: []engine.ChunkDamage{{Type: info.Power, Index: 3, Repair: engine.RepairRewrite}}}, synced, "synced", ""},
		{"unrepairable", engine.Status{ScrubDamage: []engine.ChunkDamage{{Type: info.Fan, Index: 1, Repair: engine.RepairRewrite}, {Type: info.Fan, Index: 4, Repair: engine.RepairImpossible}}}, synced, "error", "chunk 4"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := webTypeStatus(tc.st, tc.ts)
			require.Equal(t, tc.want, w.State)
			if tc.reason == "" {
				require.Empty(t, w.Reason)
			} else {
				require.Contains(t, w.Reason, tc.reason)
			}
		})
	}
}

func with(ts engine.TypeStatus, f func(*engine.TypeStatus)) engine.TypeStatus {
	f(&ts)
	return ts
}

func typeState(st web.Status, typ info.Type) string {
	for _, ts := range st.Types {
		if ts.Name == typ.String() {
			return ts.State
		}
	}
	return ""
}

func eventsOf(d *Daemon, kind string) []web.Event {
	var out []web.Event
	for _, ev := range d.logbook.allEvents() {
		if ev.Kind == kind {
			out = append(out, ev)
		}
	}
	return out
}

// TestScrubSchedule: Run scrubs every ScrubEvery; the scrub goes to the
// history and survives a restart.
func TestScrubSchedule(t *testing.T) {
	dir := t.TempDir()
	o := fileOptions(t, dir)
	o.ScrubEvery = 10 * time.Millisecond
	d, err := Open(context.Background(), o)
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- d.Run(ctx) }()
	require.Eventually(t, func() bool { return d.FlashHealth().Scrubbed }, 30*time.Second, 5*time.Millisecond)
	cancel()
	require.NoError(t, <-done)
	require.NoError(t, d.Close())

	d, err = Open(context.Background(), fileOptions(t, dir))
	require.NoError(t, err)
	defer d.Close()
	h := d.FlashHealth()
	require.True(t, h.Scrubbed, "the last scrub is kept in the history")
	require.GreaterOrEqual(t, h.ScrubAge, time.Duration(0))
}
