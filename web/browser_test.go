package web_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/input"
	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/require"

	"github.com/cmcsync/cmcsync/web"
)

// findChromium returns the browser the browser test drives. $CHROMIUM
// overrides the search. Without one the test fails (it skips only under
// -short), so CI never passes without having run it.
func findChromium(t *testing.T) string {
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
		t.Skip("no Chromium found; the browser test skips only under -short")
	}
	t.Fatalf("no Chromium found (looked for chromium, chromium-browser, google-chrome, headless-shell; set $CHROMIUM): install Debian's chromium package (apt-get install -y chromium), as .ci/run does")
	return ""
}

// artefactDir is where the browser test saves its screenshots:
// web/testdata/out (gitignored), or $CMCSYNC_ARTEFACTS.
func artefactDir(t *testing.T) string {
	dir := os.Getenv("CMCSYNC_ARTEFACTS")
	if dir == "" {
		dir = filepath.Join("testdata", "out")
	}
	require.NoError(t, os.MkdirAll(dir, 0o755))
	return dir
}

// browserSession drives one headless Chromium tab and records every
// console error, exception and browser-log error the page produces.
type browserSession struct {
	ctx    context.Context
	mu     sync.Mutex
	errors []string
}

func newBrowser(t *testing.T) *browserSession {
	path := findChromium(t)
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(path),
		chromedp.Headless,
		chromedp.NoSandbox, // the tests run as root here
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-quic", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1360, 900),
	)
	ctx, cancelTimeout := context.WithTimeout(context.Background(), 90*time.Second)
	actx, cancelAlloc := chromedp.NewExecAllocator(ctx, opts...)
	bctx, cancelBrowser := chromedp.NewContext(actx)
	b := &browserSession{ctx: bctx}
	// Start the browser, then subscribe to the console before any page loads.
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
				b.mu.Lock()
				b.errors = append(b.errors, fmt.Sprintf("%s (%s:%d)", m, m.URL, m.Line))
				b.mu.Unlock()
			}
		}
	}()
	t.Cleanup(func() {
		cancelBrowser()
		cancelAlloc()
		cancelTimeout()
		<-done
	})
	return b
}

func (b *browserSession) do(t *testing.T, what string, steps ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	require.NoError(t, chromedp.Do(b.ctx, steps...), what)
}

// eval evaluates a JavaScript expression and decodes its value.
func eval[T any](t *testing.T, b *browserSession, expr string) T {
	t.Helper()
	v, err := chromedp.Run(b.ctx, chromedp.Evaluate[T](expr))
	require.NoError(t, err, expr)
	return v
}

// waitFor waits until the JavaScript expression is truthy.
func (b *browserSession) waitFor(t *testing.T, what, expr string) {
	t.Helper()
	var err error
	for range 5 {
		_, err = chromedp.Run(b.ctx, chromedp.Poll[chromedp.Void](expr, chromedp.WithPollingTimeout(15*time.Second), chromedp.WithPollingInterval(50*time.Millisecond)))
		// Right after a navigation the old execution context can vanish
		// under the poll; poll again in the new one.
		if err == nil || !strings.Contains(err.Error(), "Cannot find context") {
			break
		}
	}
	if err != nil {
		html, _ := chromedp.Run(b.ctx, chromedp.Evaluate[string](`document.querySelector("main").innerText`))
		t.Fatalf("waiting until %s (%s): %v\npage text:\n%s", what, expr, err, html)
	}
}

func (b *browserSession) consoleErrors() []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]string(nil), b.errors...)
}

func (b *browserSession) screenshot(t *testing.T, name string) {
	t.Helper()
	png, err := chromedp.Run(b.ctx, chromedp.FullScreenshot(100))
	require.NoError(t, err)
	path := filepath.Join(artefactDir(t), name)
	require.NoError(t, os.WriteFile(path, png, 0o644))
	abs, _ := filepath.Abs(path)
	t.Logf("screenshot: %s", abs)
}

// typeInto empties an input and types text into it, key by key.
func typeInto(id, text string) chromedp.Action[chromedp.Void] {
	return chromedp.Steps(
		chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
			_, err := chromedp.Evaluate[chromedp.Void](fmt.Sprintf(`document.getElementById(%q).value = ""`, id))(ctx, t)
			return err
		}),
		chromedp.SendKeys(chromedp.ID(id), text),
	)
}

// explanationShows is a JS predicate: the one fixed display area shows the
// explanation of the type.
func explanationShows(name string) string {
	return fmt.Sprintf(`document.querySelectorAll(".explanation").length === 1 && document.getElementById("explanation").getAttribute("data-type") === %q`, name)
}

func apiConfig(t *testing.T, url string) web.Config {
	t.Helper()
	resp, err := http.Get(url + "/api/config")
	require.NoError(t, err)
	defer resp.Body.Close()
	var c web.Config
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&c))
	return c
}

