package main

import (
	"errors"
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/cmcsync/cmcsync/sync/engine"
)

// TestRoundFailure: a round's failure reads once: the outcome is left out
// when the error names it or when it is empty, and a leading word the
// command's name says already is dropped; otherwise "round OUTCOME: ERR".
func TestRoundFailure(t *testing.T) {
	tests := []struct {
		name, cmd, outcome string
		err                error
		want               string
	}{
		{"the error names the outcome", "sync", engine.OutcomeUpgradePending, engine.ErrUpgradePending,
			"sync: image upgrade pending: choose keep-upgraded or restore-defaults"},
		{"no outcome, the command's word", "upgrade keep", "", fmt.Errorf("upgrade: %w", errors.New("the committed sync configuration is invalid")),
			"upgrade keep: the committed sync configuration is invalid"},
		{"an outcome the error does not name", "sync", engine.OutcomeFailover, errors.New("information region at 0x80000 on primary: corrupt information"),
			"sync: round " + engine.OutcomeFailover + ": information region at 0x80000 on primary: corrupt information"},
		{"a later field is not the head", "sync", "error", errors.New("image identity unreadable: read error"),
			"sync: round error: image identity unreadable: read error"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			require.Equal(t, tt.want, roundFailure(tt.cmd, tt.outcome, tt.err))
		})
	}
}
