package mutate

import (
	"context"
	"sync"
	"time"
)

// Schedule tests a sample with up to Jobs mutants at a time.
//
// Contract:
//   - mutants start in draw order: mutant i is handed to Test only after
//     every earlier mutant that needed a test was (a later one may finish
//     first), so the mutants started at any moment are a prefix of the
//     ones to test;
//   - Record is called from one goroutine at a time, once per finished
//     mutant, in the order they finish: whatever it appends is never
//     interleaved;
//   - a mutant already recorded (Lookup) is not tested again;
//   - no mutant starts after Budget has passed since Execute began, nor
//     after ctx is done; mutants in progress when ctx is cancelled are
//     discarded (Test returns an error once ctx is done; nothing is
//     recorded for them), while under Budget the ones in progress finish
//     and are recorded; a result Test returns without error is recorded,
//     unless the run is stopping on an error (then nothing more is);
//   - Before runs once, before the first mutant starts, and only when at
//     least one mutant needs a test.
type Schedule struct {
	Sample []Mutant
	// Jobs is the number of mutants tested at once (< 1 means 1).
	Jobs int
	// Budget bounds the time during which new mutants start (0: none).
	Budget time.Duration
	// Lookup returns the recorded result of m, if any.
	Lookup func(m Mutant) (Result, bool, error)
	// Before runs before the first test (the baseline), nil for none.
	Before func(ctx context.Context) error
	// Test tests one mutant; it must return an error (ctx's) when ctx is
	// done before it finished. It is called from up to Jobs goroutines.
	Test func(ctx context.Context, m Mutant) (Result, error)
	// Record stores a finished mutant's result; i is its draw position.
	Record func(i int, r Result) error
	// Started, when set, is told each draw position just before its Test
	// is called, from the one goroutine that starts them.
	Started func(i int)
	// OnlyRecorded: test nothing, report what is recorded (the summary).
	OnlyRecorded bool
}

// ScheduleResult is what Execute returns.
type ScheduleResult struct {
	// Done holds the results of the longest prefix of the sample that
	// has one for every mutant, in draw order: a uniform sample, what the
	// summary counts.
	Done []Result
	// Beyond counts the results recorded for mutants after the first one
	// without a result (an interrupted run with Jobs > 1 can leave one in
	// progress behind a finished later one); they are kept for the next run
	// but not in Done.
	Beyond int
	// Tested counts the mutants tested by this call.
	Tested int
}

type finished struct {
	i   int
	res Result
	err error
}

// Execute runs the schedule. It returns the first error of Lookup, Before,
// Test (other than a cancellation) or Record, after the mutants in
// progress have stopped; an interruption (ctx cancelled) is not an error.
func (s Schedule) Execute(ctx context.Context) (ScheduleResult, error) {
	start := time.Now()
	jobs := max(s.Jobs, 1)
	results := make([]*Result, len(s.Sample))
	var pending []int
	for i, m := range s.Sample {
		r, ok, err := s.Lookup(m)
		if err != nil {
			return ScheduleResult{}, err
		}
		if ok {
			results[i] = &r
		} else {
			pending = append(pending, i)
		}
	}

	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var stop stopper
	stop.cancel = cancel

	tested := 0
	if len(pending) > 0 && !s.OnlyRecorded {
		done := make(chan finished)
		collected := make(chan struct{})
		go func() { // the one goroutine that records
			defer close(collected)
			for f := range done {
				switch {
				case stop.err() != nil:
					// stopping on an error: nothing more is recorded
				case f.err != nil && ctx.Err() != nil:
					// cut short by the interruption: discarded
				case f.err != nil:
					stop.fail(f.err) // (the worker has already)
				default:
					if err := s.Record(f.i, f.res); err != nil {
						stop.fail(err)
						continue
					}
					r := f.res
					results[f.i] = &r
					tested++
				}
			}
		}()

		slots := make(chan struct{}, jobs)
		var wg sync.WaitGroup
		before := s.Before
	dispatch:
		for _, i := range pending {
			select {
			case slots <- struct{}{}:
			case <-ctx.Done():
				break dispatch
			}
			if ctx.Err() != nil || (s.Budget > 0 && time.Since(start) > s.Budget) {
				break
			}
			if before != nil {
				if err := before(ctx); err != nil {
					if ctx.Err() == nil {
						stop.fail(err)
					}
					break
				}
				before = nil
			}
			if s.Started != nil {
				s.Started(i)
			}
			wg.Add(1)
			go func(i int) {
				defer wg.Done()
				res, err := s.Test(ctx, s.Sample[i])
				if err != nil && ctx.Err() == nil {
					stop.fail(err) // before the slot frees: nothing starts after it
				}
				<-slots
				done <- finished{i: i, res: res, err: err}
			}(i)
		}
		wg.Wait()
		close(done)
		<-collected
	}
	if err := stop.err(); err != nil {
		return ScheduleResult{}, err
	}

	out := ScheduleResult{Tested: tested}
	gap := false
	for _, r := range results {
		switch {
		case r == nil:
			gap = true
		case gap:
			out.Beyond++
		default:
			out.Done = append(out.Done, *r)
		}
	}
	return out, nil
}

// stopper keeps the first error and cancels the run's context on it.
type stopper struct {
	mu     sync.Mutex
	first  error
	cancel context.CancelFunc
}

func (s *stopper) fail(err error) {
	s.mu.Lock()
	if s.first == nil {
		s.first = err
	}
	s.mu.Unlock()
	s.cancel()
}

func (s *stopper) err() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.first
}
