package sim

import (
	"encoding/json"
	"fmt"
)

// The members a part profile must have (a null counts as missing): the
// others (block_erase_size, bus, emulated, notes, calibration, and each
// corner's block erase and page read) may be left out. A duration's name
// is written without its unit suffix (_seconds in ProfileFormat, _us in
// ProfileFormatV1).
var (
	profileRequired = []string{"format", "name", "kind", "size", "erase_size", "page_size", "write_size",
		"endurance", "bus_bytes_per_sec", "command_overhead*", "typical", "max", "source"}
	timingRequired      = []string{"page_program*", "sector_erase*"}
	busRequired         = []string{"lines", "clock_hz"}
	calibrationRequired = []string{"device", "geometry", "scratch", "at", "clock", "warmup", "measurements"}
	measurementRequired = []string{"op", "bytes", "count", "min*", "p10*", "median*", "p90*", "max*", "mean*"}
)

// checkRequired reports the first required member data (a profile that
// decodes strictly) lacks, by its path, e.g. "typical.page_program_seconds".
// suffix replaces the '*' of a duration's name.
func checkRequired(data []byte, suffix string) error {
	var top map[string]json.RawMessage
	if err := json.Unmarshal(data, &top); err != nil {
		return err
	}
	if err := requireMembers(top, "", suffix, profileRequired); err != nil {
		return err
	}
	for _, corner := range []string{"typical", "max"} {
		if err := requireObject(top[corner], corner+".", suffix, timingRequired); err != nil {
			return err
		}
	}
	if present(top["bus"]) {
		if err := requireObject(top["bus"], "bus.", suffix, busRequired); err != nil {
			return err
		}
	}
	if !present(top["calibration"]) {
		return nil
	}
	var cal map[string]json.RawMessage
	if err := json.Unmarshal(top["calibration"], &cal); err != nil {
		return err
	}
	if err := requireMembers(cal, "calibration.", suffix, calibrationRequired); err != nil {
		return err
	}
	var ms []json.RawMessage
	if err := json.Unmarshal(cal["measurements"], &ms); err != nil {
		return err
	}
	for i, m := range ms {
		if err := requireObject(m, fmt.Sprintf("calibration.measurements[%d].", i), suffix, measurementRequired); err != nil {
			return err
		}
	}
	return nil
}

// present reports whether a member was given a value other than null.
func present(raw json.RawMessage) bool { return raw != nil && string(raw) != "null" }

func requireObject(raw json.RawMessage, path, suffix string, names []string) error {
	if !present(raw) {
		return fmt.Errorf("missing member %s", path[:len(path)-1])
	}
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(raw, &obj); err != nil {
		return err
	}
	return requireMembers(obj, path, suffix, names)
}

func requireMembers(obj map[string]json.RawMessage, path, suffix string, names []string) error {
	for _, n := range names {
		if n[len(n)-1] == '*' {
			n = n[:len(n)-1] + suffix
		}
		if !present(obj[n]) {
			return fmt.Errorf("missing member %s%s", path, n)
		}
	}
	return nil
}
