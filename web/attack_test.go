package web_test

import (
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/cmcsync/cmcsync/web"
)

// TestServeBoundsHTTP2Streams: over TLS, net/http speaks HTTP/2, where one
// connection carries many requests at once (250 streams by default), so
// bounding connections alone does not bound requests. Serve keeps the
// requests of each class in handlers at once bounded, however they are
// multiplexed: one HTTP/2 connection sending MaxStreamsPerConn reads with
// the token at once gets at most 1 served at a time with MaxConns 2 (its
// reads' quarter, at least 1), and all are answered. (Before, all 8 were
// in handlers at once, and up to 250 could be.)
func TestServeBoundsHTTP2Streams(t *testing.T) {
	const maxConns, requests = 2, web.MaxStreamsPerConn
	certFile, keyFile, pool := writeSelfSigned(t)
	fb := newFake()
	var inFlight, peak atomic.Int32
	release := make(chan struct{})
	var holding atomic.Bool // the first request passes
	fb.configRead = func() {
		if !holding.Load() {
			return
		}
		n := inFlight.Add(1)
		for p := peak.Load(); n > p && !peak.CompareAndSwap(p, n); p = peak.Load() {
		}
		<-release
		inFlight.Add(-1)
	}
	s, err := web.New(fb, web.Options{Token: testToken, MaxConns: maxConns, TLSCert: certFile, TLSKey: keyFile})
	require.NoError(t, err)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	hs := s.HTTPServer()
	require.Equal(t, web.MaxStreamsPerConn, hs.HTTP2.MaxConcurrentStreams)
	go s.Serve(hs, ln)
	t.Cleanup(func() { hs.Close() })

	tr := &http.Transport{
		TLSClientConfig:   &tls.Config{RootCAs: pool},
		ForceAttemptHTTP2: true,
	}
	t.Cleanup(tr.CloseIdleConnections)
	client := &http.Client{Transport: tr, Timeout: 20 * time.Second}
	url := "https://" + ln.Addr().String() + "/api/config"
	get := func() (*http.Response, error) {
		req, err := http.NewRequest("GET", url, nil)
		require.NoError(t, err)
		req.Header.Set("Authorization", "Bearer "+testToken) // reads with the token wait for a slot
		return client.Do(req)
	}

	// One request first, so that the others go on its connection.
	resp, err := get()
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, 2, resp.ProtoMajor, "the client speaks HTTP/2")
	holding.Store(true)

	type answer struct{ code, proto int }
	answers := make(chan answer, requests)
	var wg sync.WaitGroup
	for range requests {
		wg.Go(func() {
			resp, err := get()
			if err != nil {
				t.Log(err)
				answers <- answer{}
				return
			}
			resp.Body.Close()
			answers <- answer{resp.StatusCode, resp.ProtoMajor}
		})
	}
	// Give every stream time to reach a handler, if the server lets it.
	deadline := time.Now().Add(2 * time.Second)
	for time.Now().Before(deadline) && inFlight.Load() < int32(requests) {
		time.Sleep(20 * time.Millisecond)
	}
	got := peak.Load()
	close(release)
	wg.Wait()
	close(answers)
	for a := range answers {
		require.Equal(t, answer{http.StatusOK, 2}, a, "every request is answered, over HTTP/2")
	}
	require.Equal(t, int32(1), got, "reads served at once over one HTTP/2 connection")
	require.Positive(t, got)
}

// TestIdleConnectionsYieldToNewOnes: a client that holds every connection
// slot with idle keep-alive connections (each allowed 2 minutes of
// idleness) does not lock others out: when a new connection arrives and
// all slots are taken, the longest-idle connection is closed for it. The
// idle clients' next requests still succeed (on new connections).
func TestIdleConnectionsYieldToNewOnes(t *testing.T) {
	certFile, keyFile, pool := writeSelfSigned(t)
	for _, tlsOn := range []bool{false, true} {
		name := map[bool]string{false: "HTTP/1.1", true: "HTTP/2 over TLS"}[tlsOn]
		t.Run(name, func(t *testing.T) {
			o := web.Options{Token: testToken, MaxConns: 2}
			if tlsOn {
				o.TLSCert, o.TLSKey = certFile, keyFile
			}
			s, err := web.New(newFake(), o)
			require.NoError(t, err)
			addr := serveEachConnAClient(t, s)
			url := s.Scheme() + "://" + addr + "/api/status"
			newClient := func() *http.Client {
				tr := &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}, ForceAttemptHTTP2: true}
				t.Cleanup(tr.CloseIdleConnections)
				return &http.Client{Transport: tr, Timeout: 15 * time.Second} // far below the 2 min idle timeout a lockout lasts; room for a loaded machine
			}
			get := func(c *http.Client) error {
				resp, err := c.Get(url)
				if err != nil {
					return err
				}
				io.Copy(io.Discard, resp.Body) // read to the end: the connection stays open
				resp.Body.Close()
				if resp.StatusCode != http.StatusOK {
					return fmt.Errorf("status %d", resp.StatusCode)
				}
				return nil
			}
			hogs := []*http.Client{newClient(), newClient()}
			for _, c := range hogs {
				require.NoError(t, get(c)) // its connection stays open, idle
			}
			require.NoError(t, get(newClient()), "a new client is served while idle connections hold every slot")
			for _, c := range hogs {
				require.NoError(t, get(c), "an idle client whose connection was closed reconnects")
			}
		})
	}
}

