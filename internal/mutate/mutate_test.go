package mutate

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestParseGremlins(t *testing.T) {
	data, err := os.ReadFile("testdata/gremlins.json")
	require.NoError(t, err)
	ms, err := ParseGremlins(data, "sync/x")
	require.NoError(t, err)
	require.Equal(t, []Mutant{
		{File: "sync/x/a.go", Line: 2, Col: 5, Type: "CONDITIONALS_BOUNDARY", Covered: true},
		{File: "sync/x/a.go", Line: 3, Col: 12, Type: "ARITHMETIC_BASE", Covered: false},
		{File: "sync/x/a.go", Line: 3, Col: 12, Type: "INVERT_NEGATIVES", Covered: true},
		{File: "sync/x/b.go", Line: 4, Col: 7, Type: "CONDITIONALS_NEGATION", Covered: true},
	}, ms)
	require.Equal(t, "sync/x/a.go:2:5/CONDITIONALS_BOUNDARY", ms[0].ID())

	uniq, dups := Dedup(ms)
	require.Equal(t, 1, dups)
	require.Len(t, uniq, 3)
	for _, m := range uniq {
		require.NotEqual(t, "ARITHMETIC_BASE", m.Type, "the '-' twin goes")
	}

	for name, bad := range map[string]string{
		"not json":     `{`,
		"unknown type": `{"files":[{"file_name":"a.go","mutations":[{"type":"NOPE","line":1,"column":1}]}]}`,
		"no position":  `{"files":[{"file_name":"a.go","mutations":[{"type":"ARITHMETIC_BASE","line":0,"column":1}]}]}`,
		"no name":      `{"files":[{"mutations":[]}]}`,
	} {
		_, err := ParseGremlins([]byte(bad), "p")
		require.ErrorIs(t, err, ErrGremlinsOutput, name)
	}
}

const src = `package p

func f(a, b int) int {
	if a <= b && a != -b {
		a++
		return a % b
	}
	x := 3
	x -= 1 // a <= in a comment
	return x
}
`

func TestApply(t *testing.T) {
	for _, tc := range []struct {
		line, col int
		typ, want string
	}{
		{4, 7, "CONDITIONALS_BOUNDARY", "if a < b && a != -b {"},
		{4, 7, "CONDITIONALS_NEGATION", "if a > b && a != -b {"},
		{4, 17, "CONDITIONALS_NEGATION", "if a <= b && a == -b {"},
		{4, 20, "INVERT_NEGATIVES", "if a <= b && a != +b {"},
		{5, 4, "INCREMENT_DECREMENT", "a--"},
		{6, 12, "ARITHMETIC_BASE", "return a * b"},
		{9, 4, "REMOVE_SELF_ASSIGNMENTS", "x = 1 // a <= in a comment"},
		{9, 4, "INVERT_ASSIGNMENTS", "x += 1 // a <= in a comment"},
	} {
		m := Mutant{File: "p.go", Line: tc.line, Col: tc.col, Type: tc.typ}
		ed, err := Apply([]byte(src), m)
		require.NoError(t, err, m.ID())
		require.Equal(t, tc.want, lineOf(ed.Src, tc.line), m.ID())
		// Only that line changed.
		a, b := strings.Split(src, "\n"), strings.Split(string(ed.Src), "\n")
		require.Len(t, b, len(a))
		for i := range a {
			if i != tc.line-1 {
				require.Equal(t, a[i], b[i])
			}
		}
	}
	for _, m := range []Mutant{
		{File: "p.go", Line: 4, Col: 8, Type: "CONDITIONALS_BOUNDARY"},  // inside a token
		{File: "p.go", Line: 4, Col: 4, Type: "CONDITIONALS_BOUNDARY"},  // 'a'
		{File: "p.go", Line: 5, Col: 4, Type: "ARITHMETIC_BASE"},        // '++' is not arithmetic
		{File: "p.go", Line: 9, Col: 17, Type: "CONDITIONALS_BOUNDARY"}, // in a comment
		{File: "p.go", Line: 99, Col: 1, Type: "CONDITIONALS_BOUNDARY"}, // past the end
	} {
		_, err := Apply([]byte(src), m)
		require.ErrorIs(t, err, ErrNoToken, m.ID())
	}
}

