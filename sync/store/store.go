package store

import (
	"errors"
	"fmt"
	"slices"

	"github.com/cmcsync/cmcsync/hal"
)

// Sentinel errors.
var (
	// ErrNotFormatted: neither superblock copy is valid (a blank or foreign
	// range). Format the store.
	ErrNotFormatted = errors.New("store not formatted")
	// ErrFull: the data area has no room for the round's chunks.
	ErrFull = errors.New("store data area full")
	// ErrPending: an interrupted round must be purged first.
	ErrPending = errors.New("an interrupted round is not purged yet")
	// ErrReadOnly: the store was opened read-only.
	ErrReadOnly = errors.New("store opened read-only")
	// ErrPurgeFailed: a block of an interrupted round did not read back as
	// erased after erasing.
	ErrPurgeFailed = errors.New("purge did not verify")
	// ErrVerify: data read back differs from what was written or committed.
	ErrVerify = errors.New("read-back verify failed")
	// ErrVersion: the store's format version is not one this package
	// reads. The error names both versions.
	ErrVersion = errors.New("unsupported store format version")
	// ErrFormatInterrupted (with ErrNotFormatted): a format of the range
	// was cut before its end (its format intent is there, no superblock).
	// Format again.
	ErrFormatInterrupted = errors.New("format interrupted")
	// ErrWrongChip: the store is the other chip's of the pair
	// (Options.Expect): for example a backup chip re-imaged from the
	// primary's dump.
	ErrWrongChip = errors.New("store belongs to the other chip of the pair")
	// ErrForeignPair: the store belongs to another chip pair
	// (Options.Expect).
	ErrForeignPair = errors.New("store belongs to another chip pair")
	// ErrInvalidConfig: a configuration the store cannot keep as given
	// (Config.Validate); nothing was written.
	ErrInvalidConfig = errors.New("invalid store configuration")
)

// Identity is who a store belongs to, from its superblock.
type Identity struct {
	ChipID  uint8  // 0 or 1: which chip of the pair
	PairID  uint64 // the same on both chips of a pair
	Version uint32 // the store's format version (ignored in Options.Expect)
}

// Options adjust how a store is opened. The zero value is the real,
// read-write store.
type Options struct {
	// ReadOnly: never write (no stabilizing, no compaction); rounds, purges
	// and other writes return ErrReadOnly. For inspect and oracles.
	ReadOnly bool
	// Verify: besides reading every chunk back after programming it and
	// comparing it with the bytes written and the check its intent
	// recorded (always done), compare its SHA-256 digest with the one the
	// intent recorded.
	Verify bool
	// Expect, if not nil, is the identity the store must carry: Open
	// refuses a store of another pair (ErrForeignPair; Expect.PairID 0
	// accepts any pair) or of the other chip (ErrWrongChip). Of two valid
	// superblock copies that differ and of which exactly one carries
	// Expect's identity, that one is used and the other is damage
	// (rewritten from it when not ReadOnly).
	Expect *Identity
	// NoDeltas: write every changed chunk whole, never as a delta record
	// (for comparisons; the real engine uses deltas).
	NoDeltas bool
	// Digests, if set, memoises chunk digests by the chunks' exact bytes
	// (see DigestMemo): for a fault harness that opens stores on nearly
	// the same contents again and again. Every check stays as it is.
	Digests *DigestMemo

	// Deliberately broken behaviour for the fault harness's mutants. Each
	// is off in the real engine.

	// TrustRecords skips every CRC and digest check when decoding (the
	// no-crc-check mutant): record CRCs, payload digests of the chunk
	// digests, chunk digests when reading.
	TrustRecords bool
	// SkipPurgeErase makes Purge write its purged mark without erasing or
	// verifying (the no-purge mutant).
	SkipPurgeErase bool
	// EarlyCommit lets Round.Commit run before the chunks are written (the
	// commit-before-durable mutant).
	EarlyCommit bool
	// LateDeltas lets Round.Commit run while the round's delta blocks are
	// still to be written, and Write write them after it (the
	// delta-before-durable mutant).
	LateDeltas bool
}