// TestBrowser drives the selection page in real headless Chromium.
func TestBrowser(t *testing.T) {
	b := newBrowser(t)
	srv, fb := newServer(t)
	ts := httptest.NewServer(srv)
	t.Cleanup(ts.Close)

	// The URL that cmcsync serve prints carries the token once, in the
	// fragment; the page keeps it and cleans the address.
	b.do(t, "open the page", chromedp.Navigate(ts.URL+"/#token="+testToken))
	b.waitFor(t, "the page loaded", `document.body.getAttribute("data-loaded") === "true" && document.querySelectorAll("#type-options li").length === 6`)
	b.waitFor(t, "the token is accepted", `document.getElementById("auth-state").textContent.includes("Token accepted")`)
	require.Equal(t, "", eval[string](t, b, `location.hash`), "the token stays out of the address bar")

	t.Run("click shows the explanation", func(t *testing.T) {
		b.do(t, "click fan", chromedp.Click(chromedp.CSS(`li[data-type="fan"] .option-title`)))
		b.waitFor(t, "fan explained", explanationShows("fan"))
		text := eval[string](t, b, `document.getElementById("explanation").textContent`)
		for _, want := range []string{fakeTypes[1].Title, fakeTypes[1].Holds, fakeTypes[1].WhyBackup, fakeTypes[1].TypicalSize, fakeTypes[1].ChangeRate} {
			require.Contains(t, text, want)
		}
		require.True(t, eval[bool](t, b, `document.querySelector('li[data-type="fan"]').classList.contains("current")`))
	})

	t.Run("keyboard focus shows the explanation", func(t *testing.T) {
		// The click left focus on fan's checkbox; Tab moves to the next option.
		b.do(t, "tab", chromedp.KeyEvent("\t"))
		b.waitFor(t, "node focused", `document.activeElement && document.activeElement.id === "type-node"`)
		b.waitFor(t, "node explained", explanationShows("node"))
		require.Contains(t, eval[string](t, b, `document.getElementById("explanation").textContent`), fakeTypes[2].Holds)
	})

	t.Run("hover shows the explanation", func(t *testing.T) {
		b.do(t, "scroll", chromedp.ScrollIntoView(chromedp.CSS(`li[data-type="asset"]`)))
		xy := eval[[]float64](t, b, `(function(){var r=document.querySelector('li[data-type="asset"]').getBoundingClientRect();return [r.left+r.width/2, r.top+r.height/2];})()`)
		b.do(t, "hover asset", chromedp.MouseEvent(input.DispatchMouseEventTypeMouseMoved, xy[0], xy[1]))
		b.waitFor(t, "asset explained", explanationShows("asset"))
	})

	t.Run("invalid configuration is refused in the page", func(t *testing.T) {
		before := apiConfig(t, ts.URL)
		b.do(t, "type a zero interval",
			typeInto("interval", "0"),
			typeInto("threshold", "5"),
			chromedp.Click(chromedp.ID("save")))
		b.waitFor(t, "interval message", `document.getElementById("interval-error").textContent.includes("between 1 s and 86400 s")`)
		require.Contains(t, eval[string](t, b, `document.getElementById("threshold-error").textContent`), "between 10 ms and 600000 ms")
		require.Equal(t, "true", eval[string](t, b, `document.getElementById("interval").getAttribute("aria-invalid")`))
		require.Equal(t, "interval", eval[string](t, b, `document.activeElement.id`), "focus moves to the first bad field")
		require.Equal(t, before, apiConfig(t, ts.URL), "nothing was sent")
	})

	want := web.Config{Types: []string{"power", "event-log", "asset"}, Interval: web.Duration(45 * time.Second), Threshold: web.Duration(750 * time.Millisecond), GroupSize: 2, Verify: false, RetryAtOnce: true}
	t.Run("choose, save, reload", func(t *testing.T) {
		for _, ty := range fakeTypes {
			chosen := strings.Contains(","+strings.Join(want.Types, ",")+",", ","+ty.Name+",")
			if eval[bool](t, b, fmt.Sprintf(`document.getElementById("type-%s").checked`, ty.Name)) != chosen {
				b.do(t, "toggle "+ty.Name, chromedp.Click(chromedp.ID("type-"+ty.Name)))
			}
		}
		b.do(t, "fill the configuration",
			typeInto("interval", "45"),
			typeInto("threshold", "750"),
			typeInto("groupSize", "2"))
		if eval[bool](t, b, `document.getElementById("verify").checked`) {
			b.do(t, "verify off", chromedp.Click(chromedp.ID("verify")))
		}
		if !eval[bool](t, b, `document.getElementById("retryAtOnce").checked`) {
			b.do(t, "retry on", chromedp.Click(chromedp.ID("retryAtOnce")))
		}
		b.do(t, "save", chromedp.Click(chromedp.ID("save")))
		b.waitFor(t, "saved", `document.getElementById("save-state").textContent.startsWith("Saved")`)
		require.Equal(t, want, apiConfig(t, ts.URL))

		b.do(t, "reload", chromedp.Reload())
		b.waitFor(t, "the page loaded again", `document.body.getAttribute("data-loaded") === "true" && document.getElementById("interval").value !== ""`)
		checked := eval[[]string](t, b, `Array.from(document.querySelectorAll("input[name=type]:checked")).map(function(b){return b.value})`)
		require.Equal(t, want.Types, checked)
		require.Equal(t, "45", eval[string](t, b, `document.getElementById("interval").value`))
		require.Equal(t, "750", eval[string](t, b, `document.getElementById("threshold").value`))
		require.Equal(t, "2", eval[string](t, b, `document.getElementById("groupSize").value`))
		require.False(t, eval[bool](t, b, `document.getElementById("verify").checked`))
		require.True(t, eval[bool](t, b, `document.getElementById("retryAtOnce").checked`))
		require.Equal(t, want, apiConfig(t, ts.URL))
		require.Equal(t, want, fb.Config())
		b.waitFor(t, "the token survived the reload", `document.getElementById("auth-state").textContent.includes("Token accepted")`)
	})

	t.Run("sync now shows a new generation", func(t *testing.T) {
		require.Equal(t, "0", eval[string](t, b, `document.getElementById("st-generation").textContent`))
		b.do(t, "sync now", chromedp.Click(chromedp.ID("sync-now")))
		b.waitFor(t, "generation 1", `document.getElementById("st-generation").textContent === "1"`)
		require.Equal(t, uint64(1), fb.Status().Generation)
		b.waitFor(t, "the commit is the newest event", `document.querySelector("#events tr") && document.querySelector("#events tr").getAttribute("data-kind") === "commit"`)
		b.waitFor(t, "the chart has a bar", `document.querySelectorAll("#chart svg rect.bar").length === 1`)
		require.Equal(t, "Synced", eval[string](t, b, `document.querySelector('#st-types tr[data-type="power"] .badge').textContent`))
		require.Equal(t, "Not synced", eval[string](t, b, `document.querySelector('#st-types tr[data-type="fan"] .badge').textContent`))
		b.do(t, "sync again", chromedp.Click(chromedp.ID("sync-now")))
		b.waitFor(t, "generation 2", `document.getElementById("st-generation").textContent === "2"`)
		require.Contains(t, eval[string](t, b, `document.getElementById("st-next").textContent`), "group: event-log, asset", "the next polled group (group size 2)")
		b.waitFor(t, "the chart has two bars", `document.querySelectorAll("#chart svg rect.bar").length === 2`)
	})

	for _, c := range []struct {
		button string
		choice web.UpgradeChoice
	}{{"upgrade-keep", web.KeepUpgraded}, {"upgrade-defaults", web.RestoreDefaults}} {
		t.Run("upgrade: "+string(c.choice), func(t *testing.T) {
			b.do(t, "simulate an upgrade", chromedp.Click(chromedp.ID("simulate-upgrade")))
			b.waitFor(t, "the choices show", `!document.getElementById("upgrade-panel").hidden`)
			text := eval[string](t, b, `document.getElementById("upgrade-panel").textContent`)
			require.Contains(t, text, "Keep the upgraded image's information")
			require.Contains(t, text, "Restore the preset defaults")
			require.Contains(t, eval[string](t, b, `document.getElementById("st-next").textContent`), "paused", "no scheduled sync while the choice is pending")
			if c.choice == web.KeepUpgraded {
				b.screenshot(t, "page-upgrade.png")
			}
			b.do(t, "choose", chromedp.Click(chromedp.ID(c.button)))
			b.waitFor(t, "the choices hide", `document.getElementById("upgrade-panel").hidden`)
			b.waitFor(t, "the choice is logged", `document.querySelector("#events tr").getAttribute("data-kind") === "upgrade-choice"`)
			got := fb.upgradeChoices()
			require.Equal(t, c.choice, got[len(got)-1])
			require.Nil(t, fb.Status().Upgrade)
		})
	}
	require.Equal(t, []web.UpgradeChoice{web.KeepUpgraded, web.RestoreDefaults}, fb.upgradeChoices())

	t.Run("screenshots and narrow screen", func(t *testing.T) {
		b.do(t, "explain event-log", chromedp.Focus(chromedp.ID("type-event-log")))
		b.waitFor(t, "event-log explained", explanationShows("event-log"))
		b.screenshot(t, "page.png")
		b.do(t, "phone viewport", chromedp.EmulateViewport(390, 844))
		b.waitFor(t, "layout settled", `window.innerWidth === 390`)
		overflow := eval[int](t, b, `document.documentElement.scrollWidth - document.documentElement.clientWidth`)
		require.LessOrEqual(t, overflow, 0, "the page scrolls sideways on a narrow screen")
		b.screenshot(t, "page-narrow.png")
	})

	require.Empty(t, b.consoleErrors(), "the page wrote errors to the console")
}
