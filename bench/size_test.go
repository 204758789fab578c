package bench

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

var testEpoch = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

func TestParseSizes(t *testing.T) {
	s, err := ParseSizes("1M,8M")
	require.NoError(t, err)
	require.Equal(t, []int64{1 << 20, 8 << 20}, s)
	s, err = ParseSizes(" 512K, 2m ")
	require.NoError(t, err)
	require.Equal(t, []int64{512 << 10, 2 << 20}, s)
	_, err = ParseSizes("1M,,8M")
	require.ErrorContains(t, err, `size ""`)
	_, err = ParseSizes("1M,8T")
	require.ErrorContains(t, err, `size "8T"`)
}
