package web_test

import (
	"crypto/tls"
	"encoding/binary"
	"io"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/cmcsync/cmcsync/web"
)

// h2Frame is one HTTP/2 frame: a 9-byte header and its payload.
func h2Frame(typ, flags byte, stream uint32, payload []byte) []byte {
	b := make([]byte, 9, 9+len(payload))
	b[0], b[1], b[2] = byte(len(payload)>>16), byte(len(payload)>>8), byte(len(payload))
	b[3], b[4] = typ, flags
	binary.BigEndian.PutUint32(b[5:], stream&0x7fffffff)
	return append(b, payload...)
}

// hpackGet is the HPACK header block of GET https://authority/path:
// :method GET and :scheme https indexed from the static table, :path and
// :authority literals (not Huffman-coded) with indexed names.
func hpackGet(authority, path string) []byte {
	b := []byte{0x82, 0x87}
	b = append(b, 0x04, byte(len(path)))
	b = append(b, path...)
	b = append(b, 0x01, byte(len(authority)))
	return append(b, authority...)
}

// TestSlowReaderOverHTTP2FreesItsSlot: an HTTP/2 client that grants no
// flow-control window (SETTINGS_INITIAL_WINDOW_SIZE 0) and asks for the
// page's script without the token gets a handler that can never finish
// writing: it held one of the tokenless request slots for the 5 min write
// timeout, so a few such streams kept the page from loading (503) for
// minutes. The answer to a request without the token now has
// web.OpenAnswerWait: the slot is free again after it, and the page
// loads.
func TestSlowReaderOverHTTP2FreesItsSlot(t *testing.T) {
	certFile, keyFile, pool := writeSelfSigned(t)
	// MaxConns 4: one slot for requests without the token.
	s, err := web.New(newFake(), web.Options{Token: testToken, MaxConns: 4, TLSCert: certFile, TLSKey: keyFile})
	require.NoError(t, err)
	addr := serveOnLoopback(t, s)

	c, err := tls.Dial("tcp", addr, &tls.Config{InsecureSkipVerify: true, NextProtos: []string{"h2"}})
	require.NoError(t, err)
	defer c.Close()
	require.Equal(t, "h2", c.ConnectionState().NegotiatedProtocol)
	go io.Copy(io.Discard, c) // the server's SETTINGS and the answer's HEADERS; never its DATA
	var out []byte
	out = append(out, "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"...)
	out = append(out, h2Frame(0x4, 0, 0, []byte{0, 0x4, 0, 0, 0, 0})...)             // SETTINGS: INITIAL_WINDOW_SIZE 0
	out = append(out, h2Frame(0x1, 0x1|0x4, 1, hpackGet("127.0.0.1", "/app.js"))...) // HEADERS, END_STREAM|END_HEADERS
	_, err = c.Write(out)
	require.NoError(t, err)

	tr := &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}, ForceAttemptHTTP2: true}
	t.Cleanup(tr.CloseIdleConnections)
	client := &http.Client{Transport: tr, Timeout: 10 * time.Second}
	get := func() int {
		resp, err := client.Get("https://" + addr + "/")
		require.NoError(t, err)
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		return resp.StatusCode
	}
	// The stalled stream takes the slot (the page is refused while it
	// holds it), then gives it back.
	start := time.Now()
	var code int
	for code = get(); code == http.StatusServiceUnavailable && time.Since(start) < web.OpenAnswerWait+20*time.Second; code = get() {
		time.Sleep(200 * time.Millisecond)
	}
	took := time.Since(start)
	require.Equal(t, http.StatusOK, code, "the page loads again")
	require.Greater(t, took, web.OpenAnswerWait/2, "the stalled stream held the slot at first (else the test shows nothing)")
	require.Less(t, took, web.OpenAnswerWait+5*time.Second, "freed after OpenAnswerWait")
}

// TestHTTP2SlowHeadersYield: an HTTP/2 connection that sends the first
// frame of a stream's headers (no END_HEADERS) and then nothing has no
// stream open: it is idle, and at the connection bound it is closed for
// a new connection (as an idle HTTP/1 keep-alive connection is), which
// is served. (The header deadline does not cut it: the frames of a
// stream's headers are not timed, but they hold no slot another needs.)
func TestHTTP2SlowHeadersYield(t *testing.T) {
	certFile, keyFile, pool := writeSelfSigned(t)
	s, err := web.New(newFake(), web.Options{Token: testToken, MaxConns: 1, TLSCert: certFile, TLSKey: keyFile})
	require.NoError(t, err)
	addr := serveEachConnAClient(t, s)

	c, err := tls.Dial("tcp", addr, &tls.Config{InsecureSkipVerify: true, NextProtos: []string{"h2"}})
	require.NoError(t, err)
	defer c.Close()
	closed := make(chan struct{})
	go func() { io.Copy(io.Discard, c); close(closed) }()
	var out []byte
	out = append(out, "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"...)
	out = append(out, h2Frame(0x4, 0, 0, nil)...)
	block := hpackGet("127.0.0.1", "/api/status")
	out = append(out, h2Frame(0x1, 0x1, 1, block[:3])...) // HEADERS, END_STREAM, no END_HEADERS: CONTINUATION frames to come
	_, err = c.Write(out)
	require.NoError(t, err)
	time.Sleep(300 * time.Millisecond) // the server has read the preface and the frame

	tr := &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}, ForceAttemptHTTP2: true}
	t.Cleanup(tr.CloseIdleConnections)
	client := &http.Client{Transport: tr, Timeout: 5 * time.Second} // far below the 2 min idle timeout
	resp, err := client.Get("https://" + addr + "/api/status")
	require.NoError(t, err, "the new connection is served")
	resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	select {
	case <-closed:
	case <-time.After(5 * time.Second):
		t.Fatal("the connection with headers begun and no stream open still holds the only slot")
	}
}
