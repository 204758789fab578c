package reference

import (
	"encoding/hex"
	"slices"
	"time"
)

// Digest is a SHA-256 digest: of a chunk's bytes, or of a whole payload
// (docs/FORMAT.md, 4.5).
type Digest [32]byte

// String returns the digest in lower-case hex.
func (d Digest) String() string { return hex.EncodeToString(d[:]) }

// Backup is one store as docs/FORMAT.md describes it: what Decode found in
// the superblocks and the journal.
type Backup struct {
	// StoreOff is the chip offset of the store, as given to Decode.
	StoreOff   int64
	Superblock Superblock
	// Area is the journal area in charge (0 or 1), Epoch its checkpoint
	// epoch.
	Area  int
	Epoch uint64
	// Journal lists the area's journal: its valid records with consecutive
	// sequence numbers from the checkpoint-begin, as far as the scan of
	// docs/FORMAT.md 4.6 step 3 reads them.
	Journal []Record
	// Copies lists the valid records at a block's start that the scan
	// skipped as copies of records Journal holds (docs/FORMAT.md 4.6 step
	// 3, copies: records written again at the next block's start after
	// their read-back failed, whose first copy read valid and was taken).
	// They add nothing to the state, but a writer wrote them.
	Copies []Record
	// Applied is how many of them make the state: all unless one could
	// not be applied (a broken precondition, a malformed body), which the
	// findings name; the records from it on are ignored.
	Applied int
	// Torn: the journal ends with an invalid record (a write cut by power
	// loss, which the document says is ignored).
	Torn bool
	// UpgradeCut: the two superblock copies are valid and differ only in
	// their format version (an upgrade cut between the copies, 4.4 and
	// 4.11): power loss, not damage, which the next writer finishes by
	// rewriting the older copy.
	UpgradeCut bool
	// SuperblockCopies are the two superblock copies, the one Superblock
	// is and the rule that chose it (docs/FORMAT.md 4.4).
	SuperblockCopies SuperblockCopies

	// Committed is the committed state S.
	Committed State
	// Staged is the configuration staged after the last commit, or nil.
	Staged *Config
	// Pending is the intent without a commit or purged mark (an
	// interrupted round), or nil.
	Pending *Intent
	// LastPurged is the last intent the journal marks purged, or nil.
	LastPurged *Intent
	// CommittedIntent is the intent the newest commit committed, or nil
	// if that commit had none (a round that changed nothing) or the
	// journal holds no commit since its checkpoint: the blocks a round
	// named, spares included, are what it may erase and program
	// (docs/FORMAT.md, 4.7).
	CommittedIntent *Intent
	// Cursor and Wraps are the allocation cursor (a data block) and how
	// often it wrapped: from the checkpoint, then from each intent.
	Cursor, Wraps uint32

	// Findings lists damage and power-loss irregularities, in the order
	// they were found.
	Findings []Finding

	// supersededPending holds the blocks of intents that a later intent
	// replaced before a commit or purge: they stay pending too.
	supersededPending []uint32
	// known holds the known-erased sets (erased.go).
	known knownErased
}

// Superblock is the superblock's body (docs/FORMAT.md, 4.4).
type Superblock struct {
	FormatVersion uint32
	ChipID        uint8
	FlashKind     uint8 // 1 NOR, 2 NAND
	PairID        uint64
	StoreSize     int64
	EraseSize     int64 // E, also the chunk size
	SlotSize      int64
	JournalBlocks uint32    // K, blocks per journal area
	JournalFirst  [2]uint32 // first store block of each journal area
	DataFirst     uint32    // first store block of the data area
	DataBlocks    uint32
	MaxChunks     uint32
	Formatted     time.Time
}

// Config is a sync configuration (docs/FORMAT.md, 4.2 `config`).
type Config struct {
	Types       []uint8
	Interval    time.Duration
	Threshold   time.Duration
	Verify      bool
	RetryAtOnce bool
	GroupSize   uint16
}

// Role says which chip is active (docs/FORMAT.md, 4.2 `role`, 4.8).
type Role struct {
	Epoch          uint64
	Active         uint8
	RestorePending bool
}

// Head is a `state head`: the fields of a generation other than its data.
type Head struct {
	Generation    uint64
	Committed     time.Time
	NextSync      time.Time
	Config        Config
	ImageVersion  string
	UpgradeChoice uint8 // 0 none, 1 keep-upgraded, 2 restore-defaults
	GroupNext     uint16
	Role          Role
}

