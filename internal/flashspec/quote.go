package flashspec

import (
	"fmt"
	"strings"
)

// item is one key=value of a sim spec as splitItems read it.
type item struct {
	raw    string // as written, quotes included
	key    string
	val    string // unquoted
	hasEq  bool
	quoted bool
}

// splitItems splits a sim spec's keys at the commas that separate them. A
// value that starts with a double quote runs to the closing quote, commas
// included; inside it \" is a quote and \\ a backslash (no other escape).
// An unquoted value runs to the next comma and is taken as written.
func splitItems(rest string) ([]item, error) {
	var items []item
	for i := 0; ; {
		start := i
		var it item
		for i < len(rest) && rest[i] != ',' && rest[i] != '=' {
			i++
		}
		it.key = rest[start:i]
		if i < len(rest) && rest[i] == '=' {
			it.hasEq = true
			i++
			if i < len(rest) && rest[i] == '"' {
				val, n, err := unquote(it.key, rest[i:])
				if err != nil {
					return nil, err
				}
				it.val, it.quoted = val, true
				i += n
				if i < len(rest) && rest[i] != ',' {
					return nil, fmt.Errorf("key %q: %q after the closing quote of its value (want a comma or the end)", it.key, rest[i:])
				}
			} else {
				vs := i
				for i < len(rest) && rest[i] != ',' {
					i++
				}
				it.val = rest[vs:i]
			}
		}
		it.raw = rest[start:i]
		items = append(items, it)
		if i >= len(rest) {
			return items, nil
		}
		i++ // the comma
	}
}

// unquote reads the quoted value at the start of s (s[0] is the quote) and
// returns it with the number of bytes it took, quotes included.
func unquote(key, s string) (string, int, error) {
	var b strings.Builder
	for i := 1; i < len(s); i++ {
		switch c := s[i]; c {
		case '"':
			return b.String(), i + 1, nil
		case '\\':
			if i+1 < len(s) && (s[i+1] == '"' || s[i+1] == '\\') {
				b.WriteByte(s[i+1])
				i++
				continue
			}
			return "", 0, fmt.Errorf("key %q: in a quoted value a backslash escapes only \\\" and \\\\ (got %q)", key, s[i:min(i+2, len(s))])
		default:
			b.WriteByte(c)
		}
	}
	return "", 0, fmt.Errorf("key %q: the quoted value %s has no closing quote", key, s)
}

// quoteValue writes v as splitItems reads it back: as is, or quoted when
// it holds a comma or starts with a quote.
func quoteValue(v string) string {
	if !strings.Contains(v, ",") && !strings.HasPrefix(v, `"`) {
		return v
	}
	return `"` + strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(v) + `"`
}

// commaHint explains an item that does not read as a key when the item
// before it is an unquoted path or name: the comma was likely part of it.
func commaHint(prev, it item) string {
	switch prev.key {
	case "file", "profile", "name":
	default:
		return ""
	}
	if prev.quoted {
		return ""
	}
	joined := prev.key + "=" + quoteValue(prev.val+","+it.raw)
	return fmt.Sprintf(" (a comma separates keys: if it belongs to the %s after %s=, quote the value, %s)", prev.key, prev.key, joined)
}
