package web_test

import (
	"bytes"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	"github.com/stretchr/testify/require"

	"github.com/cmcsync/cmcsync/web"
)

// flashFake is the fake backend that also reports flash health.
type flashFake struct {
	*fakeBackend
	health web.FlashHealth
}

func (f flashFake) FlashHealth() web.FlashHealth { return f.health }

// scrape returns /metrics parsed by the Prometheus text parser, and the text.
func scrape(t *testing.T, b web.Backend) (map[string]*dto, string) {
	t.Helper()
	s, err := web.New(b, web.Options{Token: testToken})
	require.NoError(t, err)
	code, body, hdr := do(s, "GET", "/metrics", "", nil)
	require.Equal(t, 200, code)
	require.Contains(t, hdr.Get("Content-Type"), "text/plain")
	parser := expfmt.NewTextParser(model.UTF8Validation)
	families, err := parser.TextToMetricFamilies(strings.NewReader(body))
	require.NoError(t, err, "the Prometheus text parser reads /metrics")
	out := map[string]*dto{}
	for name, f := range families {
		d := &dto{kind: f.GetType().String(), values: map[string]float64{}}
		for _, m := range f.GetMetric() {
			label := ""
			for _, l := range m.GetLabel() {
				label += l.GetName() + "=" + l.GetValue()
			}
			switch {
			case m.GetCounter() != nil:
				d.values[label] = m.GetCounter().GetValue()
			case m.GetGauge() != nil:
				d.values[label] = m.GetGauge().GetValue()
			}
		}
		out[name] = d
	}
	return out, body
}

// dto is one metric family: its type and its values by label.
type dto struct {
	kind   string
	values map[string]float64
}

// TestFlashMetrics: a backend that reports flash health gets per-chip
// counters and wear gauges, the backup's health and the scrub age, beside
// the Go runtime and process collectors.
func TestFlashMetrics(t *testing.T) {
	b := flashFake{newFake(), web.FlashHealth{
		Chips: []web.ChipHealth{
			{Name: "flash0", Erases: 3, BytesWritten: 4096, BytesRead: 1 << 20, WorstBlockErases: 7, Endurance: 100_000},
			{Name: "flash1", Erases: 40, BytesWritten: 163840, BytesRead: 8192, WorstBlockErases: 12, Endurance: 100_000},
			{Name: "mtd2", Erases: 1, BytesWritten: 2, BytesRead: 3}, // real flash: no wear known
		},
		BackupHealthy: false, Scrubbed: true, ScrubAge: 90 * time.Minute,
	}}
	m, _ := scrape(t, b)
	tests := []struct {
		name, kind, label string
		want              float64
	}{
		{"cmcsync_flash_erases_total", "COUNTER", "chip=flash1", 40},
		{"cmcsync_flash_bytes_written_total", "COUNTER", "chip=flash0", 4096},
		{"cmcsync_flash_bytes_read_total", "COUNTER", "chip=flash0", 1 << 20},
		{"cmcsync_flash_bytes_read_total", "COUNTER", "chip=mtd2", 3},
		{"cmcsync_flash_worst_block_erases", "GAUGE", "chip=flash1", 12},
		{"cmcsync_flash_endurance_erases", "GAUGE", "chip=flash0", 100_000},
		{"cmcsync_backup_healthy", "GAUGE", "", 0},
		{"cmcsync_backup_scrub_age_seconds", "GAUGE", "", 5400},
		{"cmcsync_rounds_total", "COUNTER", "", 0},
	}
	for _, tt := range tests {
		f, ok := m[tt.name]
		require.True(t, ok, tt.name)
		require.Equal(t, tt.kind, f.kind, tt.name)
		v, ok := f.values[tt.label]
		require.True(t, ok, "%s{%s}", tt.name, tt.label)
		require.Equal(t, tt.want, v, "%s{%s}", tt.name, tt.label)
	}
	_, ok := m["cmcsync_flash_worst_block_erases"].values["chip=mtd2"]
	require.False(t, ok, "no wear gauge where the wear is unknown")
	for _, name := range []string{"go_goroutines", "go_memstats_heap_alloc_bytes", "process_resident_memory_bytes", "process_start_time_seconds"} {
		require.Contains(t, m, name, "standard collectors")
	}

	b.health.Scrubbed = false
	b.health.BackupHealthy = true
	m, _ = scrape(t, b)
	require.NotContains(t, m, "cmcsync_backup_scrub_age_seconds", "absent before the first scrub")
	require.Equal(t, 1.0, m["cmcsync_backup_healthy"].values[""])
}

// TestMetricsWithoutFlashReporter: a backend without the ability gets no
// flash metrics, and the rest is unchanged.
func TestMetricsWithoutFlashReporter(t *testing.T) {
	m, _ := scrape(t, newFake())
	require.NotContains(t, m, "cmcsync_flash_erases_total")
	require.NotContains(t, m, "cmcsync_backup_healthy")
	require.Contains(t, m, "cmcsync_rounds_total")
	require.Contains(t, m, "go_goroutines")
}

// TestMetricsLint checks the output as Prometheus would: with its own
// linter (promtool check metrics) when promtool is installed (Debian's
// prometheus package), and always with the client library's text parser
// (scrape).
func TestMetricsLint(t *testing.T) {
	_, body := scrape(t, flashFake{newFake(), web.FlashHealth{
		Chips:         []web.ChipHealth{{Name: "flash0", Erases: 1, WorstBlockErases: 1, Endurance: 100_000}},
		BackupHealthy: true, Scrubbed: true, ScrubAge: time.Second,
	}})
	promtool, err := exec.LookPath("promtool")
	if err != nil {
		t.Log("promtool not installed (apt-get install prometheus): checked with the text parser only")
		return
	}
	cmd := exec.Command(promtool, "check", "metrics")
	cmd.Stdin = strings.NewReader(body)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	require.NoError(t, cmd.Run(), "promtool check metrics:\n%s", out.String())
	require.Empty(t, strings.TrimSpace(out.String()), "promtool found problems")
}

// TestRestorePendingMetric: the restore-failed alarm is a gauge, 1 while
// a failover's restore is pending, and the status names the types.
func TestRestorePendingMetric(t *testing.T) {
	f := newFake()
	f.restoreFailed = []string{"node"}
	m, _ := scrape(t, f)
	require.Equal(t, "GAUGE", m["cmcsync_restore_pending"].kind)
	require.Equal(t, 1.0, m["cmcsync_restore_pending"].values[""])
	require.Equal(t, []string{"node"}, f.Status().RestoreFailed)
	f.restoreFailed = nil
	m, _ = scrape(t, f)
	require.Equal(t, 0.0, m["cmcsync_restore_pending"].values[""])
}
