package sel

import "errors"

// ErrFormat is wrapped by every error about malformed SEL input: a partial
// record, a reserved record type or field value, an unreadable text line.
var ErrFormat = errors.New("malformed SEL data")
