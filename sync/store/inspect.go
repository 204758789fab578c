package store

import (
	"errors"
	"fmt"
	"time"

	"github.com/cmcsync/cmcsync/hal"
)

// Report is a read-only decoding of a store, for inspect and for oracles.
type Report struct {
	Superblock Superblock `json:"superblock"`
	// Copies are the two superblock copies, the one Superblock is, and why
	// (docs/FORMAT.md, 4.4 Superblock, Which reader knows the identity).
	Copies  SuperblockCopies `json:"superblock_copies"`
	Journal struct {
		Area    int    `json:"area"`    // journal area in use (0 or 1)
		Epoch   uint64 `json:"epoch"`   // its checkpoint epoch
		Records int    `json:"records"` // valid records in it
		Tail    int64  `json:"tail"`    // chip offset where the next record goes
		// Torn: the journal ends with an invalid write (a record cut by
		// power loss, or damage to the last record): it is ignored.
		Torn bool         `json:"torn"`
		Log  []RecordInfo `json:"log"` // the valid records, in order
	} `json:"journal"`
	Generation    uint64        `json:"generation"`
	Time          time.Time     `json:"time"`
	NextSync      time.Time     `json:"next_sync"`
	Config        Config        `json:"config"`
	Staged        *Config       `json:"staged,omitempty"`
	ImageVersion  string        `json:"image_version"`
	UpgradeChoice uint8         `json:"upgrade_choice"`
	GroupNext     uint16        `json:"group_next"`
	Role          Role          `json:"role"`
	Types         []TypeReport  `json:"types"`
	Interrupted   *Interrupted  `json:"interrupted,omitempty"`
	LastPurged    *Interrupted  `json:"last_purged,omitempty"`
	Damage        []string      `json:"damage,omitempty"`
	Findings      []Finding     `json:"findings,omitempty"` // Damage as found at Open, structured
	Verified      bool          `json:"verified"`           // chunks were read and checked
	BadChunks     []ChunkReport `json:"bad_chunks,omitempty"`
}

// RecordInfo locates one journal record.
type RecordInfo struct {
	Kind string `json:"kind"`
	Seq  uint64 `json:"seq"`
	Off  int64  `json:"off"`  // chip offset
	Size int64  `json:"size"` // bytes on flash, padded to the slot
}

// TypeReport is one type of the committed generation.
type TypeReport struct {
	Type   uint8  `json:"type"`
	Size   int64  `json:"size"`
	Seq    uint64 `json:"seq"`
	Phase  uint32 `json:"phase"`
	Digest string `json:"digest"`
	Chunks int    `json:"chunks"`
}

// ChunkReport is a committed chunk that failed verification.
type ChunkReport struct {
	Type  uint8  `json:"type"`
	Index int    `json:"index"`
	Block uint32 `json:"block"`
	Error string `json:"error"`
}

// Inspect decodes the store in [off, off+size) of f without writing: the
// committed generation, its configuration, role and types, any interrupted
// round, damage found. With verify it also reads every committed chunk and
// checks its digest. An unreadable store returns an error saying why.
func Inspect(f hal.Flash, off, size int64, verify bool) (*Report, error) {
	s, err := Open(f, off, size, Options{ReadOnly: true})
	if err != nil {
		return nil, err
	}
	return s.Report(verify), nil
}

// Report describes the open store (see Inspect).
func (s *Store) Report(verify bool) *Report {
	st := &s.committed
	r := &Report{Superblock: s.layout, Generation: st.Generation, Time: st.Time, NextSync: st.NextSync,
		Config: st.Config.clone(), ImageVersion: st.ImageVersion, UpgradeChoice: st.UpgradeChoice,
		GroupNext: st.GroupNext, Role: st.Role, Interrupted: s.Interrupted(), LastPurged: s.LastPurged(),
		Damage: s.Damage(), Findings: s.Findings(), Copies: s.superblockCopies()}
	r.Journal.Area, r.Journal.Epoch, r.Journal.Records = s.area, s.epoch, s.recordCount
	r.Journal.Tail = s.areaOff(s.area) + s.tailBlock*s.eraseSize + s.tailOffset
	r.Journal.Torn = s.torn
	for _, x := range s.log {
		r.Journal.Log = append(r.Journal.Log, RecordInfo{Kind: kindName(x.kind), Seq: x.seq, Off: x.off, Size: x.size})
	}
	if c, ok := s.Staged(); ok {
		r.Staged = &c
	}
	for _, t := range st.Types {
		r.Types = append(r.Types, TypeReport{Type: t.Type, Size: t.Size, Seq: t.Seq, Phase: t.Phase, Digest: t.Digest.String(), Chunks: len(t.Chunks)})
	}
	if verify {
		r.Verified = true
		for _, b := range s.VerifyChunks() {
			r.BadChunks = append(r.BadChunks, ChunkReport{Type: b.Type, Index: b.Index, Block: b.Block, Error: b.Err.Error()})
			r.Damage = append(r.Damage, fmt.Sprintf("type %d chunk %d (data block %d) fails its digest", b.Type, b.Index, b.Block))
		}
	}
	return r
}

// CopyState is what one superblock copy's slot holds.
type CopyState string

