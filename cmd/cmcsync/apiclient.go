package main

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
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

// daemonClient returns a client of the daemon that holds the chips, for a
// command whose open failed with err: when err says the device is busy
// and the configuration file says where that daemon listens (listen, or
// the default) and keeps its token (state_dir, or the default). ok is
// false when the command must fail with err as it is.
func daemonClient(err error, configPath string) (c *web.Client, ok bool, why error) {
	if !errors.Is(err, devlock.ErrBusy) || configPath == "" {
		return nil, false, nil
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
