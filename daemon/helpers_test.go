package daemon

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/cmcsync/cmcsync/internal/flashspec"
	"github.com/cmcsync/cmcsync/web"
)

// simSpec is a simulated 8 MiB chip, in memory when file is "", else kept
// in file.
func simSpec(t *testing.T, name, file string) flashspec.Spec {
	t.Helper()
	s := "sim:part=mx66l1g45g,size=8M,name=" + name
	if file != "" {
		s += ",file=" + file
	}
	sp, err := flashspec.Parse(s)
	require.NoError(t, err)
	return sp
}

// openSim opens a daemon on two in-memory simulated chips (formatted) and
// closes it at the end of the test.
func openSim(t *testing.T, seed uint64) *Daemon {
	t.Helper()
	d, err := Open(context.Background(), Options{Primary: simSpec(t, "flash0", ""), Backup: simSpec(t, "flash1", ""), Seed: seed})
	require.NoError(t, err)
	t.Cleanup(func() { d.Close() })
	return d
}

// roundLog is a RoundRecorder that keeps what it is given.
type roundLog struct {
	mu     sync.Mutex
	rounds []web.Round
}

func (l *roundLog) RecordRound(r web.Round) {
	l.mu.Lock()
	l.rounds = append(l.rounds, r)
	l.mu.Unlock()
}

func (l *roundLog) all() []web.Round {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]web.Round(nil), l.rounds...)
}

// lineLog collects log lines.
type lineLog struct {
	mu    sync.Mutex
	lines []string
}

func (l *lineLog) logf(format string, a ...any) {
	l.mu.Lock()
	l.lines = append(l.lines, fmt.Sprintf(format, a...))
	l.mu.Unlock()
}

func (l *lineLog) count(substr string) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	n := 0
	for _, s := range l.lines {
		if strings.Contains(s, substr) {
			n++
		}
	}
	return n
}

// atomicIndex is an operation index shared with a trace hook.
type atomicIndex struct{ v atomic.Int64 }

func (a *atomicIndex) load() int64   { return a.v.Load() }
func (a *atomicIndex) store(i int64) { a.v.Store(i) }

// handClock is a clock a test moves by hand: its wall reading, and the
// monotonic time since it began.
type handClock struct {
	mu           sync.Mutex
	began, since time.Time
}

func newHandClock(start time.Time) *handClock { return &handClock{began: start, since: start} }

func (c *handClock) wall() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.since
}

func (c *handClock) mono() time.Duration {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.since.Sub(c.began)
}

func (c *handClock) advance(d time.Duration) {
	c.mu.Lock()
	c.since = c.since.Add(d)
	c.mu.Unlock()
}
