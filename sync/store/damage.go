// Damage: what Open and later reads found wrong with the store, where, and
// in plain words (docs/FORMAT.md, "Journal: reading" says what is damage
// and what is a trace of power loss).

package store

import (
	"fmt"
	"slices"
)

// FindingKind classifies damage.
type FindingKind uint8

// Kinds of damage.
const (
	// SuperblockDamaged: a superblock copy is invalid, or the two valid
	// copies differ.
	SuperblockDamaged FindingKind = iota + 1
	// CheckpointDamaged: a journal area's checkpoint is inconsistent, or
	// its checkpoint-begin is invalid while the area holds records newer
	// than the journal in charge (the store fell back to an older state),
	// or both areas carry one epoch.
	CheckpointDamaged
	// RecordDamaged: a valid record lies after an invalid record or an
	// erased slot in the same erase block.
	RecordDamaged
	// SequenceGap: a valid record carries another sequence number than
	// the one expected.
	SequenceGap
	// RecordsLost: after the end of the journal, the area holds a valid
	// record with a sequence number at least the expected one: records
	// of the journal were lost (an invalid first record of a block ended
	// it).
	RecordsLost
	// RecordRejected: a valid record is malformed or breaks its
	// precondition (docs/FORMAT.md, "States and transitions").
	RecordRejected
	// AreaUnknown: a journal area starts with a valid record that is not
	// a checkpoint-begin.
	AreaUnknown
	// BlockRetired: a data block failed (worn out, bad) and was taken out
	// of use.
	BlockRetired
)

var findingNames = [...]string{
	SuperblockDamaged: "superblock-damaged",
	CheckpointDamaged: "checkpoint-damaged",
	RecordDamaged:     "record-damaged",
	SequenceGap:       "sequence-gap",
	RecordsLost:       "records-lost",
	RecordRejected:    "record-rejected",
	AreaUnknown:       "area-unknown",
	BlockRetired:      "block-retired",
}

// MarshalText returns the kind's name (JSON reports print it).
func (k FindingKind) MarshalText() ([]byte, error) { return []byte(k.String()), nil }

// UnmarshalText parses a kind's name.
func (k *FindingKind) UnmarshalText(b []byte) error {
	for i, n := range findingNames {
		if n != "" && n == string(b) {
			*k = FindingKind(i)
			return nil
		}
	}
	return fmt.Errorf("unknown finding kind %q", b)
}

// String returns the kind's name, e.g. "records-lost".
func (k FindingKind) String() string {
	if int(k) < len(findingNames) && findingNames[k] != "" {
		return findingNames[k]
	}
	return fmt.Sprintf("finding(%d)", uint8(k))
}

// Finding is one piece of damage: what, and where.
type Finding struct {
	Kind FindingKind `json:"kind"`
	// Area is the journal area (0 or 1), or -1 when the finding is not in
	// a journal area (superblocks, data blocks).
	Area int `json:"area"`
	// Off is the chip offset of the record, copy or block concerned.
	Off int64 `json:"off"`
	// Seq is the journal sequence number concerned (the record's, or the
	// one expected there), 0 if none.
	Seq    uint64 `json:"seq,omitempty"`
	Detail string `json:"detail"`
}

// String formats the finding on one line, e.g. "records-lost in journal
// area 0 at 0x1a3000, seq 12: ...".
func (f Finding) String() string {
	where := "superblock"
	switch {
	case f.Area >= 0:
		where = fmt.Sprintf("journal area %d", f.Area)
	case f.Kind == BlockRetired:
		where = "data area"
	}
	where += fmt.Sprintf(" at %#x", f.Off)
	if f.Seq != 0 {
		where += fmt.Sprintf(", seq %d", f.Seq)
	}
	return fmt.Sprintf("%s in %s: %s", f.Kind, where, f.Detail)
}

// journal reports whether the finding is damage to the journal, which may
// hide records of the journal in charge (and so what data blocks they
// used).
func (f Finding) journal() bool { return f.Area >= 0 }

// find records damage.
func (s *Store) find(k FindingKind, area int, off int64, seq uint64, format string, args ...any) {
	s.findings = append(s.findings, Finding{Kind: k, Area: area, Off: off, Seq: seq, Detail: fmt.Sprintf(format, args...)})
}

// Findings lists the damage found while opening or reading, in the order
// it was found.
func (s *Store) Findings() []Finding { return slices.Clone(s.findings) }

// Damage lists the damage found while opening or reading, in plain words
// (each Finding's String).
func (s *Store) Damage() []string {
	out := make([]string, len(s.findings))
	for i, f := range s.findings {
		out[i] = f.String()
	}
	return out
}

// JournalDamaged reports whether Open found damage in the journal: records
// were lost or rejected, so the state is the last intact one, which may be
// older than what the store had committed. The store then compacts before
// it appends (with sequence numbers above every record seen), trusts no
// data block to be erased that it has not erased itself since, and, as the
// lost rounds may have reused data blocks of the intact state, the first
// round that syncs a type reads its committed chunks and writes again
// those that no longer match (a type no round syncs is not checked:
// VerifyChunks does).
func (s *Store) JournalDamaged() bool { return slices.ContainsFunc(s.findings, Finding.journal) }
