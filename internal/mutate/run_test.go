//go:build unix

package mutate

import (
	"bufio"
	"context"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// fakeGo stands in for the go command: it logs the overlay it got and
// GOMAXPROCS, and decides by the mutated file's content, per stage
// (./camp or ./unit): '>=' fails the campaign after burning CPU in a child,
// '<=' fails the unit stage, 'a - b' does not compile, anything else passes
// after a short sleep.
const fakeGo = `#!/bin/sh
ov=
stage=
for a in "$@"; do
	case "$a" in
	-overlay=*) ov="${a#-overlay=}" ;;
	./camp) stage=camp ;;
	./unit) stage=unit ;;
	esac
done
[ -n "$ov" ] || exit 0
mutated=$(sed 's/.*:"\([^"]*\)"}}$/\1/' "$ov")
echo "$stage $mutated $GOMAXPROCS" >> "$FAKE_LOG"
if grep -q 'a - b' "$mutated"; then
	echo "FAIL	p [build failed]"; exit 1
fi
if [ $stage = camp ] && grep -q 'a >= b' "$mutated"; then
	sh -c 'i=0; while [ $i -lt 300000 ]; do i=$((i+1)); done'
	echo "--- FAIL: TestCamp (0.30s)"; exit 1
fi
if [ $stage = unit ] && grep -q 'a <= b' "$mutated"; then
	echo "--- FAIL: TestUnit (0.00s)"; exit 1
fi
sleep 0.3
exit 0
`

const fakeSrc = `package p

func f(a, b int) bool { return a > b }

func g(a, b int) int { return a + b }

func h(a, b int) bool { return a == b }
`

func TestRunnerMutantsAtOnce(t *testing.T) {
	root, scratch, bin := t.TempDir(), t.TempDir(), t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(root, "p.go"), []byte(fakeSrc), 0o644))
	goCmd := filepath.Join(bin, "go")
	require.NoError(t, os.WriteFile(goCmd, []byte(fakeGo), 0o755))
	log := filepath.Join(t.TempDir(), "log")
	t.Setenv("FAKE_LOG", log)

	at := func(line int, tok, typ string) Mutant {
		l := strings.Split(fakeSrc, "\n")[line-1]
		return Mutant{File: "p.go", Line: line, Col: strings.Index(l, tok) + 1, Type: typ}
	}
	sample := []Mutant{
		at(3, ">", "CONDITIONALS_BOUNDARY"),  // >=: the campaign kills it
		at(3, ">", "CONDITIONALS_NEGATION"),  // <=: the unit stage kills it
		at(5, "+", "ARITHMETIC_BASE"),        // a - b: does not compile
		at(7, "==", "CONDITIONALS_NEGATION"), // !=: lives
	}
	r := &Runner{
		Go: goCmd, Root: root, Scratch: scratch, Timeout: time.Minute, Env: []string{"GOMAXPROCS=1"},
		Campaign: Stage{Name: "campaign", Args: []string{"./camp"}},
		Unit:     Stage{Name: "unit", Args: []string{"./unit"}},
	}
	var mu sync.Mutex
	got := map[string]Result{}
	out, err := Schedule{
		Sample: sample, Jobs: 4, Test: r.Run,
		Lookup: func(Mutant) (Result, bool, error) { return Result{}, false, nil },
		Before: r.Baseline,
		Record: func(_ int, res Result) error {
			mu.Lock()
			defer mu.Unlock()
			got[res.ID()] = res
			return nil
		},
	}.Execute(context.Background())
	require.NoError(t, err)
	require.Len(t, out.Done, 4)

	want := []struct {
		outcome Outcome
		failed  string
	}{
		{KilledByCampaign, "--- FAIL: TestCamp (0.30s)"},
		{KilledByUnit, "--- FAIL: TestUnit (0.00s)"},
		{NotViable, "FAIL\tp [build failed]"},
		{Lived, ""},
	}
	for i, m := range sample {
		res := got[m.ID()]
		require.Equal(t, want[i].outcome, res.Outcome, m.ID())
		require.Equal(t, want[i].failed, res.Failed, m.ID())
		require.Positive(t, res.Seconds, m.ID())
	}
	// CPU is each mutant's own: the campaign kill burnt CPU in a child of
	// its go command while the others slept.
	burnt, slept := got[sample[0].ID()].CPUSeconds, got[sample[3].ID()].CPUSeconds
	require.Greater(t, burnt, 0.05)
	require.Less(t, slept, burnt/2)

	// Each mutant had its own overlay and mutated file, removed after.
	f, err := os.Open(log)
	require.NoError(t, err)
	defer f.Close()
	dirs := map[string][]string{} // mutated file's dir → stages
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		require.Len(t, fields, 3, sc.Text())
		require.Equal(t, "1", fields[2], "the runner's Env reaches the go command")
		dirs[filepath.Dir(fields[1])] = append(dirs[filepath.Dir(fields[1])], fields[0])
	}
	require.NoError(t, sc.Err())
	require.Len(t, dirs, 4, "one scratch directory per mutant")
	stages := 0
	for dir, st := range dirs {
		require.Equal(t, scratch, filepath.Dir(dir))
		stages += len(st)
	}
	require.Equal(t, 6, stages, "campaign kill 1, unit kill 2, not viable 1, lived 2")
	left, err := os.ReadDir(scratch)
	require.NoError(t, err)
	require.Empty(t, left, "scratch directories removed")
}

