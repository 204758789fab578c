package web

import (
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// FlashReporter is an optional Backend ability: the health of the flash
// chips and of the backup store, for /metrics. The daemon implements it;
// /metrics leaves the flash metrics out for a Backend that does not.
// FlashHealth is called at every scrape, so it must be cheap.
type FlashReporter interface {
	FlashHealth() FlashHealth
}

// FlashHealth is what a FlashReporter reports.
type FlashHealth struct {
	// Chips has one entry per chip whose work is counted.
	Chips []ChipHealth
	// BackupHealthy is false when the backup store's checks found
	// damage (when it was opened, or at the last scrub).
	BackupHealthy bool
	// Scrubbed is true once a complete scrub of the backup store has
	// ended; ScrubAge is the time since (measured on the monotonic clock
	// within a run).
	Scrubbed bool
	ScrubAge time.Duration
	// DamagedChunks counts the committed chunks of the backup the scrub
	// found damaged and no round has repaired yet.
	DamagedChunks int
}

// ChipHealth is one chip's work and wear.
type ChipHealth struct {
	// Name is the chip's name ("flash0"), the metrics' chip label.
	Name string
	// Erases, BytesWritten and BytesRead count the erase blocks erased
	// and the bytes programmed and read since the daemon started.
	Erases, BytesWritten, BytesRead int64
	// WorstBlockErases is the erase count of the chip's most-erased block
	// over its life, and Endurance the erase cycles a block is rated for;
	// either is 0 when unknown (real flash), and then left out.
	WorstBlockErases, Endurance int64
}

// metrics is the /metrics registry: running totals read from the Backend's
// Status at scrape time (the engine is their single source of truth), the
// flash health of a FlashReporter, a round-duration histogram fed by
// Server.RecordRound, and the standard Go runtime and process collectors.
type metrics struct {
	reg      *prometheus.Registry
	duration prometheus.Histogram
	// refusedConns counts connections closed at once at their client's
	// bound (connlimit.go); slowHeaders those closed because their headers
	// did not arrive within the header wait (connlimit.go, headerWait);
	// busy counts tokenless requests answered 503 (reqslots.go).
	refusedConns, slowHeaders, busy prometheus.Counter
}

var (
	descRounds       = prometheus.NewDesc("cmcsync_rounds_total", "Sync rounds run, any outcome.", nil, nil)
	descFailures     = prometheus.NewDesc("cmcsync_round_failures_total", "Sync rounds interrupted or failed, and starts that ended in an error.", nil, nil)
	descFailovers    = prometheus.NewDesc("cmcsync_failovers_total", "Failovers to the backup image.", nil, nil)
	descPurges       = prometheus.NewDesc("cmcsync_purges_total", "Purges of interrupted rounds from the backup (a cut purge and the one completing it count twice).", nil, nil)
	descBytesWritten = prometheus.NewDesc("cmcsync_bytes_written_total", "Bytes programmed to the backup.", nil, nil)
	descGeneration   = prometheus.NewDesc("cmcsync_generation", "Last committed generation on the backup.", nil, nil)
	descUpgrade      = prometheus.NewDesc("cmcsync_upgrade_pending", "1 while an image upgrade waits for the user's choice.", nil, nil)
	descActiveBackup = prometheus.NewDesc("cmcsync_active_is_backup", "1 when the CMC runs from the backup image (after a failover).", nil, nil)
	descLastSync     = prometheus.NewDesc("cmcsync_last_sync_timestamp_seconds", "Unix time of the last sync round (0: never).", nil, nil)
	descRestore      = prometheus.NewDesc("cmcsync_restore_pending", "1 while a failover's restore of the active chip's information is not complete (no round commits).", nil, nil)
	descChipsGone    = prometheus.NewDesc("cmcsync_chips_gone", "Chips whose image file or device node was removed or replaced, or whose device went away, while the daemon runs (no round or write runs).", nil, nil)

	chipLabel          = []string{"chip"}
	descFlashErases    = prometheus.NewDesc("cmcsync_flash_erases_total", "Erase blocks erased on the chip since the daemon started.", chipLabel, nil)
	descFlashWritten   = prometheus.NewDesc("cmcsync_flash_bytes_written_total", "Bytes programmed to the chip since the daemon started.", chipLabel, nil)
	descFlashRead      = prometheus.NewDesc("cmcsync_flash_bytes_read_total", "Bytes read from the chip since the daemon started.", chipLabel, nil)
	descWorstBlock     = prometheus.NewDesc("cmcsync_flash_worst_block_erases", "Erase count of the chip's most-erased block over its life.", chipLabel, nil)
	descEndurance      = prometheus.NewDesc("cmcsync_flash_endurance_erases", "Erase cycles each block of the chip is rated for.", chipLabel, nil)
	descBackupHealthy  = prometheus.NewDesc("cmcsync_backup_healthy", "1 when the backup store's checks (at open, at the last scrub) found no damage, else 0.", nil, nil)
	descScrubAge       = prometheus.NewDesc("cmcsync_backup_scrub_age_seconds", "Seconds since the last complete scrub of the backup store ended (absent: none yet).", nil, nil)
	descDamagedChunks  = prometheus.NewDesc("cmcsync_backup_damaged_chunks", "Committed chunks of the backup the scrub found damaged and no round has repaired yet.", nil, nil)
	statusDescriptions = []*prometheus.Desc{descRounds, descFailures, descFailovers, descPurges, descBytesWritten, descGeneration, descUpgrade, descActiveBackup, descLastSync, descRestore, descChipsGone}
	flashDescriptions  = []*prometheus.Desc{descFlashErases, descFlashWritten, descFlashRead, descWorstBlock, descEndurance, descBackupHealthy, descScrubAge, descDamagedChunks}
)

// statusCollector turns Backend.Status into metrics at scrape time.
type statusCollector struct{ b Backend }

func (c statusCollector) Describe(ch chan<- *prometheus.Desc) { describeAll(ch, statusDescriptions) }

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
	ch <- prometheus.MustNewConstMetric(descRestore, prometheus.GaugeValue, boolFloat(st.RestorePending))
	ch <- prometheus.MustNewConstMetric(descChipsGone, prometheus.GaugeValue, float64(len(st.ChipsGone)))
}