// Store is an open backup store on one chip. Methods are not safe for
// concurrent use.
type Store struct {
	betweenWrites func() error // see SetBetweenWrites
	// recordCap, when above 0, replaces deltaRecordCap (tests only).
	recordCap int
	// version, when above 0, replaces FormatVersion as the version this
	// writer upgrades to and writes (tests only: a version 4 writer).
	version   uint32
	flash     hal.Flash
	offset    int64 // chip offset of store block 0
	size      int64 // bytes
	opts      Options
	layout    Superblock // the superblock read at Open
	eraseSize int64      // the chip's erase block, also the chunk size
	slotSize  int64      // journal records start at multiples of it

	area       int
	epoch      uint64
	nextSeq    uint64
	tailBlock  int64 // journal block (within the area) of the next append
	tailOffset int64
	// tailReady: the tail block reads erased from tailOffset on (else it is
	// read, and erased if need be, before the first record goes there).
	tailReady   bool
	mustCompact bool // the area may not be appended to: compact first
	// Journal blocks below windowEnd of area windowArea, past the tail, were
	// erased with the 64 KiB erase window the tail entered in this session
	// and not written since (see enterBlock); windowEnd 0: none.
	windowArea int
	windowEnd  int64
	// roundJournal: journal blocks the last committed round wrote to
	// (JournalBlocksUsed).
	roundJournal int
	// cache: committed chunk contents this Store wrote (baseCache).
	cache baseCache

	committed State   // committed generation
	staged    *Config // config set after the last commit
	pending   *intent // interrupted round not yet purged
	purged    *intent // last purged round (for reports)
	cursor    uint32  // allocation cursor: the data block rounds take next
	// wraps: times the cursor went round the data area, or at least 1
	// when the store cannot know that the blocks from the cursor on were
	// not written since the format (after damage to the journal).
	wraps uint32
	// live is kept for the replay's checks (liveStale: a commit changed
	// the committed generation since it was built) and for writes; erased
	// and blank for writes only (incomplete in a read-only store).
	live      blockSet // data blocks referenced by the committed generation
	liveStale bool
	erased    blockSet // data blocks erased by the store since they were last used
	// unread: blocks of erased that EraseAhead erased on NOR without
	// reading them back (only meaningful with erased.has). A round that
	// programs such a block whole reads it back twice, which catches an
	// erase that did not run; any other use reads it once first (the
	// erase check, deferred): see Round.knownErased.
	unread blockSet
	// blank: data blocks not written since the format (from the
	// checkpoint's cursor on while it has not wrapped, less those named
	// by intents since): one that reads erased is erased.
	blank    blockSet
	findings []Finding
	// suspect: types of the committed generation whose chunks the lost
	// records of a damaged journal may have overwritten (their blocks
	// reused by lost rounds): the next round that syncs one checks them.
	suspect map[uint8]bool
	// maxSeqSeen and maxEpochSeen: the highest sequence number and epoch
	// of any valid record Open saw (lost and stale records included): a
	// compaction's checkpoint goes above them.
	maxSeqSeen   uint64
	maxEpochSeen uint64
	lastRecord   record   // the last valid journal record (for stabilizing)
	recordCount  int      // journal records found by Open
	log          []record // the records found by Open
	torn         bool     // the journal ended with a torn write
	// superblockRepair: superblock copies Open found damaged, erased, or
	// holding a format intent or an older version: rewritten unless
	// read-only.
	superblockRepair [2]bool
	round            *Round          // round in progress (between Begin and Commit)
	retired          map[uint32]bool // data blocks taken out of use (worn out, bad, a failed read-back)
}

func (s *Store) areaOff(a int) int64 { return s.offset + int64(s.layout.Journal[a])*s.eraseSize }

func (s *Store) dataOff(b uint32) int64 {
	return s.offset + (int64(s.layout.DataFirst)+int64(b))*s.eraseSize
}

// Open reads the superblocks and the journal (never the data area) and
// rebuilds the committed generation, the staged configuration, the role
// and any interrupted round. Unless read-only, it re-programs the last
// journal record if two reads of it differ (a weakly programmed record
// from a torn write). Open does not purge: call Interrupted and Purge.
//
// Damage that leaves a usable state (one bad superblock copy, records lost
// or rejected in the journal) is reported by Findings and Damage; the state
// is the last intact one, never a silent roll-back (docs/FORMAT.md, Damage
// and power loss). With Options.Expect, Open refuses a store of another
// chip (ErrWrongChip) or pair (ErrForeignPair); a store of a format version
// it does not read is refused (ErrVersion), one whose format was cut is not
// formatted (ErrFormatInterrupted with ErrNotFormatted).
func Open(f hal.Flash, off, size int64, opts Options) (*Store, error) {
	g := f.Geometry()
	if off < 0 || size <= 0 || off > g.Size || size > g.Size-off || g.EraseSize <= 0 || off%g.EraseSize != 0 {
		return nil, fmt.Errorf("store range %#x+%#x does not fit %s or is not erase-aligned", off, size, g.Name)
	}
	s := &Store{flash: f, offset: off, size: size, opts: opts, eraseSize: g.EraseSize}
	if err := s.readSuperblocks(); err != nil {
		return nil, err
	}
	if err := s.checkIdentity(g.Name); err != nil {
		return nil, err
	}
	if err := s.loadJournal(); err != nil {
		return nil, err
	}
	if !opts.ReadOnly {
		if err := s.repairSuperblock(); err != nil {
			return nil, err
		}
	}
	if !opts.ReadOnly && s.lastRecord.size > 0 && g.Kind == hal.NOR {
		again := make([]byte, s.lastRecord.size)
		if _, err := f.ReadAt(again, s.lastRecord.off); err == nil {
			want := encodeRecord(s.lastRecord.kind, s.lastRecord.seq, s.lastRecord.body, s.slotSize)
			if !slices.Equal(again, want) {
				if _, err := f.WriteAt(want, s.lastRecord.off); err != nil {
					return nil, fmt.Errorf("stabilize last journal record: %w", err)
				}
			}
		}
	}
	return s, nil
}

