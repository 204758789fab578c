package jsonout_test

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/cmcsync/cmcsync/internal/jsonout"
	"github.com/cmcsync/cmcsync/sim"
	"github.com/cmcsync/cmcsync/sim/simtest"
	"github.com/cmcsync/cmcsync/sync/engine"
	"github.com/cmcsync/cmcsync/sync/info"
)

func TestCheck(t *testing.T) {
	for _, tc := range []struct {
		doc  string
		free []string
		err  string
	}{
		{doc: `{"generation": 1, "duration_seconds": 0.5, "types": ["power"]}`},
		{doc: `{"round": {"wait_response_seconds": 0}}`},
		{doc: `{"ImageOff": 0}`, err: `key "ImageOff" is not snake_case`},
		{doc: `{"lastSync": "x"}`, err: "not snake_case"},
		{doc: `{"round": {"duration": 1000000}}`, err: ".round.duration: a duration must be float seconds"},
		{doc: `{"config": {"interval": "30s"}}`, err: "a duration must be"},
		{doc: `{"interval_seconds": "30s"}`, err: "holds string"},
		{doc: `[{"a": {"Bad Key": 1}}]`, err: "not snake_case"},
		{doc: `{"sizes": {"event-log": 1}}`, free: []string{"sizes"}},
		{doc: `{"sizes": {"event-log": 1}}`, err: `"event-log" is not snake_case`},
	} {
		err := jsonout.Check([]byte(tc.doc), tc.free...)
		if tc.err == "" {
			require.NoError(t, err, tc.doc)
			continue
		}
		require.ErrorContains(t, err, tc.err, tc.doc)
	}
}

// TestOutputsFollowConvention: the JSON of each output type, from a real
// pair of chips after a round, follows the convention; the engine's own
// types would not (the check fails on them).
func TestOutputsFollowConvention(t *testing.T) {
	clk := sim.NewClock(time.Unix(1e9, 0))
	a := simtest.Chip(t, "w25q256jv", sim.Options{Size: 8 << 20, Clock: clk})
	b := simtest.Chip(t, "w25q256jv", sim.Options{Size: 8 << 20, Clock: clk})
	opts := engine.Options{Clock: clk, Config: engine.DefaultConfig()}
	require.NoError(t, engine.Format(a, b, opts))
	e, err := engine.Open(t.Context(), a, b, opts)
	require.NoError(t, err)
	rep, err := e.Round(t.Context())
	require.NoError(t, err)
	l := e.Layout()
	for _, tc := range []struct {
		name        string
		ours, their any
	}{
		{"round", jsonout.FromRound(rep), rep},
		{"status", jsonout.FromStatus(e.Status()), e.Status()},
		{"inspection", jsonout.FromInspection(engine.Inspect(b, l, true)), engine.Inspect(b, l, true)},
		{"config", jsonout.FromConfig(e.Config()), e.Config()},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ours, err := json.Marshal(tc.ours)
			require.NoError(t, err)
			require.NoError(t, jsonout.Check(ours))
			their, err := json.Marshal(tc.their)
			require.NoError(t, err)
			require.Error(t, jsonout.Check(their), "the engine's own JSON breaks the convention (else this output needs no conversion)")
		})
	}
}

// TestRoundAndTimes: a round reports the types it read whole (docs/JSON.md)
// and leaves them out when none; a time that never happened is left out
// (a status before the first round), not the zero time.
func TestRoundAndTimes(t *testing.T) {
	b, err := json.Marshal(jsonout.FromRound(engine.RoundReport{Outcome: engine.OutcomeCommitted, ReadWhole: engine.TypeList{info.Power}}))
	require.NoError(t, err)
	require.Contains(t, string(b), `"read_whole":["power"]`)
	b, err = json.Marshal(jsonout.FromRound(engine.RoundReport{Outcome: engine.OutcomeCommitted}))
	require.NoError(t, err)
	require.NotContains(t, string(b), `read_whole`)

	b, err = json.Marshal(jsonout.FromStatus(engine.Status{}))
	require.NoError(t, err)
	require.NotContains(t, string(b), `"last_sync"`)
	require.NotContains(t, string(b), `"next_sync"`)
	require.NotContains(t, string(b), `0001-01-01`)
}
