package guest

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
)

// ErrLine is wrapped by the errors of ParseLine and Parse: a guest line
// whose JSON does not decode.
var ErrLine = errors.New("undecodable guest line")

// ParseLine decodes one console line (without its newline). ok is false
// when s is not a guest line: it does not start with Prefix followed by a
// JSON object ({...}), as kernel messages, the shell's echo or a line cut
// short are not. A guest line that does not decode as a Line is an error
// wrapping ErrLine. The elapsed_ms of a guest built before
// elapsed_seconds is converted to ElapsedSeconds; a line with both is an
// error.
func ParseLine(s string) (l Line, ok bool, err error) {
	body, found := strings.CutPrefix(s, Prefix)
	if !found || !strings.HasPrefix(body, "{") || !strings.HasSuffix(body, "}") {
		return Line{}, false, nil
	}
	var w struct {
		Line
		ElapsedMS *float64 `json:"elapsed_ms"`
		Seconds   *float64 `json:"elapsed_seconds"`
	}
	if err := json.Unmarshal([]byte(body), &w); err != nil {
		return Line{}, true, fmt.Errorf("%w %.200q: %w", ErrLine, body, err)
	}
	l = w.Line
	switch {
	case w.ElapsedMS != nil && w.Seconds != nil:
		return Line{}, true, fmt.Errorf("%w %.200q: both elapsed_ms and elapsed_seconds", ErrLine, body)
	case w.ElapsedMS != nil:
		l.ElapsedSeconds = *w.ElapsedMS / 1e3
	case w.Seconds != nil:
		l.ElapsedSeconds = *w.Seconds
	}
	return l, true, nil
}

// Parse returns the guest lines of console output, in order: every
// complete line (one that ends with a newline) that ParseLine takes. At
// the first guest line that does not decode it returns the lines before
// it and the error.
func Parse(out string) ([]Line, error) {
	var lines []Line
	for {
		s, rest, complete := strings.Cut(out, "\n")
		if !complete {
			return lines, nil
		}
		out = rest
		l, ok, err := ParseLine(s)
		if err != nil {
			return lines, err
		}
		if ok {
			lines = append(lines, l)
		}
	}
}
