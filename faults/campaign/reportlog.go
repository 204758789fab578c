package campaign

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
)

// ErrNoReport is wrapped by FindReport's errors: the output holds no
// campaign report, or more than one.
var ErrNoReport = errors.New("no single campaign report")

// FindReport returns the campaign report in a shard's output: the JSON that
// `cmcsync campaign --json` prints, alone or among other lines. A
// container's log, as `kubectl logs` returns it, holds the campaign's
// progress lines (its standard error) around the report (its standard
// output), and such a log is what a Kubernetes shard leaves.
//
// The report is a JSON object that starts a line and names a mode and its
// shards. An output without one (the shard did not finish, or ran without
// --json), or with two, is an error wrapping [ErrNoReport]: a merge must
// not guess which shard an output stands for.
func FindReport(output []byte) (Report, error) {
	var found []Report
	for off := 0; off < len(output); {
		if output[off] == '{' {
			dec := json.NewDecoder(bytes.NewReader(output[off:]))
			var r Report
			if err := dec.Decode(&r); err == nil && r.Mode != "" && len(r.Shards) > 0 {
				found = append(found, r)
				off += int(dec.InputOffset())
			}
		}
		next := bytes.IndexByte(output[off:], '\n')
		if next < 0 {
			break
		}
		off += next + 1
	}
	switch len(found) {
	case 1:
		return found[0], nil
	case 0:
		return Report{}, fmt.Errorf("%w: no JSON report in it (did the shard finish? was it run with --json?)", ErrNoReport)
	}
	return Report{}, fmt.Errorf("%w: %d reports in it (shards %s and %s...): give each shard's output on its own",
		ErrNoReport, len(found), found[0].Shards, found[1].Shards)
}
