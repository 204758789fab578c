package scenario

import (
	"context"
	"errors"
)

func runSync(ctx context.Context, e *env) error {
	return errors.New("sync scenario: waiting for sync/engine")
}
func runPowercut(ctx context.Context, e *env) error {
	return errors.New("powercut scenario: waiting for sync/engine")
}
func runNAND(ctx context.Context, e *env) error {
	return errors.New("nand scenario: waiting for sync/engine")
}

// Cycle is one power cut.
type Cycle struct{}

// Line is the cycle's replay line.
func (c Cycle) Line() string { return "" }
