package faults

import (
	"context"
	"errors"
)

// Cancel stops the caller's work just before the operation, which then
// runs: it cancels the context [Injector.Context] returned, as a daemon's
// shutdown or a new configuration cancels the round in progress at that
// point. It needs that context (else [Injector.Err] reports it). Text:
// "cancel".
type Cancel struct{}

func (Cancel) String() string  { return "cancel" }
func (Cancel) outcome() bool   { return false }
func (Cancel) validate() error { return nil }

// Context returns a context derived from parent that a [Cancel] action of
// the injector's schedule cancels, and its cancel function (call it when
// the work ends). A later call replaces the context Cancel cancels.
func (in *Injector) Context(parent context.Context) (context.Context, context.CancelFunc) {
	ctx, cancel := context.WithCancel(parent)
	in.mu.Lock()
	in.cancel = cancel
	in.mu.Unlock()
	return ctx, cancel
}

// cancelWork runs a Cancel action. The caller holds in.mu.
func (in *Injector) cancelWork() {
	if in.cancel == nil {
		in.harnessErr(errors.New("cancel: the injector has no context to cancel (call Injector.Context)"))
		return
	}
	in.cancel()
}
