package reference_test

import (
	"bytes"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/cmcsync/cmcsync/faults/reference"
)

// TestPolicyRuns pins the policy's run encoding (docs/FORMAT.md 4.14, the
// writer's policy): runs separated by at most 3 unchanged bytes are one
// run, by 4 two; a run holds at most 256 bytes and ends at a differing
// byte.
func TestPolicyRuns(t *testing.T) {
	at := func(n int, diffs ...int) ([]byte, []byte) {
		old, cur := make([]byte, n), make([]byte, n)
		for _, d := range diffs {
			cur[d] = 1
		}
		return old, cur
	}
	span := func(lo, hi int) []int {
		var out []int
		for i := lo; i < hi; i++ {
			out = append(out, i)
		}
		return out
	}
	for _, tc := range []struct {
		name  string
		n     int
		diffs []int
		want  [][2]int
	}{
		{"none", 16, nil, nil},
		{"one byte", 16, []int{5}, [][2]int{{5, 6}}},
		{"gap of 3 merged", 16, []int{2, 6}, [][2]int{{2, 7}}},
		{"gap of 4 split", 16, []int{2, 7}, [][2]int{{2, 3}, {7, 8}}},
		{"gaps of 1 and 2 merged", 16, []int{0, 2, 5}, [][2]int{{0, 6}}},
		{"last byte", 16, []int{15}, [][2]int{{15, 16}}},
		{"256 bytes is one run", 300, span(0, 256), [][2]int{{0, 256}}},
		{"257 bytes are two", 300, span(0, 257), [][2]int{{0, 256}, {256, 257}}},
		// 0..253 differ, then 256 and 258: the run from 0 stops at the cap
		// (bytes 0..255, ending at its last difference, 253), so 256 starts
		// a new run.
		{"a gap straddling the cap", 600, append(span(0, 254), 256, 258), [][2]int{{0, 254}, {256, 259}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			old, cur := at(tc.n, tc.diffs...)
			require.Equal(t, tc.want, reference.PolicyRuns(old, cur))
			for _, v := range []uint32{4, 5} {
				rec := reference.PolicyRecord(v, 3, 7, 9, old, cur)
				p := bytes.Clone(old)
				require.NoError(t, reference.ApplyDelta(rec, 3, 7, p))
				require.Equal(t, cur, p, "format version %d", v)
			}
		})
	}
}
