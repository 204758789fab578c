package failhook

import (
	"errors"
	"strings"
	"testing"
	"unicode"
)

// FuzzParse: no panic on any --on-failover spec; a spec is either refused
// (empty, or an unknown built-in, with an error saying which), a known
// built-in, or a command whose argv is the spec's words, none empty and
// none holding white space (no shell, no quoting).
func FuzzParse(f *testing.F) {
	for _, s := range []string{"builtin:ast2600-alt-boot", "builtin:", "builtin:nope", "/usr/bin/true", "  /bin/sh -c 'x y'  ", "", "\t\n", "logger -t cmcsync failover"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, spec string) {
		a, err := Parse(spec, 0)
		if err != nil {
			if !errors.Is(err, ErrEmpty) && !errors.Is(err, ErrBuiltin) {
				t.Fatalf("%q: error %v is neither ErrEmpty nor ErrBuiltin", spec, err)
			}
			return
		}
		c, ok := a.(*Command)
		if !ok {
			if !strings.HasPrefix(strings.TrimSpace(spec), BuiltinPrefix) {
				t.Fatalf("%q parses to a built-in %T", spec, a)
			}
			return
		}
		if len(c.Argv) == 0 || c.Timeout != DefaultTimeout {
			t.Fatalf("%q parses to %+v", spec, c)
		}
		for _, w := range c.Argv {
			if w == "" || strings.IndexFunc(w, unicode.IsSpace) >= 0 {
				t.Fatalf("%q: argv word %q", spec, w)
			}
		}
	})
}
