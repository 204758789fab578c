package mutate

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func sampleOf(n int) []Mutant {
	ms := make([]Mutant, n)
	for i := range ms {
		ms[i] = Mutant{File: "f.go", Line: i + 1, Col: 1, Type: "ARITHMETIC_BASE"}
	}
	return ms
}

// fakeRun records what a Schedule did with a fake Test.
type fakeRun struct {
	mu        sync.Mutex
	started   []int // draw positions, in the order Schedule.Started was told
	entered   []int // draw positions (Line-1), in the order Test was entered
	running   int
	maxRun    int
	recording atomic.Int32
	overlap   atomic.Bool // Record entered while another Record ran
}

// start is Schedule.Started.
func (f *fakeRun) start(i int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.started = append(f.started, i)
}

// test returns a Test that sleeps d(i) and returns a Lived result.
func (f *fakeRun) test(d func(i int) time.Duration) func(context.Context, Mutant) (Result, error) {
	return func(ctx context.Context, m Mutant) (Result, error) {
		i := m.Line - 1
		f.mu.Lock()
		f.entered = append(f.entered, i)
		f.running++
		f.maxRun = max(f.maxRun, f.running)
		f.mu.Unlock()
		defer func() {
			f.mu.Lock()
			f.running--
			f.mu.Unlock()
		}()
		select {
		case <-time.After(d(i)):
			return Result{Mutant: m, SrcSHA256: "aa", Outcome: Lived, Seconds: d(i).Seconds()}, nil
		case <-ctx.Done():
			return Result{}, ctx.Err()
		}
	}
}

func noneRecorded(Mutant) (Result, bool, error) { return Result{}, false, nil }

// record appends to rs from the one collector, checking it is alone.
func (f *fakeRun) record(rs *Results, got *[]int) func(int, Result) error {
	return func(i int, r Result) error {
		if f.recording.Add(1) > 1 {
			f.overlap.Store(true)
		}
		defer f.recording.Add(-1)
		time.Sleep(time.Millisecond) // widen the window for an overlap
		*got = append(*got, i)
		if rs == nil {
			return nil
		}
		return rs.Add(r)
	}
}

func readLines(t *testing.T, path string) []Result {
	t.Helper()
	f, err := os.Open(path)
	require.NoError(t, err)
	defer f.Close()
	var out []Result
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		var r Result
		require.NoError(t, json.Unmarshal(sc.Bytes(), &r), "line %q", sc.Text())
		out = append(out, r)
	}
	require.NoError(t, sc.Err())
	return out
}

func TestScheduleStartsInDrawOrderAndRecordsEachOnce(t *testing.T) {
	for _, jobs := range []int{1, 2, 3, 5} {
		path := filepath.Join(t.TempDir(), "r.jsonl")
		rs, err := OpenResults(path)
		require.NoError(t, err)
		var f fakeRun
		var recorded []int
		sample := sampleOf(12)
		// Earlier mutants take longer, so later ones finish first.
		out, err := Schedule{
			Sample: sample, Jobs: jobs, Lookup: noneRecorded, Started: f.start,
			Test:   f.test(func(i int) time.Duration { return time.Duration(12-i) * 2 * time.Millisecond }),
			Record: f.record(rs, &recorded),
		}.Execute(context.Background())
		require.NoError(t, err)
		require.NoError(t, rs.Close())

		want := []int{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11}
		require.Equal(t, want, f.started, "jobs %d: started in draw order", jobs)
		require.ElementsMatch(t, want, f.entered, "jobs %d: each tested once", jobs)
		require.Equal(t, jobs, f.maxRun, "jobs %d: that many at once, no more", jobs)
		require.False(t, f.overlap.Load(), "jobs %d: one Record at a time", jobs)
		require.ElementsMatch(t, want, recorded, "jobs %d: each recorded once", jobs)
		if jobs > 1 {
			require.NotEqual(t, want, recorded, "jobs %d: recorded as they finish", jobs)
		}
		require.Equal(t, 12, out.Tested)
		require.Zero(t, out.Beyond)
		require.Len(t, out.Done, 12)
		for i, r := range out.Done {
			require.Equal(t, sample[i], r.Mutant, "jobs %d: Done in draw order", jobs)
		}
		lines := readLines(t, path)
		require.Len(t, lines, 12, "jobs %d: one whole line per mutant", jobs)
	}
}

func TestScheduleBudgetLetsTheStartedOnesFinish(t *testing.T) {
	var f fakeRun
	var recorded []int
	out, err := Schedule{
		Sample: sampleOf(20), Jobs: 2, Budget: 25 * time.Millisecond, Lookup: noneRecorded, Started: f.start,
		Test:   f.test(func(int) time.Duration { return 20 * time.Millisecond }),
		Record: f.record(nil, &recorded),
	}.Execute(context.Background())
	require.NoError(t, err)
	n := len(f.started)
	require.Less(t, n, 20, "the budget stopped the starts")
	require.GreaterOrEqual(t, n, 2)
	require.Equal(t, n, len(recorded), "every started mutant finished and was recorded")
	require.Equal(t, n, out.Tested)
	require.Len(t, out.Done, n, "a prefix of the sample")
	require.Zero(t, out.Beyond)
}

