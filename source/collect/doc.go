// Package collect turns a CMC service's information files into payloads of
// the primary's information region and writes the ones that changed: what
// `cmcsync info put` and `cmcsync info collect` run, and the Go API for a
// service that links cmcsync instead of running it.
//
// Inputs, by type:
//
//   - any type: a payload in the region's own table format
//     (docs/FORMAT.md, "3.1 Payloads"; what `cmcsync info get` prints),
//     checked by info.DecodeTable and written as it is;
//   - event-log: a SEL file, raw 16-byte IPMI records (`ipmitool sel
//     writeraw`) or ipmitool's text form (package source/ipmi/sel): the ring
//     is replaced by its records (the newest that fit), each checked;
//   - asset: an IPMI FRU image (package source/ipmi/fru), checked and
//     written into one 256-byte slot of the asset payload (Options.Slot:
//     0 the chassis, 1–16 the nodes, 17–22 the PSUs), the other slots kept.
//
// Anything else is an error wrapping ErrInput that says what was expected;
// nothing is written then. An empty input (0 bytes; for the event log also
// a SEL file without a record) is refused too, wrapping ErrEmpty: an
// export that failed upstream leaves one, and written it would clear the
// record. Options.AllowEmpty lets an empty SEL file clear the event log
// on purpose; no other type has an empty input.
//
// A service writes with [Put], which skips a payload equal to the stored
// one. Region.Write rewrites a record in place: a power cut during it can
// leave that type's record corrupt until the next write (the engine then
// syncs nothing of that type and reports it), as on a CMC whose services
// write their own records.
package collect
