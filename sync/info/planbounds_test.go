package info

import (
	"testing"

	"github.com/stretchr/testify/require"
)

// TestPlanRegionBounds checks PlanRegion's limits on the bounds: the
// largest erase size and region, one step past each, and the 2 GiB cap on
// an extent (a payload length is a uint32).
func TestPlanRegionBounds(t *testing.T) {
	tests := []struct {
		size, erase int64
		want        string
	}{
		{size: 16 << 30, erase: 1 << 30},
		{size: 32 << 30, erase: 2 << 30, want: "erase size 2147483648 is not a power of two up to 1 GiB"},
		{size: 1 << 40, erase: 1 << 20},
		{size: 1<<40 + 1<<20, erase: 1 << 20, want: "region of 1099512676352 bytes is too large (at most 1 TiB)"},
		{size: 1 << 40, erase: 1 << 12},
		{size: -4096, erase: 4096, want: "region size -4096 is not a positive multiple of the erase size 4096"},
		{size: 4096, erase: -4096, want: "erase size -4096 is not a power of two up to 1 GiB"},
		{size: 4096, erase: 0, want: "erase size 0 is not a power of two up to 1 GiB"},
	}
	for _, tc := range tests {
		h, err := PlanRegion(tc.size, tc.erase)
		if tc.want != "" {
			require.EqualError(t, err, tc.want)
			continue
		}
		require.NoError(t, err, "%d/%d", tc.size, tc.erase)
		var end int64
		for _, e := range h.Extents {
			require.LessOrEqual(t, e.Capacity, int64(1<<31), e.Type)
			end = max(end, e.Off+e.Capacity)
		}
		require.LessOrEqual(t, end, tc.size)
	}
	// In a 1 TiB region every extent is capped at exactly 2 GiB.
	h, err := PlanRegion(1<<40, 1<<20)
	require.NoError(t, err)
	for _, e := range h.Extents {
		require.Equal(t, int64(1<<31), e.Capacity, e.Type)
	}
	// The event log takes the remainder of the weighted share.
	h, err = PlanRegion(8<<20, 4<<10)
	require.NoError(t, err)
	var used int64
	for _, e := range h.Extents {
		used += e.Capacity
	}
	require.Equal(t, int64(8<<20), h.Extents[0].Off+used, "the extents fill the region")
}
