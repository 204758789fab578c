package mtd

import (
	"fmt"

	"github.com/cmcsync/cmcsync/hal"
)

// ErrReadOnly is wrapped (inside an *hal.OpError) by the error of every
// write, erase and bad-block mark on a [Device] opened with
// [OpenReadOnly]: nothing is asked of the kernel. It wraps
// hal.ErrUnsupported.
var ErrReadOnly = fmt.Errorf("%w: the device was opened read-only (O_RDONLY, for reading only: cmcsync inspect)", hal.ErrUnsupported)
