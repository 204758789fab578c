package scenario

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/require"

	"github.com/cmcsync/cmcsync/internal/browsertest"
)

// guestChosen are the information types the browser test chooses on the
// guest daemon's page (asset and event-log among them: the types the
// scenario collects in the guest), and guestInterval the schedule it sets.
var guestChosen = []string{"power", "event-log", "asset"}

const guestInterval = 5 // seconds

// testGuestPage drives the page that cmcsync serve, running inside the
// emulated BMC, serves over TLS through the forwarded port, in headless
// Chromium trusting the scenario's certificate (by its key): it opens the
// page with the token, chooses information types and a schedule and
// saves them, then watches a scheduled round complete (no click: the new
// schedule runs it) and the status update (generation, last sync, the
// types' states, the newest event, a bar in the chart), and a "Sync now"
// round after it. The daemon's own API must agree with what the page
// shows.
func testGuestPage(t *testing.T, d DaemonAPI) {
	b := browsertest.New(t, 8*time.Minute, browsertest.TrustSPKI(browsertest.SPKIHash(d.Cert)))
	// A round under TCG takes seconds (the first after a boot reads the
	// whole 4 MiB region); the page polls every few seconds.
	const within = 2 * time.Minute
	t.Cleanup(func() { b.Do(t, "leave the page", chromedp.Navigate("about:blank")) })

	b.Do(t, "open the page", chromedp.Navigate(d.URL+"/#token="+d.Token))
	b.WaitFor(t, "the page loaded", `document.body.getAttribute("data-loaded") === "true" && document.querySelectorAll("#type-options li").length === 6 && document.getElementById("interval").value !== ""`, within)
	b.WaitFor(t, "the token accepted", `document.getElementById("auth-state").textContent.includes("Token accepted")`, within)
	require.Equal(t, "https:", browsertest.Eval[string](t, b, `location.protocol`), "the page came over TLS")

	for _, name := range []string{"power", "fan", "node", "event-log", "fault-log", "asset"} {
		want := slices.Contains(guestChosen, name)
		if browsertest.Eval[bool](t, b, fmt.Sprintf(`document.getElementById("type-%s").checked`, name)) != want {
			b.Do(t, "toggle "+name, chromedp.Click(chromedp.ID("type-"+name)))
		}
	}
	b.Do(t, "set the schedule",
		chromedp.Evaluate[chromedp.Void](`document.getElementById("interval").value = ""`),
		chromedp.SendKeys(chromedp.ID("interval"), strconv.Itoa(guestInterval)),
		chromedp.Evaluate[chromedp.Void](`document.getElementById("groupSize").value = ""`),
		chromedp.SendKeys(chromedp.ID("groupSize"), "0"))
	b.Do(t, "save", chromedp.Click(chromedp.ID("save")))
	b.WaitFor(t, "saved", `document.getElementById("save-state").textContent.startsWith("Saved")`, within)

	var cfg struct {
		Types    []string `json:"types"`
		Interval float64  `json:"interval_seconds"`
	}
	apiGet(t, d, "/api/config", &cfg)
	require.Equal(t, guestChosen, cfg.Types, "the daemon's configuration after the save")
	require.Equal(t, float64(guestInterval), cfg.Interval)

	// A round the new schedule runs: the generation the page shows moves
	// on, with no click.
	gen := func() uint64 {
		n, err := strconv.ParseUint(browsertest.Eval[string](t, b, `document.getElementById("st-generation").textContent`), 10, 64)
		require.NoError(t, err)
		return n
	}
	b.WaitFor(t, "the status shows a generation", `/^[0-9]+$/.test(document.getElementById("st-generation").textContent)`, within)
	g0 := gen()
	bars0 := browsertest.Eval[int](t, b, `document.querySelectorAll("#chart svg rect.bar").length`)
	t.Logf("saved at generation %d; waiting for a scheduled round", g0)
	b.WaitFor(t, "a scheduled round's generation", fmt.Sprintf(`Number(document.getElementById("st-generation").textContent) > %d`, g0), within)
	b.WaitFor(t, "its bar in the chart", fmt.Sprintf(`document.querySelectorAll("#chart svg rect.bar").length > %d`, bars0), within)
	b.WaitFor(t, "the last sync shown", `document.getElementById("st-last").textContent !== "never"`, within)
	for _, name := range guestChosen {
		b.WaitFor(t, name+" synced", fmt.Sprintf(`(document.querySelector('#st-types tr[data-type="%s"] .badge') || {}).textContent === "Synced"`, name), within)
	}
	require.Equal(t, "Not selected", browsertest.Eval[string](t, b, `document.querySelector('#st-types tr[data-type="fan"] .badge').textContent`))
	require.True(t, browsertest.Eval[bool](t, b, `document.getElementById("st-active").textContent.includes("Primary")`))

	var st struct {
		Generation uint64 `json:"generation"`
		Types      []struct {
			Name     string `json:"name"`
			Selected bool   `json:"selected"`
		} `json:"types"`
	}
	apiGet(t, d, "/api/status", &st)
	require.GreaterOrEqual(t, st.Generation, gen(), "the API is at least at the generation the page shows")
	var selected []string
	for _, ty := range st.Types {
		if ty.Selected {
			selected = append(selected, ty.Name)
		}
	}
	require.ElementsMatch(t, guestChosen, selected, "the API's selected types")

	// Sync now: a round on request, its commit the newest event.
	g1 := gen()
	b.Do(t, "sync now", chromedp.Click(chromedp.ID("sync-now")))
	b.WaitFor(t, "a round on request", fmt.Sprintf(`Number(document.getElementById("st-generation").textContent) > %d`, g1), within)
	b.WaitFor(t, "a commit the newest event", `document.querySelector("#events tr") && document.querySelector("#events tr").getAttribute("data-kind") === "commit"`, within)
	require.Empty(t, b.ConsoleErrors(), "the page logged errors")
}

// apiGet reads a JSON document of the guest daemon's API with the token.
func apiGet(t *testing.T, d DaemonAPI, path string, v any) {
	t.Helper()
	req, err := http.NewRequest("GET", d.URL+path, nil)
	require.NoError(t, err)
	req.Header.Set("Authorization", "Bearer "+d.Token)
	c := *d.Client
	c.Timeout = 30 * time.Second
	resp, err := c.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, resp.StatusCode, "%s: %s", path, body)
	require.NoError(t, json.Unmarshal(body, v), "%s: %s", path, body)
}
