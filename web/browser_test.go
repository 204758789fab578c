package web_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chromedp/cdproto/input"
	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/require"

	"github.com/cmcsync/cmcsync/internal/browsertest"
	"github.com/cmcsync/cmcsync/web"
)

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

// browserSession drives one headless Chromium tab (internal/browsertest)
// and records every console error, exception and browser-log error the
// page produces.
type browserSession struct{ *browsertest.Session }

func newBrowser(t *testing.T) *browserSession {
	return &browserSession{browsertest.New(t, 90*time.Second)}
}

func (b *browserSession) do(t *testing.T, what string, steps ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	b.Do(t, what, steps...)
}

// eval evaluates a JavaScript expression and decodes its value.
func eval[T any](t *testing.T, b *browserSession, expr string) T {
	t.Helper()
	return browsertest.Eval[T](t, b.Session, expr)
}

// waitFor waits until the JavaScript expression is truthy.
func (b *browserSession) waitFor(t *testing.T, what, expr string) {
	t.Helper()
	b.WaitFor(t, what, expr, 15*time.Second)
}

func (b *browserSession) consoleErrors() []string { return b.ConsoleErrors() }

// forgetErrors drops the recorded console errors that contain substr: the
// ones a test caused on purpose (a stopped daemon's failed requests).
func (b *browserSession) forgetErrors(substr string) { b.ForgetErrors(substr) }

func (b *browserSession) screenshot(t *testing.T, name string) {
	t.Helper()
	png := b.Screenshot(t)
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

// stoppable serves h until stop is called, then drops every connection
// without an answer, as a stopped daemon does, until start.
type stoppable struct {
	h    http.Handler
	down atomic.Bool
}

func (s *stoppable) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if s.down.Load() {
		if conn, _, err := w.(http.Hijacker).Hijack(); err == nil {
			conn.Close()
			return
		}
	}
	s.h.ServeHTTP(w, r)
}

// postAPI sends a change with the token, as a script or another browser
// would.
func postAPI(t *testing.T, url, path, body string) int {
	t.Helper()
	req, err := http.NewRequest("POST", url+path, strings.NewReader(body))
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+testToken)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	return resp.StatusCode
}

// checkedTypes is a JS expression: the names of the checked options.
const checkedTypes = `Array.from(document.querySelectorAll("input[name=type]:checked")).map(function(b){return b.value})`

// layoutProbe is a JS expression: the explanation area's height and the
// top of the configuration below it, in CSS pixels.
const layoutProbe = `(function(){var e=document.getElementById("explanation").getBoundingClientRect();return [e.height, document.querySelector("fieldset.config").getBoundingClientRect().top + window.scrollY];})()`

