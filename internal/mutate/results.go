package mutate

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
)

// Outcome of one mutant.
type Outcome string

const (
	// KilledByCampaign: the campaign stage (faults/campaign) failed.
	KilledByCampaign Outcome = "killed_campaign"
	// KilledByUnit: the campaign stage passed, the unit stage failed.
	KilledByUnit Outcome = "killed_unit"
	// Lived: both stages passed.
	Lived Outcome = "lived"
	// NotViable: the mutated tree does not compile; not counted.
	NotViable Outcome = "not_viable"
	// Inconclusive: a stage was stopped by the wall limit (or go test's
	// -timeout) while its CPU time stayed under its CPU limit: the
	// machine's load, not the mutant, may have made it slow. Not counted
	// as killed or lived; a rerun tests the mutant again.
	Inconclusive Outcome = "inconclusive"
)

// Result is one mutant's line in the results file.
type Result struct {
	Mutant
	// SrcSHA256 is the hash of the unmutated file: a result is reused on
	// a rerun only while the file is unchanged.
	SrcSHA256 string  `json:"src_sha256"`
	From      string  `json:"from"`
	To        string  `json:"to"`
	Code      string  `json:"code"` // the mutated line, trimmed
	Outcome   Outcome `json:"outcome"`
	// TimedOut: killed because a stage's CPU time passed its CPU limit
	// (CPULimit, seconds, also given for an inconclusive result). A line
	// of the older format (timed_out without cpu_limit: a wall-time
	// limit) is read as inconclusive.
	TimedOut bool    `json:"timed_out,omitempty"`
	CPULimit float64 `json:"cpu_limit,omitempty"`
	// Failed is the first failing test or package line the killing
	// stage printed.
	Failed  string  `json:"failed,omitempty"`
	Seconds float64 `json:"seconds"`
	// CPUSeconds is the user+system time of the stages (compiles and
	// tests): on an idle machine with C cores a mutant takes about
	// CPUSeconds/C of wall time or more.
	CPUSeconds float64 `json:"cpu_seconds,omitempty"`
}

// key identifies a result for resuming.
func (r Result) key() string { return r.ID() + "@" + r.SrcSHA256 }

// Results is the append-only results file.
type Results struct {
	f    *os.File
	done map[string]Result
}

// OpenResults opens (creating it when missing) the results file at path
// and reads the results it holds. A torn last line (a run killed while
// writing) is ignored, and truncated away so appends stay well-formed.
func OpenResults(path string) (*Results, error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, err
	}
	rs := &Results{f: f, done: map[string]Result{}}
	good, err := rs.read(f)
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if err := f.Truncate(good); err != nil {
		f.Close()
		return nil, err
	}
	if _, err := f.Seek(good, io.SeekStart); err != nil {
		f.Close()
		return nil, err
	}
	return rs, nil
}

// read loads every complete line and returns the offset after the last.
func (rs *Results) read(r io.Reader) (int64, error) {
	br := bufio.NewReader(r)
	var off int64
	for {
		line, err := br.ReadBytes('\n')
		if errors.Is(err, io.EOF) {
			return off, nil // a partial last line, if any, is dropped
		}
		if err != nil {
			return 0, err
		}
		var res Result
		if err := json.Unmarshal(line, &res); err != nil {
			return 0, fmt.Errorf("line at offset %d: %w (delete the file to start over)", off, err)
		}
		rs.done[res.key()] = olderFormat(res)
		off += int64(len(line))
	}
}

// olderFormat reads a result of the older format: a kill by the wall-time
// limit (timed_out without cpu_limit) said nothing about the mutant.
func olderFormat(r Result) Result {
	if r.TimedOut && r.CPULimit == 0 {
		r.Outcome, r.TimedOut = Inconclusive, false
		r.Failed = "older format, killed by the wall-time limit: " + r.Failed
	}
	return r
}

// Settled reports whether r is final: every outcome but Inconclusive,
// which a rerun tests again.
func (r Result) Settled() bool { return r.Outcome != Inconclusive }

// Lookup returns the recorded result of m on the source with hash sha.
func (rs *Results) Lookup(m Mutant, sha string) (Result, bool) {
	r, ok := rs.done[Result{Mutant: m, SrcSHA256: sha}.key()]
	return r, ok
}

// Add appends r to the file and syncs it.
func (rs *Results) Add(r Result) error {
	b, err := json.Marshal(r)
	if err != nil {
		return err
	}
	if _, err := rs.f.Write(append(b, '\n')); err != nil {
		return err
	}
	rs.done[r.key()] = r
	return rs.f.Sync()
}

// Close closes the file.
func (rs *Results) Close() error { return rs.f.Close() }