// flashCollector turns a FlashReporter's FlashHealth into metrics at
// scrape time.
type flashCollector struct{ r FlashReporter }

func (c flashCollector) Describe(ch chan<- *prometheus.Desc) { describeAll(ch, flashDescriptions) }

// describeAll sends each of descs.
func describeAll(ch chan<- *prometheus.Desc, descs []*prometheus.Desc) {
	for _, d := range descs {
		ch <- d
	}
}

func (c flashCollector) Collect(ch chan<- prometheus.Metric) {
	h := c.r.FlashHealth()
	for _, chip := range h.Chips {
		ch <- prometheus.MustNewConstMetric(descFlashErases, prometheus.CounterValue, float64(chip.Erases), chip.Name)
		ch <- prometheus.MustNewConstMetric(descFlashWritten, prometheus.CounterValue, float64(chip.BytesWritten), chip.Name)
		ch <- prometheus.MustNewConstMetric(descFlashRead, prometheus.CounterValue, float64(chip.BytesRead), chip.Name)
		if chip.Endurance > 0 {
			ch <- prometheus.MustNewConstMetric(descWorstBlock, prometheus.GaugeValue, float64(chip.WorstBlockErases), chip.Name)
			ch <- prometheus.MustNewConstMetric(descEndurance, prometheus.GaugeValue, float64(chip.Endurance), chip.Name)
		}
	}
	ch <- prometheus.MustNewConstMetric(descBackupHealthy, prometheus.GaugeValue, boolFloat(h.BackupHealthy))
	ch <- prometheus.MustNewConstMetric(descDamagedChunks, prometheus.GaugeValue, float64(h.DamagedChunks))
	if h.Scrubbed {
		ch <- prometheus.MustNewConstMetric(descScrubAge, prometheus.GaugeValue, max(h.ScrubAge, 0).Seconds())
	}
}

func boolFloat(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

// newMetrics returns the registry for b, with the HTTP limits the Server
// runs with, o (defaults applied) and its slots, as gauges: the values it
// enforces, not a copy of the flags.
func newMetrics(b Backend, o Options, slots requestSlots) *metrics {
	m := &metrics{
		refusedConns: prometheus.NewCounter(prometheus.CounterOpts{Name: "cmcsync_http_connections_refused_total", Help: "Connections closed at once because their client held its most connections, none idle."}),
		slowHeaders:  prometheus.NewCounter(prometheus.CounterOpts{Name: "cmcsync_http_slow_headers_total", Help: "Connections closed because their request headers did not arrive within the header wait (10 s, down to 1 s as connection slots fill)."}),
		busy:         prometheus.NewCounter(prometheus.CounterOpts{Name: "cmcsync_http_busy_total", Help: "Requests without the API token answered 503 because their share of request slots was taken."}),
		reg:          prometheus.NewRegistry(),
		duration: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "cmcsync_round_duration_seconds",
			Help: "Duration of sync rounds on the engine's clock (on simulated chips, their datasheet time).",
			// 1 ms .. ~65 s: a round on a quiet region takes milliseconds,
			// a full resync of a large region on slow NOR takes seconds.
			Buckets: prometheus.ExponentialBuckets(0.001, 4, 9),
		}),
	}
	limits := prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "cmcsync_http_limit", Help: "The HTTP server's limits: max_conns, max_conns_per_client, and the request slots of each class (slots_reads, slots_changes, slots_without_token)."}, []string{"limit"})
	for name, v := range map[string]int{"max_conns": o.MaxConns, "max_conns_per_client": o.MaxConnsPerClient,
		"slots_reads": cap(slots.reads), "slots_changes": cap(slots.changes), "slots_without_token": cap(slots.open)} {
		limits.WithLabelValues(name).Set(float64(v))
	}
	m.reg.MustRegister(limits, m.refusedConns, m.slowHeaders, m.busy)
	m.reg.MustRegister(statusCollector{b}, m.duration,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	if r, ok := b.(FlashReporter); ok {
		m.reg.MustRegister(flashCollector{r})
	}
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
