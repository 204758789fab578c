package web_test

import (
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/cmcsync/cmcsync/web"
)

func TestClient(t *testing.T) {
	c, ts, _ := newClient(t)
	ctx := t.Context()

	cfg, err := c.Config(ctx)
	require.NoError(t, err)
	cfg.Interval = web.Duration(45 * time.Second)
	got, err := c.SetConfig(ctx, cfg)
	require.NoError(t, err)
	require.Equal(t, web.Duration(45*time.Second), got.Interval)

	for _, tc := range []struct {
		name string
		call func() error
		want error
	}{
		{"out of range", func() error { cfg.Interval = 0; _, err := c.SetConfig(ctx, cfg); return err }, web.ErrInvalid},
		{"no upgrade pending", func() error { _, err := c.Upgrade(ctx, web.KeepUpgraded); return err }, web.ErrNoUpgrade},
		{"bad token", func() error {
			_, err := (&web.Client{URL: ts.URL, Token: "wrong"}).SetConfig(ctx, got)
			return err
		}, web.ErrAPI},
		{"nobody listening", func() error { _, err := (&web.Client{URL: "http://127.0.0.1:1"}).Config(ctx); return err }, web.ErrAPI},
	} {
		err := tc.call()
		require.ErrorIs(t, err, tc.want, tc.name)
		require.ErrorIs(t, err, web.ErrAPI, tc.name)
	}
}

// TestClientFailback: the client's body-less POST carries a JSON content
// type (without it the server answers 415); a refusal is ErrConflict.
func TestClientFailback(t *testing.T) {
	c, _, fb := newClient(t)
	_, err := c.Failback(t.Context())
	require.ErrorIs(t, err, web.ErrConflict, "chip A is already active")
	_, err = fb.SyncNow(t.Context())
	require.NoError(t, err)
	fb.mu.Lock()
	fb.active = 1
	fb.mu.Unlock()
	got, err := c.Failback(t.Context())
	require.NoError(t, err)
	require.Equal(t, 0, got.ActiveChip)
	require.NotEmpty(t, got.Types)
}

func TestClientPutInfo(t *testing.T) {
	c, _, _ := newClient(t)
	res, err := c.PutInfo(t.Context(), web.InfoPutOptions{Type: "asset", Data: []byte("fru image"), Slot: 2})
	require.NoError(t, err)
	require.Equal(t, web.InfoPutResult{Type: "asset", Slot: 2, Changed: true, Seq: 1, Size: 9}, res)
	_, err = c.PutInfo(t.Context(), web.InfoPutOptions{Type: "power", Data: []byte("bad")})
	require.ErrorIs(t, err, web.ErrInvalid)
	_, err = c.PutInfo(t.Context(), web.InfoPutOptions{Type: "no/such", Data: []byte("x")})
	require.ErrorIs(t, err, web.ErrAPI)
	_, err = c.PutInfo(t.Context(), web.InfoPutOptions{Type: "event-log", Data: make([]byte, 5<<20)})
	require.ErrorIs(t, err, web.ErrInvalid, "a body over the limit (413) is bad input too")
	require.ErrorContains(t, err, "413")
}

// TestClientErrorSaysKindOnce: an API error names its kind (ErrConflict,
// ErrNoUpgrade, ErrInvalid) once, although the server's message starts
// with the same words, and keeps the server's reason.
func TestClientErrorSaysKindOnce(t *testing.T) {
	c, _, _ := newClient(t)
	ctx := t.Context()
	cfg, err := c.Config(ctx)
	require.NoError(t, err)
	for _, tc := range []struct {
		name   string
		call   func() error
		kind   error
		reason string
	}{
		{"failback refused", func() error { _, err := c.Failback(ctx); return err }, web.ErrConflict, "chip A is already the active chip"},
		{"no upgrade pending", func() error { _, err := c.Upgrade(ctx, web.KeepUpgraded); return err }, web.ErrNoUpgrade, ""},
		{"out of range", func() error { cfg.Interval = 0; _, err := c.SetConfig(ctx, cfg); return err }, web.ErrInvalid, "interval_seconds"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.call()
			require.ErrorIs(t, err, tc.kind)
			require.Equal(t, 1, strings.Count(err.Error(), tc.kind.Error()), err.Error())
			require.Contains(t, err.Error(), tc.reason)
		})
	}
}

// newClient serves a new test server and returns a client of it with the
// test token, the server and its fake backend.
func newClient(t *testing.T) (*web.Client, *httptest.Server, *fakeBackend) {
	s, fb := newServer(t)
	ts := httptest.NewServer(s)
	t.Cleanup(ts.Close)
	return &web.Client{URL: ts.URL, Token: testToken}, ts, fb
}
