package web_test

import (
	"math"
	"net"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/cmcsync/cmcsync/web"
)

// TestClientKey: what counts as one client for MaxConnsPerClient.
func TestClientKey(t *testing.T) {
	tcp := func(ip string) net.Addr { return &net.TCPAddr{IP: net.ParseIP(ip), Port: 40000} }
	tests := []struct {
		addr net.Addr
		want string
	}{
		{tcp("127.0.0.1"), "127.0.0.1"}, // loopback like any other
		{tcp("192.0.2.7"), "192.0.2.7"},
		{tcp("::ffff:192.0.2.7"), "192.0.2.7"}, // IPv4-mapped: the IPv4 client
		{tcp("2001:db8:1:2::1"), "2001:db8:1:2::/64"},
		{tcp("2001:db8:1:2:ffff::9"), "2001:db8:1:2::/64"}, // same /64: same client
		{tcp("2001:db8:1:3::1"), "2001:db8:1:3::/64"},
		{tcp("::1"), "::/64"},
		{&net.TCPAddr{IP: net.ParseIP("fe80::1"), Zone: "eth0"}, "fe80::/64"},
		{&net.UnixAddr{Name: "@", Net: "unix"}, "unix"},
	}
	for _, tt := range tests {
		require.Equal(t, tt.want, web.ClientKey(tt.addr), "%v", tt.addr)
	}
}

// TestConnLimitsChecked: a limit out of range is refused by
// CheckConnLimits and by New, with what is allowed; 0 in Options is the
// default (the per-client one at most MaxConns).
func TestConnLimitsChecked(t *testing.T) {
	tests := []struct {
		conns, perClient int
		err              string // "" valid
	}{
		{128, 16, ""},
		{1, 1, ""},
		{web.MaxConnsLimit, web.MaxConnsLimit, ""},
		{0, 1, "max connections 0 is out of range: give 1 to 4096"},
		{-1, 1, "max connections -1 is out of range"},
		{web.MaxConnsLimit + 1, 1, "max connections 4097 is out of range"},
		{math.MaxInt32, 1, "out of range"},
		{8, 0, "max connections per client 0 is out of range: give 1 to the max connections, 8"},
		{8, -3, "max connections per client -3 is out of range"},
		{8, 9, "max connections per client 9 is out of range"},
	}
	for _, tt := range tests {
		err := web.CheckConnLimits(tt.conns, tt.perClient)
		if tt.err == "" {
			require.NoError(t, err, "%d %d", tt.conns, tt.perClient)
			continue
		}
		require.ErrorContains(t, err, tt.err)
	}

	for _, o := range []web.Options{{MaxConns: -1}, {MaxConnsPerClient: -1}, {MaxConns: web.MaxConnsLimit + 1}, {MaxConns: 8, MaxConnsPerClient: 9}} {
		o.Token = testToken
		_, err := web.New(newFake(), o)
		require.ErrorContains(t, err, "out of range", "%+v", o)
	}
	for _, o := range []web.Options{{}, {MaxConns: 4}, {MaxConnsPerClient: 128}} {
		o.Token = testToken
		_, err := web.New(newFake(), o)
		require.NoError(t, err, "%+v", o)
	}
}
