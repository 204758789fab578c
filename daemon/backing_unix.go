//go:build unix

package daemon

import (
	"os"
	"syscall"
)

// linkCount returns the number of names a file has (0: removed, still
// open), if the system says.
func linkCount(fi os.FileInfo) (uint64, bool) {
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return 0, false
	}
	return uint64(st.Nlink), true
}
