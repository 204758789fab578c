package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/cmcsync/cmcsync/config"
	"github.com/cmcsync/cmcsync/internal/devlock"
	"github.com/cmcsync/cmcsync/web"
)

// openOrDaemon opens the pair as p.open does; when a running daemon holds
// the chips (daemonClient), it returns the daemon's API client instead
// (e nil), having told stderr that the command what goes on by doing
// (e.g. "asking its API").
func (p *pairFlags) openOrDaemon(ctx context.Context, fs *flag.FlagSet, stderr io.Writer, what, doing string) (*openedEngine, *web.Client, error) {
	return p.openOrDaemonMode(ctx, fs, stderr, what, doing, false)
}

// openOrDaemonReadOnly is openOrDaemon for a command that only reads: the
// pair is opened with openReadOnly.
func (p *pairFlags) openOrDaemonReadOnly(ctx context.Context, fs *flag.FlagSet, stderr io.Writer, what, doing string) (*openedEngine, *web.Client, error) {
	return p.openOrDaemonMode(ctx, fs, stderr, what, doing, true)
}

func (p *pairFlags) openOrDaemonMode(ctx context.Context, fs *flag.FlagSet, stderr io.Writer, what, doing string, readOnly bool) (*openedEngine, *web.Client, error) {
	e, err := p.openMode(ctx, fs, readOnly)
	if err == nil {
		return e, nil, nil
	}
	c, ok, why := daemonClient(err, *p.chips.config)
	if !ok {
		return nil, nil, errors.Join(err, why)
	}
	fmt.Fprintf(stderr, "%s: the chips are held by a running daemon: %s at %s\n", what, doing, c.URL)
	return nil, c, nil
}

// daemonClient returns a client of the daemon that holds the chips, for a
// command whose open failed with err: when err says the device is busy
// and the configuration file says where that daemon listens (listen, or
// the default) and keeps its token (state_dir, or the default). ok is
// false when the command must fail with err as it is.
func daemonClient(err error, configPath string) (c *web.Client, ok bool, why error) {
	if !errors.Is(err, devlock.ErrBusy) {
		return nil, false, nil
	}
	if configPath == "" {
		// "use its API": say how, this command can.
		return nil, false, errors.New("to go through the daemon's API, give this command a configuration file with the daemon's listen and state_dir (its own --config FILE, or one such as {\"state_dir\": \"DIR\", \"listen\": \"127.0.0.1:8080\"}): docs/CLI.md, Safety")
	}
	f, cerr := config.Load(configPath)
	if cerr != nil {
		return nil, false, cerr
	}
	listen, state, cert := defaultListen, "", ""
	if s, ok := f.Lookup("listen"); ok {
		listen = s.Value
	}
	if s, ok := f.Lookup("state"); ok {
		state = s.Value
	}
	if s, ok := f.Lookup("tls-cert"); ok {
		cert = s.Value
	}
	if state == "" {
		if state, cerr = defaultStateDir(); cerr != nil {
			return nil, false, cerr
		}
	}
	tok, terr := os.ReadFile(filepath.Join(state, web.TokenFile))
	if terr != nil {
		return nil, false, fmt.Errorf("the chips are held by a daemon, but its API token is not readable: %w", terr)
	}
	host, port, serr := net.SplitHostPort(listen)
	if serr != nil {
		return nil, false, fmt.Errorf("listen %q: %w", listen, serr)
	}
	if ip := net.ParseIP(host); host == "" || (ip != nil && ip.IsUnspecified()) {
		host = "127.0.0.1"
	}
	c = &web.Client{URL: "http://" + net.JoinHostPort(host, port), Token: strings.TrimSpace(string(tok))}
	if cert != "" {
		pem, rerr := os.ReadFile(cert)
		if rerr != nil {
			return nil, false, rerr
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, false, fmt.Errorf("tls_cert %s: no PEM certificate", cert)
		}
		c.URL = "https://" + net.JoinHostPort(host, port)
		c.HTTP = &http.Client{Timeout: 2 * time.Minute, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}}}
	}
	return c, true, nil
}