// Copy states.
const (
	CopyValid   CopyState = "valid"         // a superblock of a version this package reads
	CopyErased  CopyState = "erased"        // the slot reads erased
	CopyIntent  CopyState = "format-intent" // a format intent (Superblock is its body)
	CopyInvalid CopyState = "invalid"       // anything else (Error says what)
	CopyUnread  CopyState = "unread"        // not read again (Error says why)
)

// SuperblockCopy is one superblock copy as inspect reports it.
type SuperblockCopy struct {
	Off        int64       `json:"off"` // chip offset
	State      CopyState   `json:"state"`
	Superblock *Superblock `json:"superblock,omitempty"` // valid or format-intent
	Error      string      `json:"error,omitempty"`
}

// SuperblockCopies are a store's two superblock copies, the one its
// reader used, and why (the rule of docs/FORMAT.md 4.4 that chose it).
// AsChip, when the two valid copies differ in chip id, is the copy a
// reader knowing the chip would use as chip A (AsChip[0]) and as chip B
// (AsChip[1]); nil otherwise.
type SuperblockCopies struct {
	Copies [2]SuperblockCopy `json:"copies"`
	Used   int               `json:"used"`
	Why    string            `json:"why"`
	AsChip *[2]int           `json:"as_chip,omitempty"`
}

// Differ reports whether the copies are not two valid, equal ones.
func (c SuperblockCopies) Differ() bool {
	a, b := c.Copies[0], c.Copies[1]
	return a.State != CopyValid || b.State != CopyValid || *a.Superblock != *b.Superblock
}

// superblockCopies reads the two copies again (Open keeps only the one it
// used, s.layout) and says which one that is and why.
func (s *Store) superblockCopies() SuperblockCopies {
	var out SuperblockCopies
	var sbs [2]*Superblock
	for i := range 2 {
		c := &out.Copies[i]
		c.Off = s.offset + int64(i)*s.eraseSize
		if int64(i+1)*s.eraseSize > s.size {
			c.State, c.Error = CopyUnread, "beyond the store range"
			continue
		}
		got, err := readSuperblockCopy(s.flash, c.Off, slotSize(s.flash.Geometry()), s.opts.TrustRecords)
		switch {
		case err != nil:
			c.State, c.Error = CopyUnread, err.Error()
		case got.erased:
			c.State = CopyErased
		case got.good:
			sb := got.sb
			c.State, c.Superblock, sbs[i] = CopyValid, &sb, &sb
		case got.intent:
			sb := got.sb
			c.State, c.Superblock = CopyIntent, &sb
		default:
			c.State, c.Error = CopyInvalid, got.err.Error()
			if errors.Is(got.err, ErrVersion) {
				// A version this package does not read: its fields are
				// still worth showing.
				sb := got.sb
				c.Superblock = &sb
			}
		}
	}
	out.Used, out.Why = s.whyCopy(out.Copies, sbs)
	if a, b := sbs[0], sbs[1]; a != nil && b != nil && a.ChipID != b.ChipID {
		var as [2]int
		as[a.ChipID], as[b.ChipID] = 0, 1
		out.AsChip = &as
	}
	return out
}

// whyCopy returns the copy s.layout is and the rule that chose it
// (docs/FORMAT.md 4.4, Choosing a copy); sbs are the valid ones of
// copies.
func (s *Store) whyCopy(copies [2]SuperblockCopy, sbs [2]*Superblock) (int, string) {
	a, b := sbs[0], sbs[1]
	switch {
	case a != nil && b != nil && *a == *b:
		return 0, "the two copies are equal"
	case a != nil && b != nil && sameLayout(*a, *b):
		used := 0
		if s.layout == *b {
			used = 1
		}
		return used, fmt.Sprintf("the copies differ in their format version only (an upgrade cut by power loss): the higher version, copy %d", used)
	case a != nil && b != nil:
		if i, ok := s.expectedCopy([2]superblockCopy{{sb: *a}, {sb: *b}}); ok {
			e := s.opts.Expect
			return i, fmt.Sprintf("the copies differ (damage): copy %d carries the expected identity (chip id %d, pair %#x), copy %d does not", i, e.ChipID, sbs[i].PairID, 1-i)
		}
		why := "the copies differ (damage) and this reader does not know which chip of which pair the store is: copy 0 (docs/FORMAT.md 4.4)"
		if s.opts.Expect != nil {
			why = "the copies differ (damage) and neither or both carry the expected identity: copy 0 (docs/FORMAT.md 4.4)"
		}
		if a.ChipID != b.ChipID {
			why += fmt.Sprintf("; the engine, which knows, uses copy %d on chip A (chip id 0) and copy %d on chip B (chip id 1), and rewrites the other", index(a.ChipID == 0), index(a.ChipID == 1))
		} else if a.PairID != b.PairID {
			why += "; the engine, which knows, uses the copy of the other chip's pair and rewrites the other"
		}
		return 0, why
	case a != nil:
		return 0, "copy 0 is the only valid copy"
	case b != nil && copies[0].State == CopyIntent && sameLayout(*copies[0].Superblock, *b):
		return 1, "copy 0 holds the format intent of copy 1's store (a format cut at its last step): copy 1"
	case b != nil:
		return 1, "copy 1 is the only valid copy"
	}
	return 0, "neither copy is a valid superblock"
}

// index is 0 for true, 1 for false: the copy a reader uses when copy 0
// is (true) or is not (false) the one it wants.
func index(copy0 bool) int {
	if copy0 {
		return 0
	}
	return 1
}
