package scenario

import (
	"context"
	"os"
	"time"
)

// How the daemon-powercut scenario aims its cuts at a round's write
// phase. The daemon's rounds read the active chip's information region
// and write the other chip's store; the simulated CMC writes only the
// active chip. QEMU writes every program and erase of an emulated SPI NOR
// chip through to its -drive image file, so the first change of the
// written chip's image file's modification time after a sync request is
// the round's first backup write, seen from the host without any trace
// from the guest. The cut then falls a seeded delay after it, drawn
// within the write phase measured on the calibration sync. Whether a cut
// did land in the write phase is still judged only from the flash after
// it (an interrupted round that the reference decoder finds).

// aimShare is the share of cuts aimed at the write phase; the others are
// spread over the whole round as before (most then fall while the round
// reads the region).
const aimShare = 0.75

// writePoll is how often the host looks at the written chip's image file.
const writePoll = 5 * time.Millisecond

// writtenChip returns the image file the daemon's rounds write: the chip
// that is not active (chip A's after a failover).
func (r *daemonRun) writtenChip(activeChip int) string {
	if activeChip == 1 {
		return r.e.primary
	}
	return r.e.backup
}

// mtime returns path's modification time (the zero time if it cannot
// be read: then no write is seen).
func mtime(path string) time.Time {
	st, err := os.Stat(path)
	if err != nil {
		return time.Time{}
	}
	return st.ModTime()
}

// awaitWrite polls path until its modification time moves from base (a
// write landed: it returns true), done is closed (the round ended with no
// write seen), timeout passes or ctx ends.
func awaitWrite(ctx context.Context, path string, base time.Time, done <-chan struct{}, timeout time.Duration) bool {
	tick := time.NewTicker(writePoll)
	defer tick.Stop()
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		if !mtime(path).Equal(base) {
			return true
		}
		select {
		case <-done:
			return !mtime(path).Equal(base)
		case <-ctx.Done():
			return false
		case <-tick.C:
		}
	}
	return false
}

// timedSync asks for a round and watches the written chip's image file
// meanwhile: it returns the round, its duration, and how long after the
// request its first write to the chip was seen (0 if none was: then the
// write phase is unknown).
func (r *daemonRun) timedSync(ctx context.Context, activeChip int) (apiRound, time.Duration, time.Duration, error) {
	path := r.writtenChip(activeChip)
	base := mtime(path)
	done := make(chan struct{})
	var round apiRound
	var err error
	t0 := time.Now()
	go func() {
		round, err = r.sync(ctx)
		close(done)
	}()
	var first time.Duration
	if awaitWrite(ctx, path, base, done, commandTimeout) {
		first = time.Since(t0)
	}
	<-done
	return round, time.Since(t0), first, err
}
