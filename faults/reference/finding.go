package reference

import "fmt"

// FindingKind classifies a finding.
type FindingKind uint8

// Finding kinds. All are damage (Finding.Damage) except TornTail,
// TornSkipped and CheckpointIncomplete, which power loss leaves behind.
const (
	// SuperblockDamaged: a superblock copy is invalid, or the two valid
	// copies differ (docs/FORMAT.md, 4.4: "two identical copies").
	SuperblockDamaged FindingKind = iota + 1
	// LayoutMismatch: the superblock contradicts the layout rules of
	// docs/FORMAT.md, 4.1 and 4.4 (K formula, data area size).
	LayoutMismatch
	// CheckpointIncomplete: an area's checkpoint has no checkpoint-end (a
	// compaction cut by power loss, 4.9); the other area was used.
	CheckpointIncomplete
	// CheckpointDamaged: an area's checkpoint records are valid but
	// contradict each other or the superblock (4.6 step 4).
	CheckpointDamaged
	// RecordDamaged: a valid record follows an invalid record (or an erased
	// slot) in the same erase block (4.6 step 3).
	RecordDamaged
	// SequenceGap: a valid record carries a higher sequence number than
	// the one expected (4.6 step 3).
	SequenceGap
	// SequenceBackwards: a valid record in the chain of a block carries a
	// lower sequence number than expected.
	SequenceBackwards
	// RecordsLost: after the end of the journal, the area holds a valid
	// record with a sequence number at least the expected one: records of
	// the current epoch are unreadable (an invalid first record of a block
	// ended the journal), or stale ones lie where the journal may run into
	// them. 4.6 step 3 says stale records have lower sequence numbers.
	RecordsLost
	// BodyMalformed: a valid record whose body or header does not decode
	// as its kind says (a field out of range, a wrong length).
	BodyMalformed
	// PreconditionBroken: a record that breaks its precondition (4.7),
	// including a generation whose metadata contradicts its chunks (4.5).
	PreconditionBroken
	// AreaUnknown: a journal area whose first record is valid but not a
	// checkpoint-begin.
	AreaUnknown
	// TornTail: the journal ends with an invalid record, a write cut by
	// power loss (ignored; 4.6 step 3).
	TornTail
	// TornSkipped: an invalid record ends a block and the journal
	// continues at the start of the next block (the writer moved on after
	// a torn or failed write).
	TornSkipped
)

var findingNames = [...]string{
	SuperblockDamaged:    "superblock-damaged",
	LayoutMismatch:       "layout-mismatch",
	CheckpointIncomplete: "checkpoint-incomplete",
	CheckpointDamaged:    "checkpoint-damaged",
	RecordDamaged:        "record-damaged",
	SequenceGap:          "sequence-gap",
	SequenceBackwards:    "sequence-backwards",
	RecordsLost:          "records-lost",
	BodyMalformed:        "body-malformed",
	PreconditionBroken:   "precondition-broken",
	AreaUnknown:          "area-unknown",
	TornTail:             "torn-tail",
	TornSkipped:          "torn-skipped",
}

// String returns the kind's name, e.g. "sequence-gap".
func (k FindingKind) String() string {
	if int(k) < len(findingNames) && findingNames[k] != "" {
		return findingNames[k]
	}
	return fmt.Sprintf("finding(%d)", uint8(k))
}

// Finding is one irregularity Decode met: what, and where.
type Finding struct {
	Kind FindingKind
	// Area is the journal area (0 or 1), or -1 for the superblocks.
	Area int
	// Off is the chip offset of the record or copy concerned.
	Off int64
	// Seq is the sequence number involved (the record's, or the one
	// expected there), 0 if none.
	Seq    uint64
	Detail string
}

// Damage reports whether the finding is damage rather than a trace of
// power loss that the format tolerates.
func (f Finding) Damage() bool {
	switch f.Kind {
	case TornTail, TornSkipped, CheckpointIncomplete:
		return false
	}
	return true
}

// String formats the finding on one line, e.g.
// "sequence-gap at 0x9a3100 (area 0, seq 42): ...".
func (f Finding) String() string {
	where := "superblock"
	if f.Area >= 0 {
		where = fmt.Sprintf("area %d", f.Area)
	}
	if f.Seq != 0 {
		where += fmt.Sprintf(", seq %d", f.Seq)
	}
	return fmt.Sprintf("%s at %#x (%s): %s", f.Kind, f.Off, where, f.Detail)
}

// findingList collects findings.
type findingList []Finding

func (l *findingList) add(k FindingKind, area int, off int64, seq uint64, format string, args ...any) {
	*l = append(*l, Finding{Kind: k, Area: area, Off: off, Seq: seq, Detail: fmt.Sprintf(format, args...)})
}

func (b *Backup) find(k FindingKind, area int, off int64, seq uint64, format string, args ...any) {
	(*findingList)(&b.Findings).add(k, area, off, seq, format, args...)
}