// TestWaitingConnectionTakesAnIdleSlot: a new connection that arrived while
// every slot was busy is served as soon as one of them turns idle, not
// only when one closes (after the 2 min idle timeout).
func TestWaitingConnectionTakesAnIdleSlot(t *testing.T) {
	fb := newFake()
	var holding atomic.Bool
	release := make(chan struct{})
	fb.configRead = func() {
		if holding.Load() {
			<-release
		}
	}
	s, err := web.New(fb, web.Options{Token: testToken, MaxConns: 1})
	require.NoError(t, err)
	addr := serveEachConnAClient(t, s)
	base := "http://" + addr
	newClient := func() *http.Client {
		tr := &http.Transport{}
		t.Cleanup(tr.CloseIdleConnections)
		return &http.Client{Transport: tr, Timeout: 20 * time.Second}
	}
	holding.Store(true)
	hog := make(chan error, 1)
	go func() {
		resp, err := newClient().Get(base + "/api/config") // busy until released, then idle
		if err == nil {
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
		}
		hog <- err
	}()
	time.Sleep(200 * time.Millisecond) // the hog holds the only slot
	waiter := make(chan error, 1)
	go func() {
		resp, err := newClient().Get(base + "/api/status")
		if err == nil {
			resp.Body.Close()
		}
		waiter <- err
	}()
	time.Sleep(200 * time.Millisecond)
	holding.Store(false)
	close(release)
	require.NoError(t, <-hog)
	select {
	case err := <-waiter:
		require.NoError(t, err)
	case <-time.After(15 * time.Second): // a lockout lasts the 2 min idle timeout
		t.Fatal("the waiting connection was not served when the busy one turned idle")
	}
}

// countingZeros is an endless request body of zeros that counts what the
// client's transport took from it.
type countingZeros struct{ n atomic.Int64 }

func (z *countingZeros) Read(p []byte) (int, error) {
	clear(p)
	z.n.Add(int64(len(p)))
	return len(p), nil
}

// TestHTTP2BuffersLittleForWaitingRequests: an HTTP/2 client may send a
// request's body as far as the server's flow-control window allows, and
// the server buffers it even while no handler reads it (a request waiting
// for a slot, before any token check). net/http's default window is 1 MB
// per connection, so 128 unauthenticated connections could pin 128 MB of
// a CMC's memory; the server's windows are 64 KiB.
func TestHTTP2BuffersLittleForWaitingRequests(t *testing.T) {
	certFile, keyFile, pool := writeSelfSigned(t)
	fb := newFake()
	var holding atomic.Bool
	release := make(chan struct{})
	fb.configRead = func() {
		if holding.Load() {
			<-release
		}
	}
	s, err := web.New(fb, web.Options{Token: testToken, MaxConns: 1, TLSCert: certFile, TLSKey: keyFile})
	require.NoError(t, err)
	addr := serveOnLoopback(t, s)
	tr := &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}, ForceAttemptHTTP2: true}
	t.Cleanup(tr.CloseIdleConnections)
	client := &http.Client{Transport: tr, Timeout: 10 * time.Second}
	base := "https://" + addr
	resp, err := client.Get(base + "/api/status") // the connection, over HTTP/2
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, 2, resp.ProtoMajor)

	holding.Store(true)
	busy := make(chan struct{})
	go func() {
		defer close(busy)
		if resp, err := client.Get(base + "/api/config"); err == nil { // holds the only request slot
			resp.Body.Close()
		}
	}()
	time.Sleep(200 * time.Millisecond)
	body := &countingZeros{}
	ctx, cancel := context.WithCancel(context.Background())
	put := make(chan struct{})
	go func() {
		defer close(put)
		req, _ := http.NewRequestWithContext(ctx, "PUT", base+"/api/info/power", body)
		req.Header.Set("Content-Type", "application/json")
		if resp, err := client.Do(req); err == nil {
			resp.Body.Close()
		}
	}()
	time.Sleep(time.Second)
	sent := body.n.Load()
	cancel()
	<-put
	close(release)
	<-busy
	// Go's client reads up to 512 KiB of a body ahead into its own buffer;
	// beyond that it sends only what the server's window allows (before:
	// 1 MiB more).
	const clientReadAhead = 512 << 10
	require.Less(t, sent, int64(clientReadAhead+256<<10), "body bytes the server took for a request no handler reads yet")
}
