package info

import (
	"fmt"
	"strings"
)

// Type is one of the preset information types a CMC keeps and the sync
// engine copies from the primary image to the backup. The numeric values are
// stored on flash (region header, record header): they never change.
type Type uint8

// The six preset information types, in the order of the region layout.
const (
	// Power: power-supply (PSU) inventory, state and readings, the power
	// policy, and a power telemetry history.
	Power Type = iota + 1
	// Fan: fan inventory, RPM/PWM readings, the fan control mode, and a fan
	// telemetry history.
	Fan
	// Node: per-node (blade/sled) power state, health, BIOS/BMC versions and
	// a state-change history.
	Node
	// EventLog: the node event log, IPMI System Event Log (SEL) entries in the
	// 16-byte IPMI format.
	EventLog
	// FaultLog: the node fault log, 64-byte fault entries with codes,
	// severities and messages.
	FaultLog
	// Asset: node asset information, IPMI FRU images (board and product
	// areas) of the chassis, every node and every PSU.
	Asset
)

// NumTypes is the number of preset information types.
const NumTypes = 6

var typeNames = [...]string{Power: "power", Fan: "fan", Node: "node", EventLog: "event-log", FaultLog: "fault-log", Asset: "asset"}

// All returns the six preset types in layout order (a new slice each call).
func All() []Type { return []Type{Power, Fan, Node, EventLog, FaultLog, Asset} }

// Valid reports whether t is one of the six preset types.
func (t Type) Valid() bool { return t >= Power && t <= Asset }

// String returns the stable name: "power", "fan", "node", "event-log",
// "fault-log" or "asset"; "type(N)" for an invalid value.
func (t Type) String() string {
	if t.Valid() {
		return typeNames[t]
	}
	return fmt.Sprintf("type(%d)", uint8(t))
}

// ParseType parses a stable name (as String returns it, any case; "eventlog",
// "sel", "faultlog" and "fru" are accepted as aliases).
func ParseType(s string) (Type, error) {
	n := strings.ToLower(strings.TrimSpace(s))
	for _, t := range All() {
		if n == t.String() {
			return t, nil
		}
	}
	switch n {
	case "eventlog", "event_log", "sel":
		return EventLog, nil
	case "faultlog", "fault_log":
		return FaultLog, nil
	case "fru":
		return Asset, nil
	}
	return 0, fmt.Errorf("unknown information type %q (want one of %s)", s, strings.Join(names(), ", "))
}

