// Package reference is an independent decoder of the backup store, written
// from docs/FORMAT.md alone ("4. Backup store" and its sections 4.1 to 4.9),
// for oracles that must not trust the code under test.
//
// The store's own reader (sync/store) rebuilds the committed generation by
// replaying its journal; an oracle that decodes the backup with that same
// reader cannot see a replay bug. This package shares no code with
// sync/store, sync/engine or sync/info and imports none of them: it frames
// records, scans the journal areas, selects the area in charge, checks the
// checkpoint and replays the transitions of docs/FORMAT.md, "4.7 States and
// transitions", itself. Where the two readers disagree, one of them, or the
// document, is wrong.
//
// [Decode] reads the superblocks and the journal (never the data area) and
// returns a [Backup]: the superblock, the journal area in charge, the
// committed state with every type's metadata and chunk map, the staged
// configuration, the pending (interrupted) intent, the last purged intent,
// the allocation cursor, and the [Finding]s: damage the document calls
// damage (a bad record followed by good ones, a gap in sequence numbers, a
// record that breaks its precondition, an inconsistent checkpoint, ...) and
// the benign irregularities of power loss (a torn tail, a compaction cut
// before its checkpoint-end). Decode stops replaying at damage — the state
// is the one before it, as the document says — but it reports the damage
// instead of stopping silently. Only a store with no usable state at all (no
// valid superblock, no complete checkpoint) is an error.
//
// [Decode] is a reader that does not know which chip of which pair the
// store is: of two valid superblock copies that differ it uses copy 0;
// [DecodeAs], given the chip's identity (chip A is chip id 0, chip B chip
// id 1, and the other chip's pair id), uses the one copy that carries it,
// as the engine does (docs/FORMAT.md 4.4). Either says in
// [Backup.SuperblockCopies] what each copy holds, the copy used, and the
// rule that chose it.
//
// [Backup.Payload] reassembles a type's payload from the data area and
// checks every chunk digest and the payload digest; [Backup.VerifyChunks]
// lists the committed chunks whose bytes do not match.
//
// Decode never panics on garbage, and its work is bounded by the store's
// size: it reads the superblocks, the first block of each journal area, and
// the areas it tries (the one in charge, and the other when it falls back),
// and every count it allocates for is checked against the data area first.
package reference