func TestSample(t *testing.T) {
	var ms []Mutant
	for i := 1; i <= 50; i++ {
		ms = append(ms, Mutant{File: "f.go", Line: i, Col: 1, Type: "ARITHMETIC_BASE"})
	}
	a, b := Sample(ms, 10, 7), Sample(ms, 10, 7)
	require.Equal(t, a, b, "same seed, same sample")
	require.NotEqual(t, a, Sample(ms, 10, 8), "another seed, another sample")
	require.Equal(t, Sample(ms, 20, 7)[:10], a, "a bigger sample extends a smaller one")
	seen := map[string]bool{}
	for _, m := range a {
		require.False(t, seen[m.ID()], "no repeats")
		seen[m.ID()] = true
	}
	require.Len(t, Sample(ms, 500, 7), 50)
	require.Equal(t, 1, ms[0].Line, "input untouched")
}

func TestResultsResume(t *testing.T) {
	path := filepath.Join(t.TempDir(), "r.jsonl")
	rs, err := OpenResults(path)
	require.NoError(t, err)
	m := Mutant{File: "f.go", Line: 1, Col: 2, Type: "ARITHMETIC_BASE"}
	require.NoError(t, rs.Add(Result{Mutant: m, SrcSHA256: "aa", Outcome: Lived}))
	require.NoError(t, rs.Close())
	// A run killed mid-write leaves a torn line.
	f, err := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
	require.NoError(t, err)
	_, err = f.WriteString(`{"file":"f.go","li`)
	require.NoError(t, err)
	require.NoError(t, f.Close())

	rs, err = OpenResults(path)
	require.NoError(t, err)
	got, ok := rs.Lookup(m, "aa")
	require.True(t, ok)
	require.Equal(t, Lived, got.Outcome)
	_, ok = rs.Lookup(m, "bb")
	require.False(t, ok, "a changed source is tested again")
	m2 := m
	m2.Line = 5
	require.NoError(t, rs.Add(Result{Mutant: m2, SrcSHA256: "aa", Outcome: KilledByUnit}))
	require.NoError(t, rs.Close())

	rs, err = OpenResults(path)
	require.NoError(t, err)
	defer rs.Close()
	_, ok = rs.Lookup(m2, "aa")
	require.True(t, ok, "the torn line was cut, the next append is readable")

	require.NoError(t, os.WriteFile(path, []byte("garbage\n"), 0o644))
	_, err = OpenResults(path)
	require.Error(t, err)
}

func TestEquivalentAndSummary(t *testing.T) {
	eq, err := ParseEquivalent(strings.NewReader("# comment\n\nf.go:1:2/ARITHMETIC_BASE  x-0 is x\n"))
	require.NoError(t, err)
	require.Equal(t, map[string]string{"f.go:1:2/ARITHMETIC_BASE": "x-0 is x"}, eq)
	for _, bad := range []string{"f.go:1:2/ARITHMETIC_BASE\n", "nonsense reason\n"} {
		_, err := ParseEquivalent(strings.NewReader(bad))
		require.Error(t, err, bad)
	}
	mk := func(line int, o Outcome) Result {
		return Result{Mutant: Mutant{File: "f.go", Line: line, Col: 2, Type: "ARITHMETIC_BASE"}, Outcome: o}
	}
	s := Summarize(100, 3, 10, []Result{
		mk(1, Lived), mk(2, Lived), mk(3, KilledByCampaign), mk(4, KilledByUnit), mk(5, NotViable), mk(6, KilledByCampaign),
	}, eq)
	require.Equal(t, 2, s.Campaign)
	require.Equal(t, 1, s.Unit)
	require.Equal(t, 1, s.NotViable)
	require.Len(t, s.Equivalent, 1)
	require.Len(t, s.Survivors, 1)
	var out strings.Builder
	s.Write(&out, eq)
	require.Contains(t, out.String(), fmt.Sprintf("score: %.1f%% of non-equivalent mutants killed (3/4)", 75.0))
	require.Contains(t, out.String(), "by the campaign alone: 50.0% (2/4)")
	require.Contains(t, out.String(), "LIVED      f.go:2:2/ARITHMETIC_BASE")
}