// ParseList parses a comma-separated list of type names ("power,fan") or
// "all". The result is in layout order without duplicates. An empty list is
// an error.
func ParseList(s string) ([]Type, error) {
	if strings.EqualFold(strings.TrimSpace(s), "all") {
		return All(), nil
	}
	var seen [NumTypes + 1]bool
	for _, part := range strings.Split(s, ",") {
		if strings.TrimSpace(part) == "" {
			continue
		}
		t, err := ParseType(part)
		if err != nil {
			// A list, unlike one type, may also be "all".
			return nil, fmt.Errorf("unknown information type %q (want one of %s, or all)", part, strings.Join(names(), ", "))
		}
		seen[t] = true
	}
	var out []Type
	for _, t := range All() {
		if seen[t] {
			out = append(out, t)
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("empty information type list %q (want e.g. power,fan or all)", s)
	}
	return out, nil
}

// FormatList joins type names with commas, e.g. "power,fan"; "all" when ts
// holds each of the six types exactly once. ParseList parses it back.
func FormatList(ts []Type) string {
	var seen [NumTypes + 1]bool
	distinct := 0
	parts := make([]string, 0, len(ts))
	for _, t := range ts {
		if t.Valid() && !seen[t] {
			seen[t] = true
			distinct++
		}
		parts = append(parts, t.String())
	}
	if distinct == NumTypes && len(ts) == NumTypes {
		return "all"
	}
	return strings.Join(parts, ",")
}

func names() []string {
	var out []string
	for _, t := range All() {
		out = append(out, t.String())
	}
	return out
}

// Explanation is the detailed text the information sync selection page shows
// for one checkbox when it is clicked or focused.
type Explanation struct {
	// Title is the checkbox label, e.g. "Node event log (SEL)".
	Title string
	// Holds says what the information is, field by field.
	Holds string
	// WhyBackup says why the backup image needs it after a failover.
	WhyBackup string
	// TypicalSize gives its size on a standard 8 MiB information region.
	TypicalSize string
	// ChangeRate says how often it changes on a running CMC.
	ChangeRate string
}

var explanations = [...]Explanation{
	Power: {
		Title: "Power supply information",
		Holds: "The chassis power policy (redundancy mode N, N+1 or N+N, power cap on/off and cap in watts, " +
			"cumulative energy in kWh) " +
			"and one 64-byte record per PSU slot (6 slots): presence, state (ok, warning, failed, standby, absent), " +
			"rated watts, input and output watts, input voltage, temperature, PSU fan duty, model name, " +
			"serial number and PSU firmware version. After that, the power telemetry history: 16-byte samples " +
			"(time, chassis input and output watts, active cap, PSU-ok mask, peak and minimum watts) that the " +
			"power charts and the energy report are drawn from.",
		WhyBackup: "After a failover the backup image must enforce the same redundancy policy and power cap at once: " +
			"a CMC that boots with a default cap can throttle or over-commit a loaded chassis. The PSU " +
			"serials and states tell the new image which supply had failed, and the telemetry history keeps the " +
			"power trend and energy accounting continuous across the switch.",
		TypicalSize: "400 bytes of policy and PSU records plus the telemetry history: about 845 KiB in a " +
			"1,056 KiB extent of the standard 8 MiB region (history 80% full, about 54,000 samples).",
		ChangeRate: "Often: readings move every few seconds and a telemetry sample is appended several times a " +
			"minute; the policy and PSU identities change only when an operator or a PSU swap changes them. " +
			"About 1% of its bytes change in 10 minutes.",
	},
	Fan: {
		Title: "Fan information",
		Holds: "The fan control mode (automatic or manual, manual duty, minimum duty, temperature target) and " +
			"one 16-byte record per fan (12 fans): presence, state, PWM duty in percent, measured and target " +
			"RPM, maximum RPM, cooling zone and running hours. After that, the fan telemetry history: 16-byte " +
			"samples (time, fan, PWM, RPM, inlet and exhaust temperature).",
		WhyBackup: "The backup image must resume the same cooling policy (a manual duty or a raised minimum " +
			"set by the operator) instead of a factory curve, and must know which fans had failed so that it " +
			"compensates on their zones from the first second after the failover.",
		TypicalSize: "208 bytes of mode and fan records plus the history: about 845 KiB in a 1,056 KiB " +
			"extent of the standard 8 MiB region (history 80% full, about 54,000 samples).",
		ChangeRate: "Very often: RPM and PWM move with every control loop (seconds). About 1% of its bytes " +
			"change in 10 minutes.",
	},
	Node: {
		Title: "Node information",
		Holds: "One 128-byte record per node slot (16 slots): presence, power state (off, on, standby, " +
			"cycling), health, power draw, boot count, boot time, BIOS version, BMC firmware version, host " +
			"name, management IPv4 and MAC address. After that, the node history: 16-byte " +
			"entries (time, node, kind — telemetry sample or state change — power state, health, power " +
			"draw, CPU and inlet temperature, BIOS POST code, previous power state).",
		WhyBackup: "The backup image must know which nodes were powered on, and with which firmware, to " +
			"restore power states after a CMC failover instead of powering the whole chassis off or on; the " +
			"history explains past power transitions to the operator.",
		TypicalSize: "2 KiB of node records plus the history: about 493 KiB in a 616 KiB extent of the " +
			"standard 8 MiB region (history 80% full, about 31,000 entries).",
		ChangeRate: "Sometimes: the node records change on power actions, reboots and health changes (about " +
			"three times an hour on a busy chassis); telemetry samples are appended every few seconds. About " +
			"0.5% of its bytes change in 10 minutes.",
	},
	EventLog: {
		Title: "Node event log (SEL)",
		Holds: "The IPMI System Event Log of the nodes, gathered by the CMC: SEL information (version 0x51, " +
			"next record ID, last add and erase time, overflow flag) and a ring of 16-byte IPMI SEL records " +
			"(record ID, record type 0x02, timestamp, generator ID, EvM revision 0x04, sensor type, sensor " +
			"number, event direction/type, three event data bytes) for temperature, voltage, fan, PSU, " +
			"memory ECC, processor and watchdog events. When the ring is full the oldest entry is overwritten.",
		WhyBackup: "The event log is the record of what happened before the failure that caused the failover; " +
			"losing it loses the evidence for the root cause and for warranty claims. It cannot be recreated: " +
			"only the primary has it.",
		TypicalSize: "The largest type: about 2.5 MiB in a 3,168 KiB extent of the standard 8 MiB region " +
			"(80% full, about 162,000 SEL entries).",
		ChangeRate: "Continuously, append-only: a few entries per second on a busy chassis (0.8% of the " +
			"ring's slots, about 1,600 entries, in 10 minutes); appended entries land in contiguous bytes.",
	},
	FaultLog: {
		Title: "Node fault log",
		Holds: "The CMC's fault log: a ring of 64-byte fault entries (time, entry ID, node, severity — info, " +
			"warning, critical — component, state asserted or cleared, fault code, and a 44-character message " +
			"such as \"PSU2 input lost\" or \"DIMM A3 uncorrectable ECC\"), preceded by the next entry ID and " +
			"the count of active faults.",
		WhyBackup: "Active faults drive the chassis fault LED, alerts and service decisions; a backup image " +
			"without them would report a healthy chassis and lose the service history that explains the " +
			"failover.",
		TypicalSize: "About 1.65 MiB in a 2,112 KiB extent of the standard 8 MiB region (80% full, about " +
			"27,000 entries).",
		ChangeRate: "Continuously, append-only, slower than the event log (0.6% of the ring's slots, about " +
			"200 entries, in 10 minutes).",
	},
	Asset: {
		Title: "Node asset information (FRU)",
		Holds: "IPMI FRU images (256 bytes each, IPMI Platform Management FRU format: common header, board " +
			"info area with manufacturing date, manufacturer, product name, serial and part number, and " +
			"product info area with manufacturer, name, model, version, serial and asset tag, each area " +
			"zero-checksummed) for the chassis, the 16 node slots and the 6 PSU slots.",
		WhyBackup: "Asset and inventory data identify every part for the data-centre inventory and for " +
			"service; after a failover the backup image must report the same inventory and asset tags, " +
			"which an operator may have set by hand.",
		TypicalSize: "About 6 KiB (23 FRU images of 256 bytes) in a 180 KiB extent of the standard 8 MiB " +
			"region, the rest reserved for growth.",
		ChangeRate: "Rarely: when a node, PSU or the chassis is replaced or an asset tag is edited — days to " +
			"months apart.",
	},
}

// Explanation returns the detailed explanation of t for the selection page;
// the zero Explanation for an invalid type.
func (t Type) Explanation() Explanation {
	if !t.Valid() {
		return Explanation{}
	}
	return explanations[t]
}
