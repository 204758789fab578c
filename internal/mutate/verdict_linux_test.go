//go:build linux

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

// fakeGoLoad stands in for the go command, by the mutated file's content
// (campaign stage ./camp; the unit stage ./unit passes): 'a >= b' sleeps
// (a stage slowed by load: little CPU), 'a <= b' burns CPU in a child
// without end (a real loop), 'a - b' fails at once, 'a != b' prints go
// test's own wall-time -timeout panic after a short sleep. The baseline
// (no overlay) burns a little CPU, its campaign stage runs past the 1 s
// wall limit, and it fails unless given -count=1 and no -timeout but 0.
const fakeGoLoad = `#!/bin/sh
ov=
count=
for a in "$@"; do
	case "$a" in
	-overlay=*) ov="${a#-overlay=}" ;;
	-count=1) count=1 ;;
	esac
done
if [ -z "$ov" ]; then
	[ -n "$count" ] || { echo "FAIL	baseline answered from the test cache"; exit 1; }
	case "$*" in *-timeout=0*) ;; *-timeout*) echo "FAIL	a wall limit on the baseline: $*"; exit 1 ;; esac
	i=0; while [ $i -lt 20000 ]; do i=$((i+1)); done
	case "$*" in *./camp*) sleep 1.2 ;; esac
	exit 0
fi
case "$*" in *./unit*) exit 0 ;; esac
mutated=$(sed 's/.*:"\([^"]*\)"}}$/\1/' "$ov")
if grep -q 'a >= b' "$mutated"; then sleep 60; fi
if grep -q 'a <= b' "$mutated"; then sh -c 'while :; do :; done'; fi
if grep -q 'a - b' "$mutated"; then echo "--- FAIL: TestCamp (0.00s)"; exit 1; fi
if grep -q 'a != b' "$mutated"; then sleep 0.2; echo "panic: test timed out after 1s"; exit 1; fi
exit 0
`

func TestRunnerVerdictNeverOnLoad(t *testing.T) {
	root, scratch, bin := t.TempDir(), t.TempDir(), t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(root, "p.go"), []byte(fakeSrc), 0o644))
	goCmd := filepath.Join(bin, "go")
	require.NoError(t, os.WriteFile(goCmd, []byte(fakeGoLoad), 0o755))
	at := func(line int, tok, typ string) Mutant {
		l := strings.Split(fakeSrc, "\n")[line-1]
		return Mutant{File: "p.go", Line: line, Col: strings.Index(l, tok) + 1, Type: typ}
	}
	const margin = 500 * time.Millisecond
	for _, tc := range []struct {
		name     string
		m        Mutant
		wall     time.Duration // the wall limit
		outcome  Outcome
		timedOut bool
		failed   string // a part of Failed
	}{
		{"sleeps past the wall limit (load): inconclusive", at(3, ">", "CONDITIONALS_BOUNDARY"), time.Second, Inconclusive, false, "stage campaign ran past 1s"},
		{"burns CPU without end: killed, timed out", at(3, ">", "CONDITIONALS_NEGATION"), 20 * time.Second, KilledByCampaign, true, "past its CPU limit"},
		{"fails at once: killed", at(5, "+", "ARITHMETIC_BASE"), 5 * time.Minute, KilledByCampaign, false, "--- FAIL: TestCamp"},
		{"go test's own -timeout under the CPU limit: inconclusive", at(7, "==", "CONDITIONALS_NEGATION"), 5 * time.Minute, Inconclusive, false, "panic: test timed out"},
	} {
		r := &Runner{
			Go: goCmd, Root: root, Scratch: scratch, Timeout: tc.wall, CPUFactor: 3, CPUMargin: margin,
			Campaign: Stage{Name: "campaign", Args: []string{"-timeout", "1m", "./camp"}},
			Unit:     Stage{Name: "unit", Args: []string{"-timeout=1m", "./unit"}},
		}
		require.NoError(t, r.Baseline(context.Background()), tc.name)
		for _, st := range []Stage{r.Campaign, r.Unit} {
			require.Positive(t, st.BaselineCPU, tc.name)
			require.Equal(t, time.Duration(3*float64(st.BaselineCPU))+margin, st.CPULimit, tc.name)
		}
		start := time.Now()
		res, err := r.Run(context.Background(), tc.m)
		require.NoError(t, err, tc.name)
		require.Equal(t, tc.outcome, res.Outcome, "%s: %s", tc.name, res.Failed)
		require.Equal(t, tc.timedOut, res.TimedOut, tc.name)
		require.Contains(t, res.Failed, tc.failed, tc.name)
		if tc.timedOut {
			// The whole tree's CPU, the burning grandchild's included,
			// passed the limit, and the limit stopped it, not the wall.
			require.Greater(t, res.CPUSeconds, r.Campaign.CPULimit.Seconds(), tc.name)
			require.Equal(t, r.Campaign.CPULimit.Seconds(), res.CPULimit, tc.name)
			require.Less(t, time.Since(start), tc.wall, tc.name)
		}
		if tc.outcome == Inconclusive {
			require.Less(t, res.CPUSeconds, r.Campaign.CPULimit.Seconds(), tc.name)
			require.False(t, res.Settled(), tc.name)
		}
	}
}

func TestParseStat(t *testing.T) {
	// A command name with a space and a parenthesis; pgrp 4242;
	// utime 7, stime 3, cutime 20, cstime 5.
	line := "123 (a b) c) S 1 4242 4242 0 -1 4194560 100 0 0 0 7 3 20 5 20 0 1 0 99 0 0\n"
	ticks, pg, ok := parseStat([]byte(line))
	require.True(t, ok)
	require.Equal(t, 4242, pg)
	require.Equal(t, int64(35), ticks)
	_, _, ok = parseStat([]byte("123 (x) S 1"))
	require.False(t, ok, "a short line")
}
