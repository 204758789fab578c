package main

import (
	"bytes"
	"context"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestGuestFormatAndRounds(t *testing.T) {
	dir := t.TempDir()
	p := "sim:part=mx66l1g45g,size=8M,file=" + filepath.Join(dir, "p.img")
	b := "sim:part=mx66l1g45g,size=8M,file=" + filepath.Join(dir, "b.img")
	var out, errOut bytes.Buffer
	err := run(context.Background(), []string{"guest", "--primary", p, "--backup", b, "--format", "--rounds", "2", "--seed", "7"}, &out, &errOut)
	require.NoError(t, err, errOut.String())
	var events []string
	var last guestLine
	for _, line := range strings.Split(strings.TrimSpace(out.String()), "\n") {
		require.True(t, strings.HasPrefix(line, guestPrefix), line)
		var l guestLine
		require.NoError(t, json.Unmarshal([]byte(strings.TrimPrefix(line, guestPrefix)), &l))
		events = append(events, l.Event)
		last = l
	}
	require.Equal(t, []string{"format", "open", "round-start", "round", "round-start", "round", "done"}, events)
	require.Equal(t, uint64(2), last.Generation)
	require.Len(t, last.Status.Types, 6)

	// Again on the same chips, without formatting: the engine opens the
	// committed state and continues.
	out.Reset()
	require.NoError(t, run(context.Background(), []string{"guest", "--primary", p, "--backup", b, "--rounds", "1", "--seed", "8", "--trace-writes"}, &out, &errOut))
	require.Contains(t, out.String(), `"event":"open"`)
	require.Contains(t, out.String(), `"generation":3`)
	// The round changed the backup: its first write was reported, once,
	// between the round's start and its end.
	o := out.String()
	require.Equal(t, 1, strings.Count(o, `"event":"backup-write","round":1`))
	require.Less(t, strings.Index(o, `"event":"round-start"`), strings.Index(o, `"event":"backup-write"`))
	require.Less(t, strings.Index(o, `"event":"backup-write"`), strings.Index(o, `"event":"round",`))
}

func TestGuestUsageErrors(t *testing.T) {
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"bad spec", []string{"--primary", "nope"}, "flash spec"},
		{"negative rounds", []string{"--rounds", "-1"}, "--rounds must be 0 or more"},
		{"unknown mutant", []string{"--mutant", "nonesuch"}, "mutant"},
		{"extra args", []string{"x"}, "unexpected arguments"},
		{"unknown flag", []string{"--nope"}, "flag provided but not defined"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out, errOut bytes.Buffer
			err := run(context.Background(), append([]string{"guest"}, tt.args...), &out, &errOut)
			var ee *exitError
			require.ErrorAs(t, err, &ee)
			require.Equal(t, 2, ee.code)
			require.Contains(t, err.Error(), tt.want)
		})
	}
}
