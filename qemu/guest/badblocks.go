package guest

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/cmcsync/cmcsync/hal"
)

// Chip names for BadBlock.
const (
	Primary = "primary"
	Backup  = "backup"
)

// BadBlock is an erase block to mark bad: its chip (Primary or Backup) and
// its number on that chip. Text: "primary:12".
type BadBlock struct {
	Chip  string
	Block int64
}

// String returns "CHIP:BLOCK".
func (b BadBlock) String() string { return b.Chip + ":" + strconv.FormatInt(b.Block, 10) }

// ErrBadBlockList is wrapped by the errors of ParseBadBlocks.
var ErrBadBlockList = errors.New("bad block list")

// ParseBadBlocks reads a comma-separated list of CHIP:BLOCK items, CHIP
// primary or backup and BLOCK a block number from 0, as FormatBadBlocks
// writes it. The empty string is the empty list.
func ParseBadBlocks(s string) ([]BadBlock, error) {
	if s == "" {
		return nil, nil
	}
	var out []BadBlock
	for _, item := range strings.Split(s, ",") {
		chip, num, ok := strings.Cut(strings.TrimSpace(item), ":")
		b, err := strconv.ParseInt(num, 10, 64)
		if !ok || err != nil || b < 0 {
			return nil, fmt.Errorf("%w: %q is not primary:BLOCK or backup:BLOCK (a block number from 0)", ErrBadBlockList, item)
		}
		if chip != Primary && chip != Backup {
			return nil, fmt.Errorf("%w: %q: the chip must be primary or backup", ErrBadBlockList, item)
		}
		out = append(out, BadBlock{Chip: chip, Block: b})
	}
	return out, nil
}

// FormatBadBlocks writes the list ParseBadBlocks reads.
func FormatBadBlocks(list []BadBlock) string {
	s := make([]string, len(list))
	for i, b := range list {
		s[i] = b.String()
	}
	return strings.Join(s, ",")
}

// markBlocksBad marks the listed blocks bad on the primary pf or the
// backup bf.
func markBlocksBad(pf, bf hal.Flash, list []BadBlock) error {
	for _, b := range list {
		f := pf
		if b.Chip == Backup {
			f = bf
		}
		if err := hal.MarkBad(f, b.Block*f.Geometry().EraseSize); err != nil {
			return fmt.Errorf("mark %s block %d bad: %w", b.Chip, b.Block, err)
		}
	}
	return nil
}
