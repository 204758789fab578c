//go:build linux

package mutate

import (
	"bytes"
	"os"
	"strconv"
	"time"
)

// canWatchCPU: the tree's CPU can be read while it runs (/proc).
const canWatchCPU = true

// clockTick is USER_HZ, the unit of /proc/PID/stat's times: 100 on every
// architecture Go runs the tests on (the kernel's ABI, whatever HZ is).
const clockTick = 10 * time.Millisecond

// groupCPU returns the user+system time of the processes in process group
// pgid: each one's own (utime, stime) and that of the children it waited
// for (cutime, cstime). A process that ended and was reaped counts in its
// parent's children figures, so the sum covers the whole tree a go command
// started (compiles, links, test binaries) as long as the go command lives.
func groupCPU(pgid int) time.Duration {
	d, err := os.Open("/proc")
	if err != nil {
		return 0
	}
	defer d.Close()
	names, err := d.Readdirnames(-1)
	if err != nil {
		return 0
	}
	var ticks int64
	for _, n := range names {
		if n[0] < '0' || n[0] > '9' {
			continue
		}
		b, err := os.ReadFile("/proc/" + n + "/stat")
		if err != nil {
			continue // gone meanwhile
		}
		t, pg, ok := parseStat(b)
		if ok && pg == pgid {
			ticks += t
		}
	}
	return time.Duration(ticks) * clockTick
}

// parseStat reads a /proc/PID/stat line: its process group and the sum of
// utime, stime, cutime and cstime (clock ticks).
func parseStat(b []byte) (ticks int64, pgid int, ok bool) {
	i := bytes.LastIndexByte(b, ')') // the command name may hold spaces and parentheses
	if i < 0 {
		return 0, 0, false
	}
	f := bytes.Fields(b[i+1:])
	// f[0] is field 3 (state): pgrp is field 5, utime..cstime 14..17.
	if len(f) < 15 {
		return 0, 0, false
	}
	pg, err := strconv.Atoi(string(f[2]))
	if err != nil {
		return 0, 0, false
	}
	for _, s := range f[11:15] {
		v, err := strconv.ParseInt(string(s), 10, 64)
		if err != nil {
			return 0, 0, false
		}
		ticks += v
	}
	return ticks, pg, true
}