// TestBrowser drives the selection page in real headless Chromium.
func TestBrowser(t *testing.T) {
	b := newBrowser(t)
	srv, fb := newServer(t)
	daemon := &stoppable{h: srv}
	ts := httptest.NewServer(daemon)
	t.Cleanup(ts.Close)
	allTypes := []string{"power", "fan", "node", "event-log", "fault-log", "asset"}

	// The URL that cmcsync serve prints carries the token once, in the
	// fragment; the page keeps it and cleans the address.
	b.do(t, "open the page", chromedp.Navigate(ts.URL+"/#token="+testToken))
	b.waitFor(t, "the page loaded", `document.body.getAttribute("data-loaded") === "true" && document.querySelectorAll("#type-options li").length === 6`)
	b.waitFor(t, "the token is accepted", `document.getElementById("auth-state").textContent.includes("Token accepted")`)
	require.Equal(t, "", eval[string](t, b, `location.hash`), "the token stays out of the address bar")
	require.Equal(t, allTypes, eval[[]string](t, b, checkedTypes))

	t.Run("click shows the explanation", func(t *testing.T) {
		b.do(t, "click fan", chromedp.Click(chromedp.CSS(`li[data-type="fan"] .option-title`)))
		b.waitFor(t, "fan explained", explanationShows("fan"))
		text := eval[string](t, b, `document.getElementById("explanation").textContent`)
		for _, want := range []string{fakeTypes[1].Title, fakeTypes[1].Holds, fakeTypes[1].WhyBackup, fakeTypes[1].ChangeRate} {
			require.Contains(t, text, want)
		}
		require.True(t, eval[bool](t, b, `document.querySelector('li[data-type="fan"]').classList.contains("current")`))
	})

	// Defect: the whole option was a <label>, so clicking a title to read
	// its explanation toggled the box; clicking each title once left
	// nothing selected.
	t.Run("reading explanations never toggles a box", func(t *testing.T) {
		for _, name := range allTypes {
			b.do(t, "click the title of "+name, chromedp.Click(chromedp.CSS(`li[data-type="`+name+`"] .option-title`)))
			b.waitFor(t, name+" explained", explanationShows(name))
			b.do(t, "click the name of "+name, chromedp.Click(chromedp.CSS(`li[data-type="`+name+`"] .option-name`)))
			b.do(t, "click the state badge of "+name, chromedp.Click(chromedp.ID("opt-state-"+name)))
		}
		b.do(t, "click the explanation", chromedp.Click(chromedp.ID("explanation")))
		require.Equal(t, allTypes, eval[[]string](t, b, checkedTypes), "reading changed the selection")
		require.Equal(t, "", eval[string](t, b, `document.getElementById("dirty-state").textContent`))

		// The box itself still toggles, and shows its explanation too.
		b.do(t, "untick fan", chromedp.Click(chromedp.ID("type-fan")))
		b.waitFor(t, "fan explained", explanationShows("fan"))
		require.False(t, eval[bool](t, b, `document.getElementById("type-fan").checked`))
		b.do(t, "tick fan", chromedp.Click(chromedp.ID("type-fan")))
		require.Equal(t, allTypes, eval[[]string](t, b, checkedTypes))
		b.do(t, "revert", chromedp.Click(chromedp.ID("revert")))
		b.do(t, "back to fan's title", chromedp.Click(chromedp.CSS(`li[data-type="fan"] .option-title`)))
	})

	t.Run("keyboard focus shows the explanation", func(t *testing.T) {
		// The click left focus on fan's title; Tab moves to the next option's box.
		b.do(t, "tab", chromedp.KeyEvent("\t"))
		b.waitFor(t, "node focused", `document.activeElement && document.activeElement.id === "type-node"`)
		b.waitFor(t, "node explained", explanationShows("node"))
		require.Contains(t, eval[string](t, b, `document.getElementById("explanation").textContent`), fakeTypes[2].Holds)
		b.do(t, "tab to node's title", chromedp.KeyEvent("\t"))
		b.waitFor(t, "node's title focused", `document.activeElement.id === "info-node"`)
		b.do(t, "space on the title", chromedp.KeyEvent(" "))
		b.do(t, "enter on the title", chromedp.KeyEvent("\r"))
		require.True(t, eval[bool](t, b, `document.getElementById("type-node").checked`), "keys on a title do not toggle")
	})

	t.Run("hover shows the explanation", func(t *testing.T) {
		b.do(t, "scroll", chromedp.ScrollIntoView(chromedp.CSS(`li[data-type="asset"]`)))
		xy := eval[[]float64](t, b, `(function(){var r=document.querySelector('li[data-type="asset"]').getBoundingClientRect();return [r.left+r.width/2, r.top+r.height/2];})()`)
		b.do(t, "hover asset", chromedp.MouseEvent(input.DispatchMouseEventTypeMouseMoved, xy[0], xy[1]))
		b.waitFor(t, "asset explained", explanationShows("asset"))
	})

	// Defect: the explanation area took its content's height, so the form
	// below jumped by hundreds of pixels from one option to the next.
	t.Run("the explanation area has a fixed size", func(t *testing.T) {
		var first []float64
		for _, name := range allTypes {
			b.do(t, "focus "+name, chromedp.Focus(chromedp.ID("type-"+name)))
			b.waitFor(t, name+" explained", explanationShows(name))
			got := eval[[]float64](t, b, layoutProbe)
			if first == nil {
				first = got
				continue
			}
			require.InDelta(t, first[0], got[0], 0.5, "the explanation of %s changed the area's height", name)
			require.InDelta(t, first[1], got[1], 0.5, "the explanation of %s moved the form below", name)
		}
		b.do(t, "focus event-log", chromedp.Focus(chromedp.ID("type-event-log")))
		b.waitFor(t, "event-log explained", explanationShows("event-log"))
		require.True(t, eval[bool](t, b, `(function(){var e=document.getElementById("explanation");return e.scrollHeight > e.clientHeight + 20;})()`),
			"the long explanation scrolls inside the area")
	})

	// Defect: the sizes quoted were those of an 8 MiB reference region.
	t.Run("sizes are the running region's", func(t *testing.T) {
		b.do(t, "focus fan", chromedp.Focus(chromedp.ID("type-fan")))
		b.waitFor(t, "fan explained", explanationShows("fan"))
		size := eval[string](t, b, `document.querySelector('#explanation [data-size]').textContent`)
		require.Contains(t, size, "96.0 KiB", "fan's room in the running region")
		require.Contains(t, size, "2.0 MiB", "the running region's size")
		require.NotContains(t, eval[string](t, b, `document.getElementById("explanation").textContent`), "8 MiB")
		b.do(t, "focus asset", chromedp.Focus(chromedp.ID("type-asset")))
		b.waitFor(t, "asset explained", explanationShows("asset"))
		require.Equal(t, "typical", eval[string](t, b, `document.querySelector('#explanation [data-size]').getAttribute("data-size")`), "no running size known: the typical text")
		require.Contains(t, eval[string](t, b, `document.getElementById("explanation").textContent`), fakeTypes[5].TypicalSize)
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
		b.do(t, "revert", chromedp.Click(chromedp.ID("revert")))
	})

	// Defect: an empty selection got "choose at least one of all" from the
	// engine while docs/API.md said it was allowed. One rule now: refused.
	t.Run("an empty selection is refused with one clear message", func(t *testing.T) {
		before := apiConfig(t, ts.URL)
		b.do(t, "clear the selection", chromedp.Click(chromedp.ID("select-none")))
		require.Empty(t, eval[[]string](t, b, checkedTypes))
		b.do(t, "save", chromedp.Click(chromedp.ID("save")))
		b.waitFor(t, "types message", `document.getElementById("types-error").textContent.includes("Select at least one information type")`)
		require.Equal(t, "type-power", eval[string](t, b, `document.activeElement.id`), "focus moves to the first box")
		require.Equal(t, before, apiConfig(t, ts.URL), "nothing was sent")
		require.Equal(t, allTypes, fb.Config().Types)
		b.do(t, "revert", chromedp.Click(chromedp.ID("revert")))
		require.Equal(t, allTypes, eval[[]string](t, b, checkedTypes))
		require.Equal(t, "", eval[string](t, b, `document.getElementById("types-error").textContent`))
	})

	want := web.Config{Types: []string{"power", "event-log", "asset"}, Interval: web.Duration(45 * time.Second), Threshold: web.Duration(750 * time.Millisecond), GroupSize: 2, Verify: false, RetryAtOnce: true}
	t.Run("choose, save, reload", func(t *testing.T) {
		for _, ty := range fakeTypes {
			chosen := slices.Contains(want.Types, ty.Name)
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
		require.Equal(t, want.Types, eval[[]string](t, b, checkedTypes))
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
		require.Equal(t, "Not selected", eval[string](t, b, `document.querySelector('#st-types tr[data-type="fan"] .badge').textContent`))
		b.do(t, "sync again", chromedp.Click(chromedp.ID("sync-now")))
		b.waitFor(t, "generation 2", `document.getElementById("st-generation").textContent === "2"`)
		require.Contains(t, eval[string](t, b, `document.getElementById("st-next").textContent`), "group: event-log, asset", "the next polled group (group size 2)")
		b.waitFor(t, "the chart has two bars", `document.querySelectorAll("#chart svg rect.bar").length === 2`)
		b.waitFor(t, "the round's notice", `!!document.querySelector('#notices [data-key="action"].notice-ok')`)
	})

	// Defect: the scrub's date was in the browser's 12-hour form ("11:43:15
	// PM") beside the 24-hour dates of the sync times and the events.
	t.Run("every date on the page is in one form", func(t *testing.T) {
		fb.mu.Lock()
		fb.lastScrub = time.Date(2026, 12, 7, 23, 43, 15, 0, time.UTC)
		fb.mu.Unlock()
		b.waitFor(t, "the scrub is shown", `document.getElementById("st-health").textContent.includes("OKscrubbed ")`)
		for _, id := range []string{"st-health", "st-last", "st-next"} {
			text := eval[string](t, b, `document.getElementById("`+id+`").textContent`)
			require.NotRegexp(t, `\b(AM|PM)\b`, text, "%s: a 12-hour time", id)
		}
		fb.mu.Lock()
		fb.lastScrub = time.Time{}
		fb.mu.Unlock()
	})

	// Defect: notices stayed for good. A failure's notice leaves when the
	// engine's state moves on.
	t.Run("a failure notice clears when it no longer applies", func(t *testing.T) {
		fb.setSyncErr("primary chip does not answer")
		b.do(t, "sync now", chromedp.Click(chromedp.ID("sync-now")))
		b.waitFor(t, "the failure notice", `(document.querySelector('#notices [data-key="action"]') || {}).textContent === "Sync failed: sync: primary chip does not answer"`)
		b.waitFor(t, "one notice", `document.querySelectorAll("#notices .notice").length === 1`)
		fb.setSyncErr("")
		require.Equal(t, http.StatusOK, postAPI(t, ts.URL, "/api/sync", "{}"), "a round run elsewhere (the schedule, a script)")
		b.waitFor(t, "generation 3", `document.getElementById("st-generation").textContent === "3"`)
		b.waitFor(t, "the notice left", `document.getElementById("notices").hidden && !document.querySelector("#notices .notice")`)
		b.forgetErrors("status of 500") // the failure was on purpose
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

			// Defect: "Sync now" stayed enabled and failed with 409.
			b.waitFor(t, "sync now disabled", `document.getElementById("sync-now").disabled`)
			reason := eval[string](t, b, `document.getElementById("action-reason").textContent`)
			require.Contains(t, reason, "choose what happens after the image upgrade first")
			require.True(t, eval[bool](t, b, `!document.getElementById("action-reason").hidden`))
			gen := fb.Status().Generation
			b.do(t, "click the disabled sync", chromedp.Click(chromedp.ID("sync-now")))
			require.Equal(t, gen, fb.Status().Generation)
			require.False(t, eval[bool](t, b, `!!document.querySelector('#notices [data-key="action"].notice-bad')`), "no 409 to report")
			if c.choice == web.KeepUpgraded {
				b.screenshot(t, "page-upgrade.png")
			}

			if c.choice == web.RestoreDefaults {
				// Defect: restoring the defaults destroyed the event log
				// without a question.
				b.do(t, "ask to restore", chromedp.Click(chromedp.ID(c.button)))
				b.waitFor(t, "the confirmation", `document.getElementById("restore-confirm").open`)
				listed := eval[[]string](t, b, `Array.from(document.querySelectorAll("#restore-types li")).map(function(li){return li.getAttribute("data-type")})`)
				require.Equal(t, want.Types, listed, "it names the types of the saved selection")
				dialog := eval[string](t, b, `document.getElementById("restore-confirm").textContent`)
				require.Contains(t, dialog, "Node event log (SEL)")
				require.NotContains(t, dialog, "Fan information", "fan is not chosen: not reset")
				require.Contains(t, dialog, "Every entry of the Node event log (SEL) is lost")
				require.Equal(t, "restore-cancel", eval[string](t, b, `document.activeElement.id`), "the safe answer has the focus")
				b.screenshot(t, "page-restore-confirm.png")
				b.do(t, "cancel", chromedp.Click(chromedp.ID("restore-cancel")))
				b.waitFor(t, "the dialog closed", `!document.getElementById("restore-confirm").open`)
				require.Len(t, fb.upgradeChoices(), 1, "cancel chose nothing")
				require.NotNil(t, fb.Status().Upgrade)
				require.False(t, eval[bool](t, b, `document.getElementById("upgrade-panel").hidden`))

				b.do(t, "ask again", chromedp.Click(chromedp.ID(c.button)))
				b.waitFor(t, "the confirmation", `document.getElementById("restore-confirm").open`)
				b.do(t, "confirm", chromedp.Click(chromedp.ID("restore-go")))
			} else {
				b.do(t, "choose", chromedp.Click(chromedp.ID(c.button)))
			}
			b.waitFor(t, "the choices hide", `document.getElementById("upgrade-panel").hidden`)
			b.waitFor(t, "the choice is logged", `document.querySelector("#events tr").getAttribute("data-kind") === "upgrade-choice"`)
			got := fb.upgradeChoices()
			require.Equal(t, c.choice, got[len(got)-1])
			require.Nil(t, fb.Status().Upgrade)
			b.waitFor(t, "sync now enabled again", `!document.getElementById("sync-now").disabled && document.getElementById("action-reason").hidden`)
		})
	}
	require.Equal(t, []web.UpgradeChoice{web.KeepUpgraded, web.RestoreDefaults}, fb.upgradeChoices())

	// Defect: a stopped daemon left the status green.
	t.Run("a stopped daemon shows offline", func(t *testing.T) {
		require.Equal(t, "Primary image", eval[string](t, b, `document.getElementById("active-badge").textContent`))
		daemon.down.Store(true)
		b.waitFor(t, "offline", `document.getElementById("active-badge").textContent === "Offline"`)
		require.Contains(t, eval[string](t, b, `document.getElementById("active-badge").className`), "badge-muted", "grey, not green")
		require.True(t, eval[bool](t, b, `document.getElementById("status-card").classList.contains("stale")`))
		require.Contains(t, eval[string](t, b, `document.getElementById("st-offline").textContent`), "does not answer")
		require.Contains(t, eval[string](t, b, `document.querySelector('#notices [data-key="offline"]').textContent`), "does not answer")
		require.True(t, eval[bool](t, b, `document.getElementById("sync-now").disabled`))
		require.Contains(t, eval[string](t, b, `document.getElementById("action-reason").textContent`), "does not answer")
		b.screenshot(t, "page-offline.png")

		daemon.down.Store(false)
		b.waitFor(t, "online again", `document.getElementById("active-badge").textContent === "Primary image"`)
		require.Contains(t, eval[string](t, b, `document.getElementById("active-badge").className`), "badge-ok")
		require.False(t, eval[bool](t, b, `document.getElementById("status-card").classList.contains("stale")`))
		require.True(t, eval[bool](t, b, `document.getElementById("st-offline").hidden`))
		require.False(t, eval[bool](t, b, `!!document.querySelector('#notices [data-key="offline"]')`), "the offline notice left")
		require.False(t, eval[bool](t, b, `document.getElementById("sync-now").disabled`))
		b.forgetErrors("net::ERR_")
	})

	t.Run("screenshots and narrow screen", func(t *testing.T) {
		b.do(t, "explain event-log", chromedp.Focus(chromedp.ID("type-event-log")))
		b.waitFor(t, "event-log explained", explanationShows("event-log"))
		b.screenshot(t, "page.png")
		b.do(t, "phone viewport", chromedp.EmulateViewport(390, 844))
		b.waitFor(t, "layout settled", `window.innerWidth === 390`)
		overflow := eval[int](t, b, `document.documentElement.scrollWidth - document.documentElement.clientWidth`)
		require.LessOrEqual(t, overflow, 0, "the page scrolls sideways on a narrow screen")
		narrow := eval[[]float64](t, b, layoutProbe)
		b.do(t, "explain fan", chromedp.Focus(chromedp.ID("type-fan")))
		b.waitFor(t, "fan explained", explanationShows("fan"))
		require.Equal(t, narrow, eval[[]float64](t, b, layoutProbe), "the area keeps its size on a narrow screen too")
		b.screenshot(t, "page-narrow.png")
	})

	require.Empty(t, b.consoleErrors(), "the page wrote errors to the console")
}

