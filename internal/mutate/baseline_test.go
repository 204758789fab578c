//go:build unix

package mutate

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// fakeGoBaseline logs each call and burns a little CPU.
const fakeGoBaseline = `#!/bin/sh
echo "$*" >> "$FAKE_LOG"
i=0; while [ $i -lt 20000 ]; do i=$((i+1)); done
exit 0
`

func TestBaselineCachedByTree(t *testing.T) {
	root, bin, out := t.TempDir(), t.TempDir(), t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(root, "p.go"), []byte(fakeSrc), 0o644))
	require.NoError(t, os.MkdirAll(filepath.Join(root, "mutate-out"), 0o755))
	goCmd := filepath.Join(bin, "go")
	require.NoError(t, os.WriteFile(goCmd, []byte(fakeGoBaseline), 0o755))
	log := filepath.Join(t.TempDir(), "log")
	t.Setenv("FAKE_LOG", log)
	calls := func() int {
		b, err := os.ReadFile(log)
		if os.IsNotExist(err) {
			return 0
		}
		require.NoError(t, err)
		return strings.Count(string(b), "\n")
	}
	runner := func() *Runner {
		return &Runner{
			Go: goCmd, Root: root, Scratch: t.TempDir(), Timeout: time.Minute, CPUFactor: 3, CPUMargin: time.Second,
			Campaign: Stage{Name: "campaign", Args: []string{"./camp"}},
			Unit:     Stage{Name: "unit", Args: []string{"./unit"}},
		}
	}
	skip := []string{"mutate-out"}
	key := func() string {
		k, err := TreeKey(root, skip, "args")
		require.NoError(t, err)
		return k
	}
	path := filepath.Join(out, "baseline.json")

	r1 := runner()
	cached, err := r1.BaselineCached(context.Background(), path, key())
	require.NoError(t, err)
	require.False(t, cached, "no record yet: measured")
	require.Equal(t, 2, calls())
	require.Positive(t, r1.Campaign.BaselineCPU)
	require.Equal(t, time.Duration(3*float64(r1.Unit.BaselineCPU))+time.Second, r1.Unit.CPULimit)

	// A file under a skipped directory (the results) is not the tree.
	require.NoError(t, os.WriteFile(filepath.Join(root, "mutate-out", "results.jsonl"), []byte("x\n"), 0o644))
	r2 := runner()
	cached, err = r2.BaselineCached(context.Background(), path, key())
	require.NoError(t, err)
	require.True(t, cached, "same tree: the record answers")
	require.Equal(t, 2, calls(), "nothing ran")
	require.InDelta(t, r1.Campaign.CPULimit.Seconds(), r2.Campaign.CPULimit.Seconds(), 1e-6)
	require.InDelta(t, r1.Unit.CPULimit.Seconds(), r2.Unit.CPULimit.Seconds(), 1e-6)

	other, err := TreeKey(root, skip, "other args")
	require.NoError(t, err)
	require.NotEqual(t, key(), other, "the flags are part of the key")

	// A changed file: measured again.
	require.NoError(t, os.WriteFile(filepath.Join(root, "p.go"), []byte(strings.Replace(fakeSrc, "a > b", "a < b", 1)), 0o644))
	cached, err = runner().BaselineCached(context.Background(), path, key())
	require.NoError(t, err)
	require.False(t, cached, "changed tree: measured again")
	require.Equal(t, 4, calls())
}
