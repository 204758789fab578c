package campaign

import (
	"slices"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/cmcsync/cmcsync/faults"
)

// TestWrittenBlocks: writtenBlocks and setTouched, which skip a block the
// write before covered too, give what every block of every write gives —
// sorted, each once, filtered by keep — whatever the order of the writes
// and the keys already in dst.
func TestWrittenBlocks(t *testing.T) {
	const e = 4096
	w := &worker{bench: &bench{eraseSize: e}, touched: map[int64]bool{}}
	prog := func(role faults.Role, off, n int64) faults.Op {
		return faults.Op{Role: role, Kind: faults.Program, Off: off, Len: n}
	}
	pages := func(role faults.Role, off, n int64) []faults.Op { // page programs, as a restore issues them
		var ops []faults.Op
		for p := off; p < off+n; p += 256 {
			ops = append(ops, prog(role, p, 256))
		}
		return ops
	}
	backupOnly := func(chip int, off int64) bool { return chip == 1 }
	notBlock1 := func(chip int, off int64) bool { return off != e }
	for _, tc := range []struct {
		name   string
		dst    []int64
		writes []faults.Op
		keep   func(chip int, off int64) bool
	}{
		{"none", nil, nil, nil},
		{"pages of three blocks", nil, pages(faults.Backup, 0, 3*e), nil},
		{"back and forth", nil, append(append(pages(faults.Backup, e, e), pages(faults.Primary, e, e)...), pages(faults.Backup, e, 2*e)...), nil},
		{"spanning writes", nil, []faults.Op{prog(faults.Backup, e-1, 2), prog(faults.Backup, e, e), {Role: faults.Backup, Kind: faults.Erase, Off: 0, Len: 4 * e}}, nil},
		{"keys already there", []int64{touchKey(1, 2*e), touchKey(0, 0)}, pages(faults.Backup, e, 2*e), nil},
		{"keep the backup", nil, append(pages(faults.Primary, 0, e), pages(faults.Backup, 0, e)...), backupOnly},
		{"keep rejects a block between", nil, append(append(pages(faults.Backup, 0, e), pages(faults.Backup, e, e)...), pages(faults.Backup, 0, e)...), notBlock1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			want := slices.Clone(tc.dst)
			touched := map[int64]bool{}
			for _, op := range tc.writes {
				for off := op.Off / e * e; off < op.Off+op.Len; off += e {
					touched[touchKey(chipOf(op), off)] = true
					if tc.keep == nil || tc.keep(chipOf(op), off) {
						want = append(want, touchKey(chipOf(op), off))
					}
				}
			}
			slices.Sort(want)
			want = slices.Compact(want)
			require.Equal(t, want, w.writtenBlocks(slices.Clone(tc.dst), tc.writes, tc.keep))
			w.harness = nil
			w.setTouched(tc.writes)
			require.Equal(t, touched, w.touched)
		})
	}
}