func TestScheduleInterruptDiscardsTheMutantsInProgress(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var f fakeRun
	var recorded []int
	block := time.Hour
	out, err := Schedule{
		Sample: sampleOf(6), Jobs: 2, Lookup: noneRecorded, Started: f.start,
		// 0 and 2 finish at once; 1 and every mutant from 3 on run until
		// the interruption.
		Test: f.test(func(i int) time.Duration {
			if i == 0 || i == 2 {
				return 0
			}
			return block
		}),
		Record: func(i int, r Result) error {
			recorded = append(recorded, i)
			if i == 2 {
				cancel() // Ctrl-C while 1 (and maybe 3) are in progress
			}
			return nil
		},
	}.Execute(ctx)
	require.NoError(t, err, "an interruption is not an error")
	require.ElementsMatch(t, []int{0, 2}, recorded, "the mutants in progress are discarded")
	require.Subset(t, []int{0, 1, 2, 3}, f.started, "nothing starts after the interruption")
	require.Equal(t, 2, out.Tested)
	require.Len(t, out.Done, 1, "the summary covers the prefix without a hole")
	require.Equal(t, 1, out.Beyond, "mutant 2 is kept for the next run")
}

func TestScheduleResumesWithJobs(t *testing.T) {
	path := filepath.Join(t.TempDir(), "r.jsonl")
	sample := sampleOf(10)
	lookup := func(rs *Results) func(Mutant) (Result, bool, error) {
		return func(m Mutant) (Result, bool, error) {
			r, ok := rs.Lookup(m, "aa")
			return r, ok, nil
		}
	}

	// First run: interrupted after four results, 4 in progress.
	ctx, cancel := context.WithCancel(context.Background())
	rs, err := OpenResults(path)
	require.NoError(t, err)
	var f1 fakeRun
	var rec1 []int
	out, err := Schedule{
		Sample: sample, Jobs: 3, Lookup: lookup(rs), Started: f1.start,
		Test: f1.test(func(i int) time.Duration {
			if i == 4 {
				return time.Hour
			}
			return time.Millisecond
		}),
		Record: func(i int, r Result) error {
			rec1 = append(rec1, i)
			if len(rec1) == 6 {
				cancel()
			}
			return rs.Add(r)
		},
	}.Execute(ctx)
	cancel()
	require.NoError(t, err)
	require.NoError(t, rs.Close())
	require.NotContains(t, rec1, 4)
	require.Len(t, out.Done, 4, "0-3 before the hole at 4")
	require.Equal(t, len(rec1)-4, out.Beyond)

	// Second run, same file: only what is missing runs, 4 first.
	rs, err = OpenResults(path)
	require.NoError(t, err)
	defer rs.Close()
	var f2 fakeRun
	var rec2 []int
	before := 0
	out, err = Schedule{
		Sample: sample, Jobs: 3, Lookup: lookup(rs), Started: f2.start,
		Before: func(context.Context) error { before++; return nil },
		Test:   f2.test(func(int) time.Duration { return time.Millisecond }),
		Record: f2.record(rs, &rec2),
	}.Execute(context.Background())
	require.NoError(t, err)
	require.Equal(t, 1, before, "the baseline once, since some mutants run")
	require.Equal(t, 4, f2.started[0])
	require.ElementsMatch(t, f2.started, rec2)
	for _, i := range rec1 {
		require.NotContains(t, f2.started, i, "mutant %d was recorded: not run again", i)
	}
	require.Len(t, out.Done, 10)
	require.Zero(t, out.Beyond)
	require.Len(t, readLines(t, path), 10)

	// Third run: everything recorded, so no baseline and no test.
	out, err = Schedule{
		Sample: sample, Jobs: 3, Lookup: lookup(rs),
		Before: func(context.Context) error { before++; return nil },
		Test:   func(context.Context, Mutant) (Result, error) { t.Fatal("no test expected"); return Result{}, nil },
		Record: func(int, Result) error { t.Fatal("no record expected"); return nil },
	}.Execute(context.Background())
	require.NoError(t, err)
	require.Equal(t, 1, before)
	require.Len(t, out.Done, 10)
}

func TestScheduleStopsOnAnError(t *testing.T) {
	boom := errors.New("boom")
	t.Run("test", func(t *testing.T) {
		var f fakeRun
		slow := f.test(func(int) time.Duration { return time.Hour })
		_, err := Schedule{
			Sample: sampleOf(8), Jobs: 2, Lookup: noneRecorded, Started: f.start,
			Test: func(ctx context.Context, m Mutant) (Result, error) {
				if m.Line == 2 { // the second of the two at once
					return Result{}, boom
				}
				return slow(ctx, m) // cancelled by the error
			},
			Record: func(int, Result) error { t.Fatal("nothing finished"); return nil },
		}.Execute(context.Background())
		require.ErrorIs(t, err, boom)
		require.Equal(t, []int{0, 1}, f.started, "no start after the error")
	})
	t.Run("baseline", func(t *testing.T) {
		_, err := Schedule{
			Sample: sampleOf(3), Jobs: 2, Lookup: noneRecorded,
			Before: func(context.Context) error { return boom },
			Test:   func(context.Context, Mutant) (Result, error) { t.Fatal("no test expected"); return Result{}, nil },
		}.Execute(context.Background())
		require.ErrorIs(t, err, boom)
	})
	t.Run("record", func(t *testing.T) {
		var f fakeRun
		calls := 0
		_, err := Schedule{
			Sample: sampleOf(6), Jobs: 2, Lookup: noneRecorded, Started: f.start,
			Test:   f.test(func(int) time.Duration { return time.Millisecond }),
			Record: func(int, Result) error { calls++; return boom },
		}.Execute(context.Background())
		require.ErrorIs(t, err, boom)
		require.Equal(t, 1, calls, "nothing recorded after a failed record")
	})
}