// Superblock returns the store's layout.
func (s *Store) Superblock() Superblock { return s.layout }

// Identity returns who the store belongs to: chip id, pair id and format
// version, from its superblock.
func (s *Store) Identity() Identity { return s.layout.identity() }

func (sb *Superblock) identity() Identity {
	return Identity{ChipID: sb.ChipID, PairID: sb.PairID, Version: sb.Version}
}

// checkIdentity refuses a store whose identity is not Options.Expect.
func (s *Store) checkIdentity(device string) error {
	want := s.opts.Expect
	if want == nil {
		return nil
	}
	got := s.layout.identity()
	if want.PairID != 0 && got.PairID != want.PairID {
		return fmt.Errorf("%w: the store at %#x on %s was formatted for pair %#x, this pair is %#x (a chip of another pair: put the right chip in, or format the pair again, which erases both stores)",
			ErrForeignPair, s.offset, device, got.PairID, want.PairID)
	}
	if got.ChipID != want.ChipID {
		return fmt.Errorf("%w: the store at %#x on %s is chip %d's, expected chip %d's (a copy of the other chip, such as a backup re-imaged from the primary's dump: restore the chip's own image, or format the pair again, which erases both stores)",
			ErrWrongChip, s.offset, device, got.ChipID, want.ChipID)
	}
	return nil
}

// State returns the committed generation. The result shares nothing with
// the store.
func (s *Store) State() State { return s.committed.Clone() }

// StateRef returns the committed generation without copying; the caller
// must not modify it. The store replaces (never modifies in place) the
// chunk maps of committed types, so a shallow copy of the result stays
// valid after later writes.
func (s *Store) StateRef() *State { return &s.committed }

// Staged returns the configuration set after the last commit, if any.
func (s *Store) Staged() (Config, bool) {
	if s.staged == nil {
		return Config{}, false
	}
	return s.staged.clone(), true
}

// Release gives the store's in-memory maps (the committed chunk maps and
// the journal's record list) back for reuse by stores opened later, so that
// opening many stores one after another (a fault campaign) allocates
// little. The store, and any State from StateRef, must not be used
// afterwards. Release is optional: an unreleased store is collected as
// usual.
func (s *Store) Release() {
	for i := range s.committed.Types {
		putChunks(s.committed.Types[i].Chunks)
		s.committed.Types[i].Chunks = nil
	}
	s.committed.Types, s.erased, s.blank, s.live = nil, nil, nil, nil
	putRecords(s.log)
	s.log = nil
}

// ChunkSize returns the chunk size (the erase size).
func (s *Store) ChunkSize() int64 { return s.eraseSize }

// Flash returns the device.
func (s *Store) Flash() hal.Flash { return s.flash }

// JournalRange returns the chip range of both journal areas (and the
// superblocks before them): the store's metadata.
func (s *Store) JournalRange() (off, size int64) {
	return s.offset, int64(s.layout.DataFirst) * s.eraseSize
}

// DataRange returns the chip range of the data area.
func (s *Store) DataRange() (off, size int64) {
	return s.dataOff(0), int64(s.layout.DataBlocks) * s.eraseSize
}

// BlockOffset returns the chip offset of data block b.
func (s *Store) BlockOffset(b uint32) int64 { return s.dataOff(b) }

// SetBetweenWrites sets a function the store calls before each journal
// program that follows another program of the same call (the second and
// later blocks of a long run of records: a round's intent, a compaction's
// checkpoint), nil for none. If it returns an error, the write stops there
// and returns it (wrapped): a writer that watches something else while it
// writes (the engine probes the primary) can stop a long run of records
// as it stops between chunks. A round whose intent stopped this way is
// pending: purge it.
func (s *Store) SetBetweenWrites(f func() error) { s.betweenWrites = f }

// between calls the function SetBetweenWrites set, if any.
func (s *Store) between() error {
	if s.betweenWrites == nil {
		return nil
	}
	if err := s.betweenWrites(); err != nil {
		return fmt.Errorf("journal write stopped: %w", err)
	}
	return nil
}

// SetVerify turns read-back verification of written chunks on or off.
func (s *Store) SetVerify(v bool) { s.opts.Verify = v }
