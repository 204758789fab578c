package jsonout

import (
	"encoding/json"
	"fmt"
	"regexp"
	"sort"
	"strings"
)

var snake = regexp.MustCompile(`^[a-z][a-z0-9]*(_[a-z0-9]+)*$`)

// durationWords mark a key whose value is a duration.
var durationWords = []string{"duration", "interval", "threshold", "wait", "elapsed", "timeout", "every", "step", "uptime", "latency"}

// Check reports the first place where the JSON document b breaks the
// convention: a key that is not snake_case, or a key naming a duration
// whose value is not a number in a key ending "_seconds". Keys listed in
// free are maps keyed by data (e.g. per-type tables) whose keys are not
// checked.
func Check(b []byte, free ...string) error {
	var v any
	if err := json.Unmarshal(b, &v); err != nil {
		return err
	}
	return check(v, "", free)
}

func check(v any, path string, free []string) error {
	switch x := v.(type) {
	case map[string]any:
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		last := path[strings.LastIndex(path, ".")+1:]
		for _, k := range keys {
			p := path + "." + k
			isFree := false
			for _, f := range free {
				isFree = isFree || f == last
			}
			if !isFree {
				if !snake.MatchString(k) {
					return fmt.Errorf("%s: key %q is not snake_case", p, k)
				}
				if err := checkDuration(k, x[k], p); err != nil {
					return err
				}
			}
			if err := check(x[k], p, free); err != nil {
				return err
			}
		}
	case []any:
		for i, e := range x {
			if err := check(e, fmt.Sprintf("%s[%d]", path, i), free); err != nil {
				return err
			}
		}
	}
	return nil
}

func checkDuration(k string, v any, path string) error {
	if strings.HasSuffix(k, "_seconds") {
		if _, ok := v.(float64); !ok && v != nil {
			return fmt.Errorf("%s: a _seconds key holds %T, want a number", path, v)
		}
		return nil
	}
	for _, w := range durationWords {
		if strings.Contains(k, w) {
			if _, isObj := v.(map[string]any); isObj {
				return nil // e.g. "interval" settings grouped in an object
			}
			return fmt.Errorf("%s: a duration must be float seconds in a key ending _seconds", path)
		}
	}
	return nil
}
