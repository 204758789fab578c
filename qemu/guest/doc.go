// Package guest is the CMC's sync service inside the QEMU guest and the
// protocol between it and the host.
//
// The host (package qemu/scenario) types a [Command] into the guest's
// serial console; `cmcsync guest` parses the same [Command] with
// [Command.Flags] and calls [Run], which opens the engine on the guest's
// chips and runs rounds. Run reports each step as one [Line]: [Prefix]
// followed by the line's JSON, written by a [Writer]. The host reads them
// back with [Parse] (every guest line of the console output) or
// [ParseLine] (one console line, to wait for a given event): it matches
// decoded values (the event, the round), never the JSON text, so neither
// side depends on the order of the fields. A line's step time is
// elapsed_seconds (float seconds, docs/JSON.md); a line of a guest built
// before it, with elapsed_ms, is read and converted.
//
// A line's Event says what it reports:
//
//	format        both chips formatted, the primary filled (ElapsedSeconds)
//	mark-bad      blocks marked bad after the format (Detail)
//	open          the engine opened: recovery done (Generation, Status, Events)
//	repair        torn records on the primary reset to defaults (Detail)
//	round-start   round Round begins (Generation before it)
//	backup-write  round Round's first program or erase of the backup
//	round         round Round ended (Report, Generation, Types, Error)
//	done          every round ran (Status)
//	error         the service stopped (Error)
//
// The power-cut scenario times its cuts from backup-write: see
// docs/DESIGN.md, The QEMU CMC.
package guest