func TestResultsOlderFormatTimeoutIsInconclusive(t *testing.T) {
	path := filepath.Join(t.TempDir(), "r.jsonl")
	// Lines as the wall-time rule wrote them, and one with a CPU limit.
	lines := `{"file":"f.go","line":1,"col":2,"type":"ARITHMETIC_BASE","src_sha256":"aa","from":"+","to":"-","code":"a + b","outcome":"killed_campaign","timed_out":true,"failed":"stage campaign ran past 5m0s","seconds":300,"cpu_seconds":80}
{"file":"f.go","line":2,"col":2,"type":"ARITHMETIC_BASE","src_sha256":"aa","from":"+","to":"-","code":"a + b","outcome":"killed_unit","failed":"--- FAIL: TestX (0.01s)","seconds":30}
{"file":"f.go","line":3,"col":2,"type":"ARITHMETIC_BASE","src_sha256":"aa","from":"+","to":"-","code":"a + b","outcome":"killed_unit","timed_out":true,"cpu_limit":200,"seconds":30}
`
	require.NoError(t, os.WriteFile(path, []byte(lines), 0o644))
	rs, err := OpenResults(path)
	require.NoError(t, err)
	defer rs.Close()
	m := func(line int) Mutant { return Mutant{File: "f.go", Line: line, Col: 2, Type: "ARITHMETIC_BASE"} }
	for _, tc := range []struct {
		line     int
		outcome  Outcome
		timedOut bool
		settled  bool
	}{
		{1, Inconclusive, false, false}, // killed by the wall-time limit: says nothing
		{2, KilledByUnit, false, true},
		{3, KilledByUnit, true, true}, // past a CPU limit
	} {
		got, ok := rs.Lookup(m(tc.line), "aa")
		require.True(t, ok, tc.line)
		require.Equal(t, tc.outcome, got.Outcome, tc.line)
		require.Equal(t, tc.timedOut, got.TimedOut, tc.line)
		require.Equal(t, tc.settled, got.Settled(), tc.line)
	}
	// A retest's line supersedes the inconclusive one.
	require.NoError(t, rs.Add(Result{Mutant: m(1), SrcSHA256: "aa", Outcome: Lived}))
	require.NoError(t, rs.Close())
	rs, err = OpenResults(path)
	require.NoError(t, err)
	got, ok := rs.Lookup(m(1), "aa")
	require.True(t, ok)
	require.Equal(t, Lived, got.Outcome)
}

func TestSummaryLeavesInconclusiveOut(t *testing.T) {
	mk := func(line int, o Outcome, timedOut bool) Result {
		return Result{Mutant: Mutant{File: "f.go", Line: line, Col: 2, Type: "ARITHMETIC_BASE"}, Outcome: o, TimedOut: timedOut}
	}
	s := Summarize(10, 0, 10, []Result{
		mk(1, KilledByCampaign, true), mk(2, Inconclusive, false), mk(3, Lived, false), mk(4, Inconclusive, false), mk(5, KilledByUnit, false),
	}, nil)
	require.Equal(t, 2, s.Inconclusive)
	require.Equal(t, 1, s.TimedOut)
	var out strings.Builder
	s.Write(&out, nil)
	require.Contains(t, out.String(), "inconclusive (stopped by wall time under the CPU limit; not counted, tested again by a rerun): 2\n")
	require.Contains(t, out.String(), "score: 66.7% of non-equivalent mutants killed (2/3)")
	require.Contains(t, out.String(), "timed out: past the CPU limit: 1)")
}