// TypeMeta is a `type meta`: one information type's payload in a
// generation.
type TypeMeta struct {
	Type       uint8
	Phase      uint32 // where the payload starts in the primary's erase block
	Size       int64
	Seq        uint64 // the primary record's sequence number
	Digest     Digest // payload digest
	ChunkCount uint32
}

// Chunk is one chunk of a committed payload: the data block that holds it,
// its 64-bit check and its digest.
type Chunk struct {
	Block  uint32
	Check  uint64
	Digest Digest
	// Deltas (format version 3): the delta records applied, in order,
	// over Block's bytes give the chunk (docs/FORMAT.md, 4.14).
	Deltas []DeltaRef
}

// DeltaRef locates a delta record: data block, offset in it, length.
type DeltaRef struct {
	Block, Off, Len uint32
}

// DeltaBlock is one intent-deltas record: the delta block it fills and
// the chunks whose delta records it holds.
type DeltaBlock struct {
	Block   uint32
	Entries []DeltaEntry
}

// DeltaEntry is one chunk of an intent-deltas record: its delta record's
// place in the delta block, and the chunk's new check and digest.
type DeltaEntry struct {
	Type     uint8
	Index    uint32
	Off, Len uint32
	Check    uint64
	Digest   Digest
}

// TypeState is a type of the committed state: its metadata and chunk map
// (chunk i is Chunks[i]).
type TypeState struct {
	TypeMeta
	Chunks []Chunk
}

// State is the committed state S: a head and the types, sorted by type.
type State struct {
	Head
	Types []TypeState
}

// Type returns the committed state of type t, if the state holds it.
func (s *State) Type(t uint8) (*TypeState, bool) {
	for i := range s.Types {
		if s.Types[i].Type == t {
			return &s.Types[i], true
		}
	}
	return nil, false
}

// SpareType is the type of an intent entry that is a spare block: erased
// with its window by the round and left free (docs/FORMAT.md, 4.3).
const SpareType uint8 = 0

// IntentEntry is one entry of an intent-chunks record.
type IntentEntry struct {
	Type   uint8 // SpareType for a spare
	Index  uint32
	Block  uint32
	Check  uint64
	Digest Digest
}

// Intent is a round in progress: the intent record and the entries of the
// intent-chunks records that followed it.
type Intent struct {
	Seq          uint64 // the intent record's sequence number
	Generation   uint64
	ChunkRecords uint16 // p: intent-chunks records that should follow
	RecordsSeen  int    // intent-chunks records that did
	CursorAfter  uint32
	WrapsAfter   uint32
	Config       Config
	Types        []TypeMeta // the new metadata of each type the round changes
	Entries      []IntentEntry
	Deltas       []DeltaBlock // intent-deltas records (format version 3)
}

// Complete reports whether all the intent's chunk records are in the
// journal.
func (in *Intent) Complete() bool { return in.RecordsSeen == int(in.ChunkRecords) }

// Blocks returns the data blocks the intent names (chunks and spares),
// sorted, each once.
func (in *Intent) Blocks() []uint32 {
	bs := make([]uint32, 0, len(in.Entries))
	for _, e := range in.Entries {
		bs = append(bs, e.Block)
	}
	for _, d := range in.Deltas {
		bs = append(bs, d.Block)
	}
	return sortedSet(bs)
}

// Record locates one journal record.
type Record struct {
	Kind Kind
	Seq  uint64
	Off  int64 // chip offset
	Size int64 // bytes on flash, padded to the slot
}

// BlocksOfPending returns the data blocks of the pending intent and of any
// intent it superseded without a commit or purge (docs/FORMAT.md, 4.7: "a
// second intent without commit/purge keeps the first's blocks pending
// too"), sorted, each once; nil if no round is pending.
func (b *Backup) BlocksOfPending() []uint32 {
	if b.Pending == nil {
		return nil
	}
	return sortedSet(append(b.Pending.Blocks(), b.supersededPending...))
}

// CommittedBlocks returns the data blocks the committed state's chunk maps
// reference, sorted, each once.
func (b *Backup) CommittedBlocks() []uint32 {
	var bs []uint32
	for _, t := range b.Committed.Types {
		for _, c := range t.Chunks {
			bs = append(bs, c.Block)
			for _, d := range c.Deltas {
				bs = append(bs, d.Block)
			}
		}
	}
	return sortedSet(bs)
}

// Damaged reports whether any finding is damage (see Finding.Damage).
func (b *Backup) Damaged() bool {
	return slices.ContainsFunc(b.Findings, Finding.Damage)
}

func sortedSet(bs []uint32) []uint32 {
	slices.Sort(bs)
	return slices.Compact(bs)
}
