package daemon

import (
	"context"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/cmcsync/cmcsync/source/collect"
	"github.com/cmcsync/cmcsync/source/ipmi/sel"
	"github.com/cmcsync/cmcsync/sync/engine"
	"github.com/cmcsync/cmcsync/sync/info"
	"github.com/cmcsync/cmcsync/sync/store"
	"github.com/cmcsync/cmcsync/web"
)

// selInput is a raw SEL file (ipmitool layout) of n system events.
func selInput(n int) []byte {
	var b []byte
	for i := range n {
		r := sel.NewSystemEvent(uint16(i+1), 1700000000+uint32(i), sel.SystemEvent{GeneratorID: 0x20, EvMRev: 4, SensorType: 1, SensorNumber: 3, EventDirType: 1, EventData: [3]byte{0x57, 0xff, 0xff}})
		b = append(b, r[:]...)
	}
	return b
}

// TestPutInfoDuringRounds: many puts of the event log while rounds run.
// A put never interleaves with a round (both take the round lock), so no
// round reads a record half written: every round commits or finds nothing
// changed, none is interrupted, and after a last round the backup holds
// exactly the primary's last put.
func TestPutInfoDuringRounds(t *testing.T) {
	d := openSim(t, 3)
	b := d.Backend()
	ctx := context.Background()
	const rounds = 20
	var wg sync.WaitGroup
	var putErr, roundErr error
	puts := 0
	done := make(chan struct{})
	wg.Add(2)
	go func() { // puts until the rounds are done, at least 40
		defer wg.Done()
		for i := 1; putErr == nil; i++ {
			select {
			case <-done:
				if i > 40 {
					return
				}
			default:
			}
			_, putErr = b.PutInfo(ctx, web.InfoPut{Type: "event-log", Data: selInput(i%200 + 1)})
			puts = i%200 + 1
		}
	}()
	var reps []engine.RoundReport
	go func() {
		defer wg.Done()
		defer close(done)
		for range rounds {
			rep, err := d.SyncNow(ctx)
			reps = append(reps, rep)
			if err != nil {
				roundErr = err
				return
			}
		}
	}()
	wg.Wait()
	require.NoError(t, putErr)
	require.NoError(t, roundErr)
	for _, rep := range reps {
		require.Contains(t, []string{engine.OutcomeCommitted, engine.OutcomeNothingChanged}, rep.Outcome, "%+v", rep)
	}
	rep, err := d.SyncNow(ctx)
	require.NoError(t, err)
	require.Contains(t, []string{engine.OutcomeCommitted, engine.OutcomeNothingChanged}, rep.Outcome)

	l := d.engine.Layout()
	r, err := info.OpenRegion(d.chips[0], l.InfoOff, l.InfoSize)
	require.NoError(t, err)
	rec, err := r.Read(info.EventLog)
	require.NoError(t, err)
	tb, err := info.DecodeTable(info.EventLog, rec.Payload)
	require.NoError(t, err)
	require.Equal(t, uint32(puts), tb.Count, "the last put is on the primary")
	s, err := store.Open(d.chips[1], l.StoreOff, l.StoreSize, store.Options{ReadOnly: true})
	require.NoError(t, err)
	got, err := s.ReadPayload(uint8(info.EventLog))
	require.NoError(t, err)
	require.Equal(t, rec.Payload, got, "the backup holds the last put")

	// Bad input is refused as such and writes nothing.
	_, err = b.PutInfo(ctx, web.InfoPut{Type: "event-log", Data: []byte("0123456789abcde")})
	require.ErrorIs(t, err, web.ErrInvalid)
	require.ErrorIs(t, err, collect.ErrInput)
	require.ErrorContains(t, err, "invalid request: event-log: not a SEL file", "the fault named once, the type once")
	_, err = b.PutInfo(ctx, web.InfoPut{Type: "psu", Data: []byte("x")})
	require.ErrorIs(t, err, web.ErrInvalid)
	again, err := r.Read(info.EventLog)
	require.NoError(t, err)
	require.Equal(t, rec.Seq, again.Seq)

	// An empty input (a failed export) is refused, for every type, and
	// writes nothing; allowed, it clears the event log only.
	for _, p := range []web.InfoPut{
		{Type: "event-log"},
		{Type: "event-log", Data: []byte("# no records\n")},
		{Type: "asset", AllowEmpty: true},
		{Type: "power"},
	} {
		_, err = b.PutInfo(ctx, p)
		require.ErrorIs(t, err, web.ErrInvalid, "%+v", p)
		require.ErrorIs(t, err, collect.ErrEmpty, "%+v", p)
		require.ErrorContains(t, err, "invalid request: "+p.Type+": the input ", "the fault named once: %+v", p)
		if p.Type == "event-log" {
			require.ErrorContains(t, err, `"allow_empty": true clears the event log on purpose`)
		}
	}
	again, err = r.Read(info.EventLog)
	require.NoError(t, err)
	require.Equal(t, rec.Seq, again.Seq, "an empty input wrote nothing")
	res, err := b.PutInfo(ctx, web.InfoPut{Type: "event-log", AllowEmpty: true})
	require.NoError(t, err)
	require.True(t, res.Changed)
	rec, err = r.Read(info.EventLog)
	require.NoError(t, err)
	tb, err = info.DecodeTable(info.EventLog, rec.Payload)
	require.NoError(t, err)
	require.Zero(t, tb.Count, "allowed, the empty input cleared the event log")
}

// TestPutInfoRefusesBadMembers: an asset slot out of range, an unknown
// type or layout is a 400 naming its member (a *web.FieldError), and
// writes nothing.
func TestPutInfoRefusesBadMembers(t *testing.T) {
	d := openSim(t, 3)
	b := d.Backend()
	l := d.engine.Layout()
	r, err := info.OpenRegion(d.chips[0], l.InfoOff, l.InfoSize)
	require.NoError(t, err)
	before, err := r.Read(info.Asset)
	require.NoError(t, err)
	for _, tt := range []struct {
		name  string
		put   web.InfoPut
		field string
	}{
		{"slot past the PSUs", web.InfoPut{Type: "asset", Data: []byte("fru"), Slot: info.NumFRUs}, "slot"},
		{"slot 99", web.InfoPut{Type: "asset", Data: []byte("fru"), Slot: 99}, "slot"},
		{"slot negative", web.InfoPut{Type: "asset", Data: []byte("fru"), Slot: -1}, "slot"},
		{"unknown type", web.InfoPut{Type: "psu", Data: []byte("x")}, "type"},
		{"unknown layout", web.InfoPut{Type: "event-log", Data: selInput(1), SELLayout: "raw"}, "sel_layout"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := b.PutInfo(context.Background(), tt.put)
			require.ErrorIs(t, err, web.ErrInvalid)
			var fe *web.FieldError
			require.ErrorAs(t, err, &fe, "%v", err)
			require.Equal(t, tt.field, fe.Field)
			after, err := r.Read(info.Asset)
			require.NoError(t, err)
			require.Equal(t, before.Seq, after.Seq, "nothing written")
		})
	}
}
