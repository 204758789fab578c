// Package jsonout is the JSON form of cmcsync's command-line outputs:
// explicit structs converted from the engine's and the store's types, so
// that every output follows one convention (docs/JSON.md): snake_case
// keys, durations as float seconds in keys ending "_seconds", times in RFC
// 3339, information types by name, offsets and sizes in bytes. No Go field
// name reaches the output.
package jsonout

import "time"

// Seconds converts a duration to float seconds.
func Seconds(d time.Duration) float64 { return d.Seconds() }
