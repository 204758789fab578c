package main

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/require"

	"github.com/cmcsync/cmcsync/internal/browsertest"
)

// eventShown is a JS predicate: the page's event table has a row of kind
// whose text contains each of texts.
func eventShown(kind string, texts ...string) string {
	expr := fmt.Sprintf(`Array.from(document.querySelectorAll('#events tr[data-kind=%q]')).some(function (r) { var t = r.textContent; return true`, kind)
	for _, s := range texts {
		expr += fmt.Sprintf(` && t.includes(%q)`, s)
	}
	return expr + ` })`
}

// roundShown is a JS predicate: the page's chart has a bar for a round
// with the outcome.
func roundShown(outcome string) string {
	return fmt.Sprintf(`Array.from(document.querySelectorAll('#chart rect.bar title')).some(function (t) { return t.textContent.includes(" · %s · ") })`, outcome)
}

// TestServePageShowsTheMethod runs the real daemon with fault schedules
// (serve --faults) and watches the page in headless Chromium: the primary
// answering slower than the response-time threshold makes a round fail
// over, and the page shows the anomaly, the interruption, the
// wait-response against the threshold, the failover and the backup image
// active; a "Sync now" click then syncs from the backup image. The primary
// failing to answer for a moment, in the middle of a round's writes,
// makes the round interrupted: the page shows the wait-response within
// the threshold, the purge, its verification and the reinit.
func TestServePageShowsTheMethod(t *testing.T) {
	b := browsertest.New(t, 3*time.Minute)
	start, round := firstStartOps(t)
	const within = 20 * time.Second
	open := func(t *testing.T, faults string) {
		dir := filepath.Join(t.TempDir(), "state")
		// No scrub beside the rounds, as in firstStartOps: the operation
		// counts the schedules name are the start's and the first round's.
		r := startServe(t, "--state", dir, "--cmc-step", "0", "--scrub-every", "0", "--faults", faults)
		// Leave the page before the daemon stops (cleanups run last
		// first), so that its polls find no daemon gone.
		t.Cleanup(func() { b.Do(t, "leave the page", chromedp.Navigate("about:blank")) })
		b.Do(t, "open the page", chromedp.Navigate(r.url+"/#token="+tokenOf(t, dir)))
		b.WaitFor(t, "the page loaded", `document.body.getAttribute("data-loaded") === "true"`, within)
	}

	t.Run("failover", func(t *testing.T) {
		// Every read of the primary after the start answers 3 s late.
		open(t, fmt.Sprintf("(on (and primary read (after %d)) (delay 3s))", start))
		b.WaitFor(t, "the anomaly", eventShown("anomaly", "response time above the threshold"), within)
		b.WaitFor(t, "the interruption", eventShown("interrupt"), within)
		b.WaitFor(t, "the wait-response against the threshold", eventShown("wait-response", "against the 2s threshold", "did not answer within the threshold"), within)
		b.WaitFor(t, "the failover", eventShown("failover", "exceeds threshold 2s", "flash1 is now active"), within)
		b.WaitFor(t, "the failover round", roundShown("failover"), within)
		b.WaitFor(t, "the backup image active", `document.getElementById("st-active").textContent.includes("Backup")`, within)

		b.Do(t, "sync now", chromedp.Click(chromedp.ID("sync-now")))
		b.WaitFor(t, "a round from the backup image", eventShown("commit", "written to flash0"), within)
		b.WaitFor(t, "its bar", roundShown("committed"), within)
		saveScreenshot(t, b, "failover.png")
	})

	t.Run("purge and reinit", func(t *testing.T) {
		// Halfway through the first round's writes the primary does not
		// answer for outage operations, then answers again. The engine's
		// wait-response probes it every 5 ms of its clock, which follows
		// the wall clock between the chips' operations, so the wait grows
		// with the machine's load: the outage is kept short (tens of
		// failed probes once the round's next probe meets it), not to
		// reach the 2 s threshold on a loaded machine. Measured at load 15:
		// 200 operations gave a 1.03 s wait, 100 gave 172 ms, 40 met no
		// read of the primary at all (the round probes it every 35 to 70
		// of its operations).
		const outage = 100
		mid := start + round/2
		open(t, fmt.Sprintf("(on (and primary read (after %d) (before %d)) (fail timeout))", mid, mid+outage))
		b.WaitFor(t, "the anomaly", eventShown("anomaly", "no response"), within)
		b.WaitFor(t, "the interruption", eventShown("interrupt", "chunks left"), within)
		b.WaitFor(t, "the wait-response within the threshold", eventShown("wait-response", "against the 2s threshold", "answered within the threshold"), within)
		b.WaitFor(t, "the purge", eventShown("purge", "erased"), within)
		b.WaitFor(t, "the purge verified", eventShown("purge-verified", "read back erased"), within)
		b.WaitFor(t, "the reinit", eventShown("reinit", "from generation 0"), within)
		b.WaitFor(t, "the interrupted round", roundShown("interrupted"), within)
		require.True(t, browsertest.Eval[bool](t, b, `document.getElementById("st-active").textContent.includes("Primary")`), "no failover")
		b.WaitFor(t, "one failure, one purge", `(function (t) { return t.includes("Failures1") && t.includes("Purges1") && t.includes("Failovers0") })(document.getElementById("st-counters").textContent)`, within)

		b.Do(t, "sync now", chromedp.Click(chromedp.ID("sync-now")))
		b.WaitFor(t, "the round synced again", eventShown("commit", "committed: 400 chunks", "written to flash1"), within)
		saveScreenshot(t, b, "purge-reinit.png")
	})
	require.Empty(t, b.ConsoleErrors(), "the page logged errors")
}

// saveScreenshot keeps a screenshot of the page in $CMCSYNC_ARTEFACTS, if
// set.
func saveScreenshot(t *testing.T, b *browsertest.Session, name string) {
	dir := os.Getenv("CMCSYNC_ARTEFACTS")
	if dir == "" {
		return
	}
	require.NoError(t, os.MkdirAll(dir, 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(dir, name), b.Screenshot(t), 0o644))
}
