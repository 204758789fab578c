package web

import (
	"net"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// TestHeaderDeadlineNeverGrows: connections that fill the server with
// slow headers are each due MinHeaderWait after their headers began, even
// when the closes of the others, due a moment earlier, free the slots and
// the wait of the slots taken then is MaxHeaderWait again. (Before,
// the last of four attackers served 50 ms after the others kept its slot
// for net/http's 10 s once the other three were closed: the flake of
// TestSlowHeadersFromManyAddresses on a loaded machine.)
func TestHeaderDeadlineNeverGrows(t *testing.T) {
	const slots = 4
	l := &limitListener{sem: make(chan struct{}, slots), conns: map[*limitConn]struct{}{}, clients: map[string]int{}}
	t0 := time.Unix(1_000_000, 0)
	conns := make([]*limitConn, slots)
	for i := range conns {
		a, b := net.Pipe()
		t.Cleanup(func() { a.Close(); b.Close() })
		c := &limitConn{Conn: a, l: l, key: "k" + string(rune('a'+i))}
		c.slot.Store(true)
		l.sem <- struct{}{}
		l.conns[c] = struct{}{}
		l.clients[c.key]++
		// The last one served 50 ms after the other three.
		since := t0
		if i == slots-1 {
			since = t0.Add(50 * time.Millisecond)
		}
		c.setHeaderSince(since)
		conns[i] = c
	}
	closed := func() (n int) {
		for _, c := range conns {
			if c.picked {
				n++
			}
		}
		return n
	}

	// Every slot taken: each is due MinHeaderWait after its start.
	next := l.closeSlowHeaders(t0.Add(MinHeaderWait))
	require.Equal(t, slots-1, closed(), "the three served first are due")
	require.Equal(t, 0, len(l.sem)-1, "their closes freed their slots")
	require.Equal(t, t0.Add(50*time.Millisecond+MinHeaderWait), next, "the last one is still due MinHeaderWait after its start, not MaxHeaderWait")

	// One slot taken now (the wait of 1 of 4 is MaxHeaderWait): the last
	// one is closed at its MinHeaderWait deadline all the same.
	require.Equal(t, MaxHeaderWait, headerWait(len(l.sem), slots))
	l.closeSlowHeaders(next)
	require.Equal(t, slots, closed(), "the last one closed at MinHeaderWait after its start")
	require.Empty(t, l.sem)

	// A new wait (a keep-alive connection's next request) starts with no
	// deadline: at one slot of four taken it is given MaxHeaderWait.
	a, b := net.Pipe()
	t.Cleanup(func() { a.Close(); b.Close() })
	c := &limitConn{Conn: a, l: l, key: "n"}
	c.slot.Store(true)
	l.sem <- struct{}{}
	l.conns[c] = struct{}{}
	c.headerDue = t0 // left over from an earlier wait
	c.setHeaderSince(t0.Add(time.Hour))
	require.Equal(t, t0.Add(time.Hour+MaxHeaderWait), l.closeSlowHeaders(t0.Add(time.Hour+MinHeaderWait)))
	require.False(t, c.picked)
}
