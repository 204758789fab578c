package scenario

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestAimDelay(t *testing.T) {
	tests := []struct {
		frac  float64
		phase time.Duration
		want  time.Duration
	}{
		{0, 80 * time.Millisecond, 0},
		{0.5, 80 * time.Millisecond, aimWindow / 2},
		{0.5, 2 * time.Millisecond, time.Millisecond},
		{0.99, 0, 0},
	}
	for _, tt := range tests {
		require.Equal(t, tt.want, aimDelay(tt.frac, tt.phase))
	}
}
