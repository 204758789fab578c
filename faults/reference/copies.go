package reference

import "errors"

// Identity is which chip of which pair a store must be (docs/FORMAT.md
// 4.4, Which reader knows the identity): chip id 0 on chip A, 1 on chip
// B; PairID is the other chip's pair id, 0 when not known (any pair).
type Identity struct {
	ChipID uint8
	PairID uint64
}

// carriedBy reports whether sb carries the identity; false for a nil
// identity (a reader that does not know it).
func (id *Identity) carriedBy(sb Superblock) bool {
	return id != nil && sb.ChipID == id.ChipID && (id.PairID == 0 || sb.PairID == id.PairID)
}

// CopyState is what a superblock copy's slot holds.
type CopyState string

// Copy states (docs/FORMAT.md 4.4).
const (
	CopyValid   CopyState = "valid"
	CopyErased  CopyState = "erased"
	CopyIntent  CopyState = "format-intent" // a valid format-intent record
	CopyInvalid CopyState = "invalid"       // anything else; Error says what
	CopyMissing CopyState = "not-found"     // copy 0 invalid and no copy at any power-of-two offset
)

// CopyReport is one superblock copy.
type CopyReport struct {
	Off        int64 // chip offset; -1 when not found
	State      CopyState
	Superblock Superblock // the superblock, or the format intent's body
	Error      string     // why it is not valid
}

func copyReport(off int64, sb Superblock, err error) CopyReport {
	c := CopyReport{Off: off, Superblock: sb}
	switch {
	case err == nil:
		c.State = CopyValid
	case off < 0:
		c.State, c.Error = CopyMissing, err.Error()
	case errors.Is(err, errErased):
		c.State = CopyErased
	case errors.Is(err, errFormatIntent):
		c.State = CopyIntent
	default:
		c.State, c.Error = CopyInvalid, err.Error()
	}
	return c
}

// CopyRule is the rule of docs/FORMAT.md 4.4 (Choosing a copy) that chose
// the copy used.
type CopyRule string

// The rules.
const (
	RuleEqual      CopyRule = "both copies valid and equal"
	RuleUpgradeCut CopyRule = "both valid, differing in the format version only (an upgrade cut): the higher version"
	RuleExpected   CopyRule = "both valid and differing: the one copy that carries the expected identity"
	RuleCopy0      CopyRule = "both valid and differing, the identity being unknown (or carried by both or neither): copy 0"
	RuleOnlyValid  CopyRule = "one copy valid: that one"
	RuleCutFormat  CopyRule = "copy 0 holds the format intent of copy 1's store (a format cut at its last step): copy 1"
)

// SuperblockCopies are a store's two superblock copies (copy 0 at the
// store's offset, copy 1 at E past it), the one used and the rule that
// chose it. AsChip, when the two valid copies differ in chip id, is the
// copy a reader knowing the chip uses as chip A (AsChip[0]) and as chip B
// (AsChip[1]); nil otherwise.
type SuperblockCopies struct {
	Copies [2]CopyReport
	Used   int
	Rule   CopyRule
	AsChip *[2]int
}
