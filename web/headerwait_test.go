package web_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/cmcsync/cmcsync/web"
)

// TestHeaderWaitScales: the header deadline is MaxHeaderWait up to half
// the slots taken, then falls linearly to MinHeaderWait when all are.
func TestHeaderWaitScales(t *testing.T) {
	for _, tc := range []struct {
		taken, total int
		want         time.Duration
	}{
		{0, 128, web.MaxHeaderWait},
		{64, 128, web.MaxHeaderWait},
		{65, 128, 10*time.Second - 9*time.Second/64},
		{96, 128, 5500 * time.Millisecond},
		{128, 128, web.MinHeaderWait},
		{0, 1, web.MaxHeaderWait},
		{1, 1, web.MinHeaderWait},
		{3, 4, 5500 * time.Millisecond},
	} {
		require.Equal(t, tc.want, web.HeaderWait(tc.taken, tc.total), "%d of %d", tc.taken, tc.total)
	}
}
