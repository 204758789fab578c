package web

import (
	"net/http"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// metrics is the /metrics registry: running totals read from the Backend's
// Status at scrape time (the engine is their single source of truth) and a
// round-duration histogram fed by Server.RecordRound.
type metrics struct {
	reg      *prometheus.Registry
	duration prometheus.Histogram
}

var (
	descRounds       = prometheus.NewDesc("cmcsync_rounds_total", "Sync rounds run, any outcome.", nil, nil)
	descFailures     = prometheus.NewDesc("cmcsync_round_failures_total", "Sync rounds interrupted or failed.", nil, nil)
	descFailovers    = prometheus.NewDesc("cmcsync_failovers_total", "Failovers to the backup image.", nil, nil)
	descPurges       = prometheus.NewDesc("cmcsync_purges_total", "Interrupted rounds purged from the backup.", nil, nil)
	descBytesWritten = prometheus.NewDesc("cmcsync_bytes_written_total", "Bytes programmed to the backup.", nil, nil)
	descGeneration   = prometheus.NewDesc("cmcsync_generation", "Last committed generation on the backup.", nil, nil)
	descUpgrade      = prometheus.NewDesc("cmcsync_upgrade_pending", "1 while an image upgrade waits for the user's choice.", nil, nil)
	descActiveBackup = prometheus.NewDesc("cmcsync_active_is_backup", "1 when the CMC runs from the backup image (after a failover).", nil, nil)
	descLastSync     = prometheus.NewDesc("cmcsync_last_sync_timestamp_seconds", "Unix time of the last sync round (0: never).", nil, nil)
)

// statusCollector turns Backend.Status into metrics at scrape time.
type statusCollector struct{ b Backend }

func (c statusCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{descRounds, descFailures, descFailovers, descPurges, descBytesWritten, descGeneration, descUpgrade, descActiveBackup, descLastSync} {
		ch <- d
	}
}

func (c statusCollector) Collect(ch chan<- prometheus.Metric) {
	st := c.b.Status()
	n := st.Counters
	ch <- prometheus.MustNewConstMetric(descRounds, prometheus.CounterValue, float64(n.Rounds))
	ch <- prometheus.MustNewConstMetric(descFailures, prometheus.CounterValue, float64(n.Failures))
	ch <- prometheus.MustNewConstMetric(descFailovers, prometheus.CounterValue, float64(n.Failovers))
	ch <- prometheus.MustNewConstMetric(descPurges, prometheus.CounterValue, float64(n.Purges))
	ch <- prometheus.MustNewConstMetric(descBytesWritten, prometheus.CounterValue, float64(n.BytesWritten))
	ch <- prometheus.MustNewConstMetric(descGeneration, prometheus.GaugeValue, float64(st.Generation))
	ch <- prometheus.MustNewConstMetric(descUpgrade, prometheus.GaugeValue, boolFloat(st.Upgrade != nil))
	ch <- prometheus.MustNewConstMetric(descActiveBackup, prometheus.GaugeValue, boolFloat(st.Active == "backup"))
	last := 0.0
	if !st.LastSync.IsZero() {
		last = float64(st.LastSync.UnixNano()) / 1e9
	}
	ch <- prometheus.MustNewConstMetric(descLastSync, prometheus.GaugeValue, last)
}

func boolFloat(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

func newMetrics(b Backend) *metrics {
	m := &metrics{
		reg: prometheus.NewRegistry(),
		duration: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "cmcsync_round_duration_seconds",
			Help: "Wall time of sync rounds.",
			// 1 ms .. ~65 s: a round on a quiet region takes milliseconds,
			// a full resync of a large region on slow NOR takes seconds.
			Buckets: prometheus.ExponentialBuckets(0.001, 4, 9),
		}),
	}
	m.reg.MustRegister(statusCollector{b}, m.duration)
	return m
}

func (m *metrics) observe(r Round) {
	if r.DurationSeconds >= 0 {
		m.duration.Observe(r.DurationSeconds)
	}
}

func (m *metrics) handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{})
}
