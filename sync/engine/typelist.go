package engine

import (
	"encoding/json"
	"fmt"

	"github.com/cmcsync/cmcsync/sync/info"
)

// TypeList is a list of information types that encodes to JSON as names
// ("power", "fan", ...). A []info.Type assigns to it directly.
type TypeList []info.Type

// MarshalJSON encodes the list as an array of type names.
func (l TypeList) MarshalJSON() ([]byte, error) {
	names := make([]string, len(l))
	for i, t := range l {
		names[i] = t.String()
	}
	return json.Marshal(names)
}

// UnmarshalJSON decodes an array of type names (or numbers).
func (l *TypeList) UnmarshalJSON(b []byte) error {
	var raw []json.RawMessage
	if err := json.Unmarshal(b, &raw); err != nil {
		return fmt.Errorf("information types: %w", err)
	}
	out := make(TypeList, 0, len(raw))
	for _, r := range raw {
		var name string
		if err := json.Unmarshal(r, &name); err == nil {
			t, err := info.ParseType(name)
			if err != nil {
				return err
			}
			out = append(out, t)
			continue
		}
		var n uint8
		if err := json.Unmarshal(r, &n); err != nil {
			return fmt.Errorf("information type %s: want a name or a number", r)
		}
		out = append(out, info.Type(n))
	}
	*l = out
	return nil
}
