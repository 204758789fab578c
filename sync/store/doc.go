// Package store is the backup's on-flash format: a power-loss-safe,
// copy-on-write store of information payloads, built for SPI NOR (4 KiB
// erase blocks, programming that only clears bits) and usable on NAND
// (pages programmed whole, once, in order).
//
// A store occupies an erase-aligned range of a chip: two superblock
// copies (written by Format only), two journal areas, and the data area,
// one chunk per erase block (docs/FORMAT.md, Blocks).
//
// Each payload is cut into chunks at the primary's erase-block boundaries
// (so a change in one primary block changes one chunk); each chunk lives in
// one data block and is identified by its SHA-256 digest. A generation is a
// map from (type, chunk index) to (block, digest) plus per-type metadata
// and the configuration committed with it.
//
// A round appends to the journal, in this order: an intent record (the
// "round in progress" mark, listing every data block the round will erase
// or program, and the new chunk digests) — then the chunk data, into free
// blocks only (never a block of the committed generation), from a rotating
// allocation cursor: blocks already known erased first, then whole 64 KiB
// windows erased in one operation, even for a single chunk (their unused
// blocks stay erased for later rounds) — then one commit record. A block
// is programmed only if the store knows it erased: erased by the store
// since its last use, or never written since the format and read back as
// erased just before. Every chunk is read back and compared before the
// round may commit. A 64-bit check (two CRCs) per chunk lets a round hash
// only the chunks that changed. Recovery (Open) reads only the superblocks
// and the journal; an intent without a commit is an interrupted round,
// which Purge erases block by block, reads back to confirm, and then marks
// purged. Records are appended into erased space (programming only);
// journal compaction writes a checkpoint into the other journal area under
// a higher epoch and above every sequence number seen, so a power loss at
// any point leaves one complete area. Every record carries CRC-32C
// checksums; chunks carry SHA-256 digests. docs/FORMAT.md describes the
// bytes (format version 5; version 1 to 4 stores are read and upgraded).
//
// A chunk that changed in a few bytes is committed as a delta record (the
// byte runs where it differs from its base block) packed with the round's
// other delta records into delta blocks, under the same intent and commit
// (docs/FORMAT.md, Deltas); a large change, or a delta block the budget
// cannot keep, folds chunks back into full copies.
//
// Decoders never panic on garbage. Damage is never rolled back silently:
// Open reports what it found (Store.Findings, Store.Damage: kind, journal
// area, chip offset, sequence number) and uses the last intact state; after
// damage to the journal the writer compacts before it writes and trusts no
// data block to be erased. Probe tells what a range holds before Open or
// Format (blank, a format cut by power loss, a store and whose, foreign
// data); Options.Expect makes Open refuse another chip's store, and of two
// superblock copies that differ in identity, one of them the expected,
// use that one (the other is damage, rewritten by a writer).
//
// A Store is not safe for concurrent use. It imports only hal.
package store
