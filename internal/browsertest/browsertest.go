// Package browsertest drives a page in headless Chromium (chromedp) for
// tests: it finds the browser, starts it, records the page's console
// errors, and waits for conditions written as JavaScript.
package browsertest

import (
	"context"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"fmt"
	"os"
	"os/exec"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/require"
)

// Find returns the browser to drive: $CHROMIUM, else the first of
// chromium, chromium-browser, google-chrome, headless-shell on $PATH.
// Without one the test fails (it skips only under -short).
func Find(t testing.TB) string {
	t.Helper()
	if p := os.Getenv("CHROMIUM"); p != "" {
		return p
	}
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "google-chrome-stable", "headless-shell"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	if testing.Short() {
		t.Skip("no Chromium found; browser tests skip only under -short")
	}
	t.Fatalf("no Chromium found (looked for chromium, chromium-browser, google-chrome, headless-shell; set $CHROMIUM): install Debian's chromium package (apt-get install -y chromium)")
	return ""
}

// Session is one headless Chromium tab.
type Session struct {
	ctx    context.Context
	mu     sync.Mutex
	errors []string
}

// Option adjusts the browser New starts.
type Option func(*[]chromedp.ExecAllocatorOption)

// TrustSPKI makes the browser accept TLS certificates whose public key has
// one of the SHA-256 SubjectPublicKeyInfo digests (base64, as SPKIHash
// computes them), as if a trusted authority had signed them: a test's
// self-made certificate is trusted, any other invalid one still refused.
// (Chromium honours --ignore-certificate-errors-spki-list only with a
// profile directory of its own, which New always gives.)
func TrustSPKI(hashes ...string) Option {
	return func(o *[]chromedp.ExecAllocatorOption) {
		*o = append(*o, chromedp.Flag("ignore-certificate-errors-spki-list", strings.Join(hashes, ",")))
	}
}

// SPKIHash is the base64 SHA-256 digest of a certificate's
// SubjectPublicKeyInfo, the form TrustSPKI takes.
func SPKIHash(cert *x509.Certificate) string {
	sum := sha256.Sum256(cert.RawSubjectPublicKeyInfo)
	return base64.StdEncoding.EncodeToString(sum[:])
}

// New starts Chromium (headless, a fresh profile, a 1360×900 window, for
// at most timeout) and records every console error, exception and warning
// the page produces. The browser stops when the test ends.
func New(t testing.TB, timeout time.Duration, options ...Option) *Session {
	t.Helper()
	path := Find(t)
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(path),
		chromedp.Headless,
		chromedp.NoSandbox, // tests may run as root
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-quic", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1360, 900),
	)
	for _, o := range options {
		o(&opts)
	}
	ctx, cancelTimeout := context.WithTimeout(context.Background(), timeout)
	actx, cancelAlloc := chromedp.NewExecAllocator(ctx, opts...)
	bctx, cancelBrowser := chromedp.NewContext(actx)
	s := &Session{ctx: bctx}
	require.NoError(t, chromedp.Do(bctx, chromedp.Navigate("about:blank")), "start %s", path)
	messages := chromedp.Console(bctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		for m, err := range messages {
			if err != nil {
				return
			}
			if m.Type == chromedp.ConsoleError || m.Type == chromedp.ConsoleException || m.Type == chromedp.ConsoleWarning {
				s.mu.Lock()
				s.errors = append(s.errors, fmt.Sprintf("%s (%s:%d)", m, m.URL, m.Line))
				s.mu.Unlock()
			}
		}
	}()
	t.Cleanup(func() {
		cancelBrowser()
		cancelAlloc()
		cancelTimeout()
		<-done
	})
	return s
}

// Do runs browser actions; what names them in a failure.
func (s *Session) Do(t testing.TB, what string, steps ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	require.NoError(t, chromedp.Do(s.ctx, steps...), what)
}

// Try runs browser actions and returns their error: for a step a test
// expects to fail.
func (s *Session) Try(steps ...chromedp.Action[chromedp.Void]) error {
	return chromedp.Do(s.ctx, steps...)
}

// Eval evaluates a JavaScript expression and decodes its value.
func Eval[T any](t testing.TB, s *Session, expr string) T {
	t.Helper()
	v, err := chromedp.Run(s.ctx, chromedp.Evaluate[T](expr))
	require.NoError(t, err, expr)
	return v
}

// WaitFor waits up to within until the JavaScript expression is truthy;
// on a timeout the test fails with the page's text.
func (s *Session) WaitFor(t testing.TB, what, expr string, within time.Duration) {
	t.Helper()
	var err error
	for range 5 {
		_, err = chromedp.Run(s.ctx, chromedp.Poll[chromedp.Void](expr, chromedp.WithPollingTimeout(within), chromedp.WithPollingInterval(50*time.Millisecond)))
		// Right after a navigation the old execution context can vanish
		// under the poll; poll again in the new one.
		if err == nil || !strings.Contains(err.Error(), "Cannot find context") {
			break
		}
	}
	if err != nil {
		text, _ := chromedp.Run(s.ctx, chromedp.Evaluate[string](`document.body.innerText`))
		t.Fatalf("waiting until %s (%s): %v\npage text:\n%s", what, expr, err, text)
	}
}

// Screenshot returns a PNG of the whole page.
func (s *Session) Screenshot(t testing.TB) []byte {
	t.Helper()
	png, err := chromedp.Run(s.ctx, chromedp.FullScreenshot(100))
	require.NoError(t, err)
	return png
}

// ConsoleErrors returns the console errors, exceptions and warnings so far.
func (s *Session) ConsoleErrors() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.errors...)
}

// ForgetErrors drops the recorded console errors that contain substr: the
// ones a test caused on purpose.
func (s *Session) ForgetErrors(substr string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.errors = slices.DeleteFunc(s.errors, func(e string) bool { return strings.Contains(e, substr) })
}
