package campaign

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestQuickStandard(t *testing.T) {
	rep, err := Run(context.Background(), Options{Mode: "exhaustive", Scenario: "standard", Workers: 2})
	require.NoError(t, err)
	rep.Violations = rep.Violations[:min(len(rep.Violations), 10)]
	_ = rep.WriteJSON(testWriter{t})
}

type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) { w.t.Log(string(p)); return len(p), nil }
