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
// wrapping ErrLine.
func ParseLine(s string) (l Line, ok bool, err error) {
	body, found := strings.CutPrefix(s, Prefix)
	if !found || !strings.HasPrefix(body, "{") || !strings.HasSuffix(body, "}") {
		return Line{}, false, nil
	}
	if err := json.Unmarshal([]byte(body), &l); err != nil {
		return Line{}, true, fmt.Errorf("%w %.200q: %w", ErrLine, body, err)
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
