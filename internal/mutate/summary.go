package mutate

import (
	"bufio"
	"fmt"
	"io"
	"strings"
)

// ParseEquivalent reads the equivalent-mutants list: one mutant a line,
// its ID (file:line:col/TYPE), white space, and the reason it cannot be
// told apart from the original; '#' starts a comment line.
func ParseEquivalent(r io.Reader) (map[string]string, error) {
	eq := map[string]string{}
	sc := bufio.NewScanner(r)
	n := 0
	for sc.Scan() {
		n++
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		id, reason, ok := strings.Cut(line, " ")
		if i := strings.IndexByte(line, '\t'); i >= 0 && (!ok || i < len(id)) {
			id, reason, ok = line[:i], line[i+1:], true
		}
		reason = strings.TrimSpace(reason)
		if !ok || reason == "" || !strings.Contains(id, "/") {
			return nil, fmt.Errorf("equivalent list line %d: want \"file:line:col/TYPE reason\", got %q", n, line)
		}
		eq[id] = reason
	}
	return eq, sc.Err()
}

// Summary counts a run's results.
type Summary struct {
	Generated, Duplicates, Sampled, Tested     int
	NotViable, Campaign, Unit, TimedOut, Lived int
	Inconclusive                               int
	Seconds, CPUSeconds                        float64
	// Equivalent are the survivors listed as equivalent; Survivors the
	// others (test gaps).
	Equivalent, Survivors []Result
}

// Summarize counts results (the tested part of the sample, in draw order).
func Summarize(generated, duplicates, sampled int, results []Result, eq map[string]string) Summary {
	s := Summary{Generated: generated, Duplicates: duplicates, Sampled: sampled, Tested: len(results)}
	for _, r := range results {
		s.Seconds += r.Seconds
		s.CPUSeconds += r.CPUSeconds
		if r.TimedOut {
			s.TimedOut++
		}
		switch r.Outcome {
		case NotViable:
			s.NotViable++
		case Inconclusive:
			s.Inconclusive++
		case KilledByCampaign:
			s.Campaign++
		case KilledByUnit:
			s.Unit++
		case Lived:
			s.Lived++
			if _, ok := eq[r.ID()]; ok {
				s.Equivalent = append(s.Equivalent, r)
			} else {
				s.Survivors = append(s.Survivors, r)
			}
		}
	}
	return s
}

func pct(a, b int) float64 {
	if b == 0 {
		return 0
	}
	return 100 * float64(a) / float64(b)
}

// Write prints the summary and the survivors.
func (s Summary) Write(w io.Writer, eq map[string]string) {
	viable := s.Tested - s.NotViable - s.Inconclusive
	nonEq := viable - len(s.Equivalent)
	killed := s.Campaign + s.Unit
	fmt.Fprintf(w, "mutants generated (gremlins, default operators): %d (%d duplicate '-' twins dropped)\n", s.Generated, s.Duplicates)
	fmt.Fprintf(w, "sample: %d; tested: %d; not viable (do not compile): %d\n", s.Sampled, s.Tested, s.NotViable)
	fmt.Fprintf(w, "inconclusive (stopped by wall time under the CPU limit; not counted, tested again by a rerun): %d\n", s.Inconclusive)
	fmt.Fprintf(w, "killed by campaign tests: %d; killed by unit tests only: %d; (of the killed, timed out: past the CPU limit: %d)\n", s.Campaign, s.Unit, s.TimedOut)
	fmt.Fprintf(w, "lived: %d (equivalent: %d, %.1f%% of the viable tested; test gaps: %d)\n", s.Lived, len(s.Equivalent), pct(len(s.Equivalent), viable), len(s.Survivors))
	fmt.Fprintf(w, "score: %.1f%% of non-equivalent mutants killed (%d/%d); by the campaign alone: %.1f%% (%d/%d)\n",
		pct(killed, nonEq), killed, nonEq, pct(s.Campaign, nonEq), s.Campaign, nonEq)
	if s.Tested > 0 {
		fmt.Fprintf(w, "time: %.0f s wall, %.0f s CPU (user+system) for %d mutants: %.1f s wall, %.1f s CPU per mutant\n",
			s.Seconds, s.CPUSeconds, s.Tested, s.Seconds/float64(s.Tested), s.CPUSeconds/float64(s.Tested))
	}
	for _, r := range s.Equivalent {
		fmt.Fprintf(w, "  equivalent %s %s→%s  %s\n      %s\n", r.ID(), r.From, r.To, r.Code, eq[r.ID()])
	}
	for _, r := range s.Survivors {
		fmt.Fprintf(w, "  LIVED      %s %s→%s  %s\n", r.ID(), r.From, r.To, r.Code)
	}
}
