package collect

import "fmt"

// inputError is an error about an input: its text says what is wrong with
// the input (and what was expected), and it wraps its sentinels (ErrInput,
// and ErrEmpty for an empty input) without their words, so that a caller
// that names the input's fault itself ("bad input", "invalid request")
// says it once: "bad input: event-log: the input is empty (0 bytes) ...",
// not "bad input: bad information input: empty information input: ...".
type inputError struct {
	err   error   // the message, and the cause it wraps (%w), if any
	kinds []error // ErrInput, ErrEmpty
}

func (e *inputError) Error() string { return e.err.Error() }

// Unwrap returns the sentinels and the message's own chain.
func (e *inputError) Unwrap() []error { return append(append([]error(nil), e.kinds...), e.err) }

// inputErrorf returns an error wrapping ErrInput with the text
// fmt.Errorf(format, a...) (which may wrap a cause with %w).
func inputErrorf(format string, a ...any) error {
	return &inputError{err: fmt.Errorf(format, a...), kinds: []error{ErrInput}}
}

// emptyErrorf is inputErrorf that also wraps ErrEmpty.
func emptyErrorf(format string, a ...any) error {
	return &inputError{err: fmt.Errorf(format, a...), kinds: []error{ErrInput, ErrEmpty}}
}
