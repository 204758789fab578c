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

// aimWindow caps the aimed delay. The host sees the file change from the
// round's first write to its housekeeping after the commit (tens of
// milliseconds under TCG); the commit itself follows the first write
// within a few: on the 3-cycle sample a cut 3 ms after the first write
// left an interrupted round, cuts 8-45 ms after it found the round
// committed. Aimed cuts fall uniformly within the measured phase, at most
// this long after the first write.
const aimWindow = 6 * time.Millisecond

// aimDelay is the delay after the first write for the seeded fraction
// frac in [0, 1) of the measured write phase.
func aimDelay(frac float64, phase time.Duration) time.Duration {
	return time.Duration(frac * float64(min(phase, aimWindow)))
}

// writePoll is how often the host looks at the written chip's image file.
// The write phase of a round that copies a second's changes lasts
// milliseconds even under TCG: look often.
const writePoll = time.Millisecond

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

// quietFor is how long the written chip's image file must stay unchanged
// before a watched sync request: a round's housekeeping after its answer
// (writes seen up to seconds after a large round) must not pass for the
// next round's first write.
const quietFor = time.Second

// awaitQuiet waits until path's modification time has not changed for
// quietFor (at most commandTimeout) and returns it.
func awaitQuiet(ctx context.Context, path string) time.Time {
	seen, since := mtime(path), time.Now()
	deadline := since.Add(commandTimeout)
	for time.Since(since) < quietFor && time.Now().Before(deadline) && ctx.Err() == nil {
		time.Sleep(writePoll)
		if m := mtime(path); !m.Equal(seen) {
			seen, since = m, time.Now()
		}
	}
	return seen
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
// meanwhile: it returns the round, its duration, how long after the
// request its first write to the chip was seen (0 if none was: then the
// write phase is unknown), and the write phase: from that first write to
// the last change of the file's modification time seen before the answer
// (the commit is the round's last write; the time's granularity is the
// kernel's tick, so a phase inside one tick reads 0).
func (r *daemonRun) timedSync(ctx context.Context, activeChip int) (apiRound, time.Duration, time.Duration, time.Duration, error) {
	path := r.writtenChip(activeChip)
	base := awaitQuiet(ctx, path)
	done := make(chan struct{})
	var round apiRound
	var err error
	t0 := time.Now()
	go func() {
		round, err = r.sync(ctx)
		close(done)
	}()
	var first, last time.Duration
	if awaitWrite(ctx, path, base, done, commandTimeout) {
		first = time.Since(t0)
		last = first
		seen := mtime(path)
		tick := time.NewTicker(writePoll)
		defer tick.Stop()
	watch:
		for {
			if m := mtime(path); !m.Equal(seen) {
				seen, last = m, time.Since(t0)
			}
			select {
			case <-done:
				break watch
			case <-tick.C:
			}
		}
	}
	<-done
	return round, time.Since(t0), first, last - first, err
}