// fakeGoPkgs logs each go test's packages; the tests of ./sub fail for a
// mutated file holding 'a <= b'.
const fakeGoPkgs = `#!/bin/sh
ov=
pkgs=
for a in "$@"; do
	case "$a" in
	-overlay=*) ov="${a#-overlay=}" ;;
	./*) pkgs="$pkgs $a" ;;
	esac
done
[ -n "$ov" ] || exit 0
mutated=$(sed 's/.*:"\([^"]*\)"}}$/\1/' "$ov")
echo "$(basename $(dirname "$mutated"))$pkgs" >> "$FAKE_LOG"
case "$pkgs" in
*./sub*) if grep -q 'a <= b' "$mutated"; then echo "--- FAIL: TestSub (0.00s)"; exit 1; fi ;;
esac
exit 0
`

func TestRunnerOwnPackageFirst(t *testing.T) {
	root, scratch, bin := t.TempDir(), t.TempDir(), t.TempDir()
	require.NoError(t, os.MkdirAll(filepath.Join(root, "sub"), 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(root, "sub", "p.go"), []byte(fakeSrc), 0o644))
	goCmd := filepath.Join(bin, "go")
	require.NoError(t, os.WriteFile(goCmd, []byte(fakeGoPkgs), 0o755))
	log := filepath.Join(t.TempDir(), "log")
	t.Setenv("FAKE_LOG", log)
	pkgs := []string{"./other", "./sub", "./third"}
	r := &Runner{
		Go: goCmd, Root: root, Scratch: scratch, Timeout: time.Minute,
		Campaign: Stage{Name: "campaign", Args: []string{"./camp"}},
		Unit:     Stage{Name: "unit", Args: append([]string{"-timeout", "1m"}, pkgs...), OwnFirst: pkgs},
	}
	col := strings.Index(strings.Split(fakeSrc, "\n")[2], ">") + 1
	for _, tc := range []struct {
		typ     string
		outcome Outcome
		runs    []string
	}{
		{"CONDITIONALS_NEGATION", KilledByUnit, []string{"./camp", "./sub"}},             // <=: ./sub kills it, the rest never runs
		{"CONDITIONALS_BOUNDARY", Lived, []string{"./camp", "./sub", "./other ./third"}}, // >=: its package, then the others together
	} {
		_ = os.Remove(log) // a fresh log for each mutant
		res, err := r.Run(context.Background(), Mutant{File: "sub/p.go", Line: 3, Col: col, Type: tc.typ})
		require.NoError(t, err)
		require.Equal(t, tc.outcome, res.Outcome, tc.typ)
		b, err := os.ReadFile(log)
		require.NoError(t, err)
		var runs []string
		for _, l := range strings.Split(strings.TrimSpace(string(b)), "\n") {
			_, p, _ := strings.Cut(l, " ")
			runs = append(runs, p)
		}
		require.Equal(t, tc.runs, runs, tc.typ)
	}
}
