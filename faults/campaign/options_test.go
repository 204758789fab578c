package campaign

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/cmcsync/cmcsync/sync/engine"
)

func TestParseMode(t *testing.T) {
	for _, tc := range []struct {
		name string
		want Mode
	}{
		{"", Exhaustive}, {"exhaustive", Exhaustive}, {"random", Random},
	} {
		m, err := ParseMode(tc.name)
		require.NoError(t, err, tc.name)
		require.Equal(t, tc.want, m)
	}
	for _, m := range []Mode{Exhaustive, Random} {
		back, err := ParseMode(m.String())
		require.NoError(t, err)
		require.Equal(t, m, back, "String parses back")
	}
	for _, bad := range []string{"sideways", "Random", " exhaustive"} {
		_, err := ParseMode(bad)
		require.ErrorIs(t, err, ErrOptions, bad)
	}
	require.Equal(t, "mode(7)", Mode(7).String())
}

// TestOptionsValidate: the zero options are valid (defaults), and every
// bad option is refused by Validate and by Run alike, wrapping ErrOptions.
func TestOptionsValidate(t *testing.T) {
	require.NoError(t, Options{}.Validate())
	require.NoError(t, Options{Mode: Random, Depth: 2, Mutant: engine.NoPurge, Shard: Shard{3, 4}}.Validate())
	for _, tc := range []struct {
		name string
		o    Options
	}{
		{"mode", Options{Mode: Mode(2)}},
		{"depth too deep", Options{Depth: 3}},
		{"depth negative", Options{Depth: -1}},
		{"scenario", Options{Scenario: "huge"}},
		{"mutant", Options{Mutant: engine.Mutant(200)}},
		{"shard index", Options{Shard: Shard{2, 2}}},
		{"shard count", Options{Shard: Shard{0, -1}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			require.ErrorIs(t, tc.o.Validate(), ErrOptions)
			_, err := Run(context.Background(), tc.o)
			require.ErrorIs(t, err, ErrOptions)
		})
	}
}
