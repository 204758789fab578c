package daemon

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/cmcsync/cmcsync/internal/flashspec"
	"github.com/cmcsync/cmcsync/internal/shellquote/shelltest"
)

// TestOpenOneChipNewHintQuotes: the reseed command Open's ErrOneChipNew
// names, for image files in a folder whose name holds a space, comma,
// quotes, parentheses, $ and a backtick, is read by sh as the two specs
// Open was given (printed as they were, sh split and expanded them).
func TestOpenOneChipNewHintQuotes(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "state 1,(a) it's \"$HOME\" `x`")
	var specs [2]flashspec.Spec
	for i, name := range []string{"flash0", "flash1"} {
		specs[i] = flashspec.Spec{Backend: flashspec.Sim, Part: "mx66l1g45g", Size: 8 << 20, Name: name, File: filepath.Join(dir, name+".img")}
	}
	require.NoError(t, os.MkdirAll(dir, 0o755))
	prepareChips(t, specs, [2]chipState{synced, missing})
	_, err := Open(context.Background(), Options{Primary: specs[0], Backup: specs[1]})
	require.ErrorIs(t, err, ErrOneChipNew)
	_, rest, ok := strings.Cut(err.Error(), "`cmcsync reseed ")
	require.True(t, ok, "%v", err)
	line, _, ok := strings.Cut(rest, "` (or with the --config FILE")
	require.True(t, ok, "%v", err)
	words := shelltest.Words(t, "cmcsync reseed "+line)
	require.Equal(t, []string{"cmcsync", "reseed", "--primary", specs[0].String(), "--backup", specs[1].String()}, words)
	for i, w := range []string{words[3], words[5]} {
		s, err := flashspec.Parse(w)
		require.NoError(t, err)
		require.Equal(t, specs[i], s)
	}
}
