package browsertest_test

import (
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/require"

	"github.com/cmcsync/cmcsync/internal/browsertest"
	"github.com/cmcsync/cmcsync/internal/testcert"
)

// TestTrustSPKI: a page over TLS with a self-made certificate loads when
// its key is trusted, and is refused (the navigation fails) when another
// key is.
func TestTrustSPKI(t *testing.T) {
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, `<!doctype html><title>t</title><body data-ok="yes">trusted</body>`)
	}))
	t.Cleanup(srv.Close)
	hash := browsertest.SPKIHash(srv.Certificate())

	t.Run("trusted", func(t *testing.T) {
		b := browsertest.New(t, time.Minute, browsertest.TrustSPKI(hash))
		b.Do(t, "open the page", chromedp.Navigate(srv.URL))
		b.WaitFor(t, "the body", `document.body && document.body.getAttribute("data-ok") === "yes"`, 10*time.Second)
	})
	t.Run("another key trusted", func(t *testing.T) {
		certFile, _, _, err := testcert.Write(t.TempDir())
		require.NoError(t, err)
		p, err := os.ReadFile(certFile)
		require.NoError(t, err)
		blk, _ := pem.Decode(p)
		other, err := x509.ParseCertificate(blk.Bytes)
		require.NoError(t, err)
		wrong := browsertest.SPKIHash(other)
		require.NotEqual(t, hash, wrong)
		b := browsertest.New(t, time.Minute, browsertest.TrustSPKI(wrong))
		err = b.Try(chromedp.Navigate(srv.URL))
		require.Error(t, err, "a certificate whose key is not trusted must be refused")
		require.Contains(t, err.Error(), "ERR_CERT")
	})
}
