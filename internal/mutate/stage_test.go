package mutate

import (
	"testing"

	"github.com/stretchr/testify/require"
)

func TestStageOwnPackageFirst(t *testing.T) {
	pkgs := []string{"./sync/engine", "./sync/store", "./faults"}
	own := Stage{Name: "unit", Args: append([]string{"-timeout", "4m"}, pkgs...), OwnFirst: pkgs}
	plain := Stage{Name: "campaign", Args: []string{"-run", "X", "./faults/campaign"}}
	for _, tc := range []struct {
		name string
		st   Stage
		file string
		want [][]string
	}{
		{"store mutant: its tests alone first", own, "sync/store/a.go", [][]string{
			{"-timeout", "4m", "./sync/store"},
			{"-timeout", "4m", "./sync/engine", "./faults"},
		}},
		{"engine mutant", own, "sync/engine/b.go", [][]string{
			{"-timeout", "4m", "./sync/engine"},
			{"-timeout", "4m", "./sync/store", "./faults"},
		}},
		{"a package the stage does not test: one run", own, "sync/other/c.go", [][]string{own.Args}},
		{"baseline: one run", own, "", [][]string{own.Args}},
		{"a stage without OwnFirst: one run", plain, "sync/store/a.go", [][]string{plain.Args}},
		{"a subpackage is another package", own, "sync/store/sub/d.go", [][]string{own.Args}},
	} {
		require.Equal(t, tc.want, tc.st.split(tc.file), tc.name)
	}
	require.Equal(t, []string{"-timeout", "4m", "./sync/engine", "./sync/store", "./faults"}, own.Args, "Args untouched")
}
