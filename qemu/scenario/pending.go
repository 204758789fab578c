package scenario

import (
	"context"
	"errors"
)

func runNAND(ctx context.Context, e *env) error {
	return errors.New("nand scenario: not built yet")
}
