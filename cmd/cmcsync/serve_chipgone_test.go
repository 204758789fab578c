package main

import (
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/cmcsync/cmcsync/web"
)

// TestServeChipImageGone: a simulated chip's image file removed, or a copy
// renamed over it, under a running serve raises the alarm — chips_gone in
// /api/status naming the file, a chip-gone event, cmcsync_chips_gone 1 in
// /metrics, an ERROR line — and a round asked for is refused (409) with an
// error naming the file; reads go on, and serve stops cleanly.
func TestServeChipImageGone(t *testing.T) {
	for _, how := range []string{"removed", "replaced"} {
		t.Run(how, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "state")
			r := startServe(t, "--state", dir, "--cmc-step", "0", "--scrub-every", "0")
			var st web.Status
			require.Eventually(t, func() bool {
				return r.call(t, "GET", "/api/status", "", "", &st) == 200 && st.Generation >= 1
			}, 30*time.Second, 20*time.Millisecond, "the first round commits")
			require.Empty(t, st.ChipsGone)

			img := filepath.Join(dir, "chip1.img")
			switch how {
			case "removed":
				require.NoError(t, os.Remove(img))
			case "replaced":
				b, err := os.ReadFile(img)
				require.NoError(t, err)
				require.NoError(t, os.WriteFile(img+".copy", b, 0o644))
				require.NoError(t, os.Rename(img+".copy", img))
			}

			require.Equal(t, 200, r.call(t, "GET", "/api/status", "", "", &st), "reads go on")
			require.Len(t, st.ChipsGone, 1)
			require.Equal(t, img, st.ChipsGone[0].Path)
			require.Contains(t, st.ChipsGone[0].Detail, "the image file "+img+" of chip flash1 was "+how)

			code, body := rawCall(t, r, "POST", "/api/sync", tokenOf(t, dir), "{}")
			require.Equal(t, http.StatusConflict, code, body)
			require.Contains(t, body, img)
			require.Contains(t, body, "refused")

			var events []web.Event
			require.Equal(t, 200, r.call(t, "GET", "/api/events", "", "", &events))
			found := false
			for _, ev := range events {
				found = found || ev.Kind == "chip-gone" && strings.Contains(ev.Detail, img)
			}
			require.True(t, found, "a chip-gone event: %+v", events)
			_, metrics := rawCall(t, r, "GET", "/metrics", "", "")
			require.Contains(t, metrics, "\ncmcsync_chips_gone 1\n")
			require.Contains(t, r.stderr.String(), "ERROR: the image file "+img)
		})
	}
}
