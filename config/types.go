package config

import (
	"strings"

	"github.com/cmcsync/cmcsync/sync/info"
	"github.com/cmcsync/cmcsync/web"
)

// ParseTypes parses a selection of information types as the command line
// (config set --types, sync --select) and the configuration file (select)
// give it: a comma-separated list of names ("power,fan"; blanks around a
// name ignored, a name in any case) or "all". The list is checked by the
// API's own check (web.CheckTypes): at least one type, each known, none
// twice, so every path accepts and refuses the same selections; the
// error is a *web.FieldError on "types". The types come back in the
// order given (the polling order, as PUT /api/config keeps it).
func ParseTypes(s string) ([]info.Type, error) {
	if strings.EqualFold(strings.TrimSpace(s), "all") {
		return info.All(), nil
	}
	var names []string
	for part := range strings.SplitSeq(s, ",") {
		p := strings.TrimSpace(part)
		if p == "" {
			continue
		}
		if t, err := info.ParseType(p); err == nil {
			p = t.String()
		}
		names = append(names, p)
	}
	if err := web.CheckTypes(names, TypeNames()); err != nil {
		return nil, err
	}
	out := make([]info.Type, 0, len(names))
	for _, n := range names {
		t, _ := info.ParseType(n) // checked above
		out = append(out, t)
	}
	return out, nil
}

// TypeNames returns the names of every information type, the known names
// of web.Config.Validate.
func TypeNames() []string {
	var out []string
	for _, t := range info.All() {
		out = append(out, t.String())
	}
	return out
}
