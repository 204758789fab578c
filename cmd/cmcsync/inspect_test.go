package main

import (
	"testing"

	"github.com/stretchr/testify/require"
)

func TestInspectFlags(t *testing.T) {
	for _, tc := range []struct {
		args []string
		code int
	}{
		{[]string{"inspect"}, 2},
		{[]string{"inspect", "--flash", "nope"}, 2},
		{[]string{"inspect", "--flash", "sim:part=mx66l1g45g,size=8M", "x"}, 2},
		{[]string{"inspect", "--flash", "sim:part=mx66l1g45g,size=8M", "--info-size", "zz"}, 2},
		// A blank chip: nothing decodes.
		{[]string{"inspect", "--flash", "sim:part=mx66l1g45g,size=8M"}, 1},
	} {
		_, _, err := runCLI(tc.args...)
		require.Equal(t, tc.code, statusOf(err), "%v: %v", tc.args, err)
	}
	out, _, _ := runCLI("inspect", "--flash", "sim:part=mx66l1g45g,size=8M")
	require.Contains(t, out, "image: DAMAGED")
	require.Contains(t, out, "store: UNREADABLE")
}