// TestBrowserTokenForReads: on a server that needs the token for reads
// (off loopback), the page loads, asks for the token, and shows
// everything once it is pasted.
func TestBrowserTokenForReads(t *testing.T) {
	b := newBrowser(t)
	srv, err := web.New(newFake(), web.Options{Token: testToken, RequireTokenForReads: true})
	require.NoError(t, err)
	ts := httptest.NewServer(srv)
	t.Cleanup(ts.Close)

	b.do(t, "open the page without a token", chromedp.Navigate(ts.URL+"/"))
	b.waitFor(t, "the token is asked for", `!!document.querySelector('#notices [data-key="token"]') && document.querySelector('#notices [data-key="token"]').textContent.includes("shows nothing without the API token")`)
	require.Equal(t, 0, eval[int](t, b, `document.querySelectorAll("#type-options li").length`))
	require.Equal(t, "token-input", eval[string](t, b, `document.activeElement.id`))
	b.do(t, "paste the token", chromedp.SendKeys(chromedp.ID("token-input"), testToken), chromedp.Click(chromedp.CSS(`#auth-form button[type=submit]`)))
	b.waitFor(t, "the page loaded", `document.body.getAttribute("data-loaded") === "true" && document.querySelectorAll("#type-options li").length === 6`)
	b.waitFor(t, "the token notice left", `!document.querySelector('#notices [data-key="token"]')`)
	require.Equal(t, "Primary image", eval[string](t, b, `document.getElementById("active-badge").textContent`))
	b.forgetErrors("status of 401") // the reads before the token, on purpose
	require.Empty(t, b.consoleErrors(), "the page wrote errors to the console")
}
