package devlock_test

import (
	"os"
	"path/filepath"
	"runtime"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/cmcsync/cmcsync/internal/devlock"
)

func TestLockBusy(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("locks are taken on Linux only")
	}
	dir := t.TempDir()
	img := filepath.Join(dir, "chip0.img")
	require.NoError(t, os.WriteFile(img, nil, 0o600))
	missing := filepath.Join(dir, "sub", "chip1.img")
	require.NoError(t, os.Mkdir(filepath.Dir(missing), 0o700))

	for _, tc := range []struct {
		name   string
		first  []string
		second []string
		busy   string // the path the second Lock reports, "" none
	}{
		{name: "same image", first: []string{img}, second: []string{img}, busy: img},
		{name: "other image", first: []string{img}, second: []string{missing}},
		{name: "missing image locks its folder", first: []string{missing}, second: []string{filepath.Join(dir, "sub", "chip2.img")}, busy: filepath.Join(dir, "sub")},
		{name: "memory chips", first: []string{"", ""}, second: []string{""}},
		{name: "a path twice in one call", first: []string{img, img}, second: []string{img}, busy: img},
		{name: "two missing images in one folder", first: []string{missing, filepath.Join(dir, "sub", "chip2.img")}, second: []string{missing}, busy: filepath.Join(dir, "sub")},
	} {
		t.Run(tc.name, func(t *testing.T) {
			l1, err := devlock.Lock(tc.first...)
			require.NoError(t, err)
			l2, err := devlock.Lock(tc.second...)
			if tc.busy == "" {
				require.NoError(t, err)
				require.NoError(t, l2.Unlock())
				require.NoError(t, l1.Unlock())
				return
			}
			require.ErrorIs(t, err, devlock.ErrBusy)
			var be *devlock.BusyError
			require.ErrorAs(t, err, &be)
			require.Equal(t, tc.busy, be.Path)
			require.Equal(t, os.Getpid(), be.PID, "the holder is found in /proc/locks")
			require.Contains(t, err.Error(), "device busy: "+tc.busy+" is held by ")
			require.Contains(t, be.Command, filepath.Base(os.Args[0]))
			require.NoError(t, l1.Unlock())
			l3, err := devlock.Lock(tc.second...)
			require.NoError(t, err, "free once the holder unlocks")
			require.NoError(t, l3.Unlock())
		})
	}
}

func TestParseProcLocks(t *testing.T) {
	text := "1: FLOCK  ADVISORY  WRITE 812 00:05:97 0 EOF\n" +
		"1: -> FLOCK  ADVISORY  WRITE 901 00:05:97 0 EOF\n" +
		"2: POSIX  ADVISORY  WRITE 77 fd:01:1234 0 EOF\n" +
		"3: FLOCK  ADVISORY  WRITE x 00:05:97 0 EOF\n" +
		"4: OFDLCK ADVISORY  READ  -1 00:06:12 0 EOF\n" +
		"garbage\n"
	require.Equal(t, []devlock.Holder{
		{Kind: "FLOCK", PID: 812, Major: 0, Minor: 5, Inode: 97},
		{Kind: "POSIX", PID: 77, Major: 0xfd, Minor: 1, Inode: 1234},
	}, devlock.ParseProcLocks(text))
}

func FuzzParseProcLocks(f *testing.F) {
	f.Add("1: FLOCK  ADVISORY  WRITE 812 00:05:97 0 EOF\n")
	f.Fuzz(func(t *testing.T, s string) {
		for _, h := range devlock.ParseProcLocks(s) {
			if h.PID <= 0 {
				t.Fatalf("holder %+v", h)
			}
		}
	})
}
