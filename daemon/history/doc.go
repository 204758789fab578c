// Package history is a durable, bounded, append-only log of records kept
// in a folder: what the daemon keeps of its events, rounds and counters so
// that a restart, a kill or a power cut does not erase what happened
// before it.
//
// # Files
//
// The log lives in two segment files of the folder: CurrentFile, which
// records are appended to, and PreviousFile, the segment before it. When
// an append would take the current segment past Options.MaxBytes, the
// current segment is fsynced and renamed over the previous one (which is
// dropped) and a new current segment begins. The log therefore holds
// between MaxBytes and 2 × MaxBytes of the newest records, and never more.
//
// A segment is the 8-byte magic "cmchist1" followed by records:
//
//	4 bytes  payload length n, little-endian (1 .. MaxRecord)
//	4 bytes  CRC-32C (Castagnoli) of the length bytes and the payload
//	n bytes  payload
//
// # Durability
//
// Append writes a record with one write(2), so a killed process loses no
// record Append returned for; Sync fsyncs, so a power cut loses no record
// written before the last Sync. A record cut by a power cut (a torn tail)
// fails its CRC: Open ignores it and everything after it in that segment,
// reports it in Loaded.Damage, and truncates the current segment back to
// its last whole record before appending. A write that fails (a full
// disk) is undone the same way.
//
// The payload's encoding is the caller's; the package knows only bytes.
package history
