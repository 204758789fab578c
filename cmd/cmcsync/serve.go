package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/cmcsync/cmcsync/cmcsim"
	"github.com/cmcsync/cmcsync/hal"
	"github.com/cmcsync/cmcsync/internal/flashspec"
	"github.com/cmcsync/cmcsync/sim"
	"github.com/cmcsync/cmcsync/sync/engine"
	"github.com/cmcsync/cmcsync/sync/info"
	"github.com/cmcsync/cmcsync/web"
)

func init() {
	register(command{name: "serve", summary: "run the sync engine as a daemon with the selection page and JSON API", run: runServe})
}

// Defaults of cmcsync serve.
const (
	defaultListen  = "127.0.0.1:8080"
	defaultPart    = "mx66l1g45g"
	defaultSize    = "8M"
	defaultCMCStep = 2 * time.Second
)

// serveDefaultConfig is the configuration written when serve formats new
// chips: every type, a round every 30 s (so the page shows a live system),
// a 2 s response-time threshold, read-back verify on.
func serveDefaultConfig() engine.Config {
	c := engine.DefaultConfig()
	c.Interval = 30 * time.Second
	c.Verify = true
	return c
}

// runServe runs `cmcsync serve`: the engine on its schedule over two flash
// devices, the selection page, the JSON API and /metrics.
func runServe(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.SetOutput(stderr)
	primary := fs.String("primary", "", "primary flash: "+flashspec.Usage+" (default: a simulated chip in the state folder)")
	backup := fs.String("backup", "", "backup flash, same forms as --primary (give both or neither)")
	stateDir := fs.String("state", "", "state folder: simulated chip images and the API token (default $XDG_STATE_HOME/cmcsync or ~/.local/state/cmcsync)")
	listen := fs.String("listen", defaultListen, "address to serve the page and API on")
	format := fs.Bool("format", false, "format both chips before starting (destroys what they hold)")
	cmcStep := fs.Duration("cmc-step", defaultCMCStep, "simulated CMC: how often it changes the primary's information (0: off; only on sim chips)")
	seed := fs.Uint64("seed", 1, "seed of the simulated CMC's activity and images")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: cmcsync serve [--primary SPEC --backup SPEC] [--state DIR] [--listen ADDR] [--format]")
		fmt.Fprintln(stderr, "\nRuns the sync engine on its schedule and serves the information sync selection")
		fmt.Fprintln(stderr, "page, the JSON API (/api/, see docs/API.md) and /metrics. Without --primary and")
		fmt.Fprintln(stderr, "--backup it runs on two simulated chips kept as image files in the state folder,")
		fmt.Fprintln(stderr, "formatted on first start, with a simulated CMC that keeps changing the primary's")
		fmt.Fprintln(stderr, "information. Stop it with Ctrl-C; a kill at any moment is recovered at the next start.")
		fmt.Fprintln(stderr)
		fs.PrintDefaults()
	}
	if done, err := parseFlags(fs, args); done {
		return err
	}
	if (*primary == "") != (*backup == "") {
		return usageError("serve: give both --primary and --backup, or neither (for two simulated chips)")
	}
	if *cmcStep < 0 {
		return usageError("serve: --cmc-step must not be negative")
	}
	dir := *stateDir
	if dir == "" {
		var err error
		if dir, err = defaultStateDir(); err != nil {
			return err
		}
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("serve: state folder: %w", err)
	}

	specs := [2]string{*primary, *backup}
	if *primary == "" {
		for i := range specs {
			specs[i] = fmt.Sprintf("sim:part=%s,size=%s,file=%s,name=flash%d", defaultPart, defaultSize, filepath.Join(dir, fmt.Sprintf("chip%d.img", i)), i)
		}
	}
	var parsed [2]flashspec.Spec
	for i, s := range specs {
		p, err := flashspec.Parse(s)
		if err != nil {
			return usageError("serve: --%s: %v", [2]string{"primary", "backup"}[i], err)
		}
		parsed[i] = p
	}

	// Listen first: a busy address is the most likely mistake, and it
	// should fail before any chip is touched.
	ln, err := net.Listen("tcp", *listen)
	if err != nil {
		if errors.Is(err, syscall.EADDRINUSE) {
			return fmt.Errorf("serve: %s is already in use (is another cmcsync serve running? choose another address with --listen, e.g. --listen 127.0.0.1:8081)", *listen)
		}
		return fmt.Errorf("serve: listen: %w (choose another address with --listen)", err)
	}
	defer ln.Close()

	logf := lineLogger(stderr, true)
	d, err := openDaemon(ctx, parsed, *format, *seed, logf, lineLogger(stderr, false))
	if err != nil {
		return fmt.Errorf("serve: %w", err)
	}
	defer d.close()

	token, created, err := web.LoadOrCreateToken(dir)
	if err != nil {
		return fmt.Errorf("serve: %w", err)
	}
	var backend web.Backend = d
	if d.simulated {
		backend = simDaemon{d}
	}
	wo := web.Options{Token: token, Logf: logf}
	if a, ok := ln.Addr().(*net.TCPAddr); ok && a.IP.IsLoopback() {
		wo.AllowedHosts = web.LoopbackHosts // no DNS rebinding onto the local API
	}
	srv, err := web.New(backend, wo)
	if err != nil {
		return fmt.Errorf("serve: %w", err)
	}
	d.srv = srv

	url := "http://" + ln.Addr().String() + "/"
	fmt.Fprintf(stdout, "cmcsync serve: state folder %s\n", dir)
	fmt.Fprintf(stdout, "  primary: %s\n  backup:  %s\n", parsed[0], parsed[1])
	if d.formatted {
		fmt.Fprintln(stdout, "  formatted both chips (first start)")
	}
	st := d.e.Status()
	fmt.Fprintf(stdout, "  active image: %s (chip %d), generation %d\n", st.Active, st.ActiveChip, st.Generation)
	if created {
		fmt.Fprintf(stdout, "  API token (shown once; kept in %s): %s\n", filepath.Join(dir, web.TokenFile), token)
		fmt.Fprintf(stdout, "open %s#token=%s\n", url, token)
	} else {
		fmt.Fprintf(stdout, "  API token: in %s (paste it into the page once)\n", filepath.Join(dir, web.TokenFile))
		fmt.Fprintf(stdout, "open %s\n", url)
	}

	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	hs := &http.Server{
		Handler:           srv,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		IdleTimeout:       2 * time.Minute,
		BaseContext:       func(net.Listener) context.Context { return ctx },
	}
	errc := make(chan error, 3)
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		if err := hs.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			errc <- fmt.Errorf("serve: http: %w", err)
		}
	}()
	wg.Add(1)
	go func() {
		defer wg.Done()
		if err := d.schedule(ctx); err != nil {
			errc <- fmt.Errorf("serve: engine stopped: %w", err)
		}
	}()
	if d.simulated && *cmcStep > 0 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			d.simulateCMC(ctx, *cmcStep)
		}()
	}

	var runErr error
	select {
	case <-ctx.Done():
		logf("stopping")
	case runErr = <-errc:
	}
	cancel()
	shutdownCtx, stop := context.WithTimeout(context.Background(), 5*time.Second)
	defer stop()
	if err := hs.Shutdown(shutdownCtx); err != nil {
		hs.Close()
	}
	wg.Wait()
	if runErr == nil {
		fmt.Fprintln(stdout, "cmcsync serve: stopped")
	}
	return runErr
}

// defaultStateDir is $XDG_STATE_HOME/cmcsync, else ~/.local/state/cmcsync,
// else ./cmcsync-state.
func defaultStateDir() (string, error) {
	if x := os.Getenv("XDG_STATE_HOME"); x != "" && filepath.IsAbs(x) {
		return filepath.Join(x, "cmcsync"), nil
	}
	if home, err := os.UserHomeDir(); err == nil && home != "" {
		return filepath.Join(home, ".local", "state", "cmcsync"), nil
	}
	return filepath.Abs("cmcsync-state")
}

// stderrMu serializes the daemon's log lines.
var stderrMu sync.Mutex

// lineLogger returns a Logf that writes lines to w, one goroutine at a
// time, prefixed with the time when stamp is set (the engine's event lines
// carry their own).
func lineLogger(w io.Writer, stamp bool) func(string, ...any) {
	return func(format string, a ...any) {
		stderrMu.Lock()
		defer stderrMu.Unlock()
		line := fmt.Sprintf(format, a...)
		if stamp {
			line = time.Now().Format("2006-01-02T15:04:05.000Z07:00") + " " + line
		}
		fmt.Fprintln(w, strings.TrimRight(line, "\n"))
	}
}

// daemon is the engine over two opened chips, adapted to web.Backend.
// engine.Run keeps the schedule and hands every scheduled round to the page
// and /metrics (Options.OnRound); the simulated CMC's writes to the
// primary's information region never overlap a round (Options.PrimaryLock).
type daemon struct {
	e         *engine.Engine
	chips     [2]hal.Flash
	simulated bool // both chips are simulated: the CMC and upgrades can be simulated
	formatted bool // formatted at this start
	seed      uint64
	logf      func(string, ...any)
	srv       *web.Server // set before the schedule starts

	// primaryMu serializes what writes or reads the primary's
	// information region: rounds and upgrade choices (the engine takes it:
	// engine.Options.PrimaryLock), the simulated CMC and simulated
	// upgrades.
	primaryMu sync.Mutex

	mu           sync.Mutex
	bytesWritten int64 // by every round since start
	upgrades     int   // simulated upgrades so far
}

// openDaemon opens (and if needed formats and populates) the chips and
// the engine. Simulated chips whose image files do not exist yet, and
// in-memory simulated chips, are formatted; so are any chips with format.
func openDaemon(ctx context.Context, specs [2]flashspec.Spec, format bool, seed uint64, logf, engineLogf func(string, ...any)) (_ *daemon, err error) {
	d := &daemon{seed: seed, logf: logf, simulated: true}
	fresh := 0
	for _, s := range specs {
		if s.Backend != flashspec.Sim {
			d.simulated = false
			continue
		}
		if s.File == "" {
			fresh++
		} else if _, err := os.Stat(s.File); errors.Is(err, os.ErrNotExist) {
			fresh++
		}
	}
	if fresh == 1 && !format {
		return nil, errors.New("one chip's image file exists and the other's does not: delete the state folder to start over, or pass --format")
	}
	clock := sim.NewClock(time.Now()) // flash timing of simulated chips (virtual)
	defer func() {
		if err != nil {
			d.close()
		}
	}()
	for i, s := range specs {
		f, err := flashspec.Open(s, clock)
		if err != nil {
			return nil, fmt.Errorf("open %s: %w", s, err)
		}
		d.chips[i] = f
	}
	opts := engine.Options{Clock: hal.SystemClock{}, Config: serveDefaultConfig(), Logf: engineLogf,
		PrimaryLock: &d.primaryMu, OnRound: d.scheduled}
	if format || fresh == 2 {
		layout, err := engine.DefaultLayout(d.chips[0].Geometry(), 0)
		if err != nil {
			return nil, err
		}
		opts.Layout = layout
		var fill func(*info.Region) error
		if d.simulated {
			fill = cmcsim.New(seed).Populate
		}
		if _, err := engine.FormatAndFill(d.chips[0], d.chips[1], opts, fill); err != nil {
			return nil, err
		}
		d.formatted = true
	}
	d.e, err = engine.Open(ctx, d.chips[0], d.chips[1], opts)
	if err != nil {
		if !d.formatted {
			return nil, fmt.Errorf("%w (blank or foreign chips? pass --format to format them, destroying their contents)", err)
		}
		return nil, err
	}
	return d, nil
}

func (d *daemon) close() {
	for _, f := range d.chips {
		if f != nil {
			if err := hal.Close(f); err != nil {
				d.logf("close %s: %v", f.Geometry().Name, err)
			}
		}
	}
}

// round runs one round now ("sync now", a simulated upgrade) and
// accounts for it.
func (d *daemon) round(ctx context.Context) (engine.RoundReport, error) {
	rep, err := d.e.Round(ctx)
	d.account(rep)
	return rep, err
}

func (d *daemon) account(rep engine.RoundReport) {
	d.mu.Lock()
	d.bytesWritten += rep.BytesWritten
	d.mu.Unlock()
}

// scheduled receives every round engine.Run ran (engine.Options.OnRound).
func (d *daemon) scheduled(rep engine.RoundReport, err error) {
	d.account(rep)
	d.srv.RecordRound(webRound(rep, err))
	switch {
	case err == nil, errors.Is(err, engine.ErrUpgradePending):
		// Waits for the user's choice; the status says so.
	case errors.Is(err, hal.ErrPowerLoss), errors.Is(err, hal.ErrClosed):
		// Run returns it.
	default:
		d.logf("round failed: %v (retrying in %v)", err, d.e.Config().Interval)
	}
}

// schedule runs rounds when they are due (engine.Run) until ctx is done;
// it returns nil then, or the error that makes the device unusable (power
// loss, closed).
func (d *daemon) schedule(ctx context.Context) error {
	err := d.e.Run(ctx)
	if ctx.Err() != nil {
		return nil
	}
	return err
}

// simulateCMC is the simulated CMC: every step it applies step's worth of
// activity (events appended, fan and power readings moving) to the active
// image's information region.
func (d *daemon) simulateCMC(ctx context.Context, step time.Duration) {
	gen := cmcsim.New(d.seed)
	t := time.NewTicker(step)
	defer t.Stop()
	failing := false
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		l := d.e.Layout()
		d.primaryMu.Lock()
		region, err := info.OpenRegion(d.e.Primary(), l.InfoOff, l.InfoSize)
		if err == nil {
			err = gen.Step(region, step)
		}
		d.primaryMu.Unlock()
		if err != nil && !failing {
			d.logf("simulated CMC: %v", err)
		}
		failing = err != nil
	}
}

// web.Backend

func (d *daemon) Status() web.Status {
	st := d.e.Status()
	out := web.Status{
		Active:       st.Active,
		ActiveChip:   st.ActiveChip,
		ImageVersion: st.PrimaryVersion,
		Generation:   st.Generation,
		LastSync:     st.LastSync,
		NextSync:     st.NextSync,
		LastError:    st.LastError,
		Counters: web.Counters{
			Rounds:    uint64(st.Counters.Rounds),
			Failures:  uint64(st.Counters.Interrupts + st.Counters.Errors),
			Failovers: uint64(st.Counters.Failovers),
			Purges:    uint64(st.Counters.Purges),
		},
	}
	for _, t := range st.NextGroup {
		out.NextGroup = append(out.NextGroup, t.String())
	}
	d.mu.Lock()
	out.Counters.BytesWritten = d.bytesWritten
	d.mu.Unlock()
	for i, f := range d.chips {
		role := "backup"
		if i == st.ActiveChip {
			role = "primary"
		}
		g := f.Geometry()
		out.Chips = append(out.Chips, web.Chip{Role: role, Name: g.Name, Geometry: strings.TrimPrefix(g.String(), g.Name+" ")})
	}
	if st.UpgradePending {
		out.Upgrade = &web.UpgradeInfo{FromVersion: st.CommittedVersion, ToVersion: st.PrimaryVersion}
	}
	for _, ts := range st.Types {
		w := web.TypeStatus{Name: ts.Name, Selected: ts.Selected, Size: ts.Size, Seq: ts.Seq, Digest: ts.Digest}
		switch {
		case !ts.Selected:
			w.State = "not-selected"
		case ts.Digest == "":
			w.State = "pending"
		default:
			w.State = "synced"
		}
		out.Types = append(out.Types, w)
	}
	return out
}

func (d *daemon) Events() []web.Event {
	evs := d.e.Events()
	out := make([]web.Event, len(evs))
	for i, ev := range evs {
		out[i] = web.Event{Time: ev.Time, Kind: string(ev.Kind), Generation: ev.Generation, Detail: ev.Detail}
	}
	return out
}

func (d *daemon) Types() []web.TypeInfo {
	var out []web.TypeInfo
	for _, t := range info.All() {
		x := t.Explanation()
		out = append(out, web.TypeInfo{Name: t.String(), Title: x.Title, Holds: x.Holds, WhyBackup: x.WhyBackup, TypicalSize: x.TypicalSize, ChangeRate: x.ChangeRate})
	}
	return out
}

func (d *daemon) Config() web.Config {
	c := d.e.Config()
	out := web.Config{Types: []string{}, Interval: web.Duration(c.Interval), Threshold: web.Duration(c.Threshold), Verify: c.Verify, GroupSize: c.GroupSize, RetryAtOnce: c.RetryAtOnce}
	for _, t := range c.Types {
		out.Types = append(out.Types, t.String())
	}
	return out
}

func (d *daemon) SetConfig(c web.Config) error {
	ec := engine.Config{Interval: time.Duration(c.Interval), Threshold: time.Duration(c.Threshold), Verify: c.Verify, GroupSize: c.GroupSize, RetryAtOnce: c.RetryAtOnce, Types: []info.Type{}}
	for _, name := range c.Types {
		t, err := info.ParseType(name)
		if err != nil {
			return &web.FieldError{Field: "types", Msg: err.Error()}
		}
		ec.Types = append(ec.Types, t)
	}
	if err := d.e.SetConfig(ec); err != nil {
		if errors.Is(err, engine.ErrConfig) {
			return fmt.Errorf("%w: %v", web.ErrInvalid, err)
		}
		return err
	}
	return nil
}

func (d *daemon) SyncNow(ctx context.Context) (web.Round, error) {
	rep, err := d.round(ctx)
	if errors.Is(err, engine.ErrUpgradePending) {
		return webRound(rep, nil), fmt.Errorf("%w: %v", web.ErrConflict, err)
	}
	return webRound(rep, nil), err
}

func (d *daemon) Upgrade(ctx context.Context, choice web.UpgradeChoice) error {
	c, err := engine.ParseUpgradeChoice(string(choice))
	if err != nil || c == engine.NoChoice {
		return fmt.Errorf("%w: unknown choice %q", web.ErrInvalid, choice)
	}
	if !d.e.Status().UpgradePending {
		return web.ErrNoUpgrade
	}
	rep, err := d.e.UpgradeRound(ctx, c)
	d.account(rep)
	d.srv.RecordRound(webRound(rep, err))
	return err
}

// simDaemon adds the simulated image upgrade to a daemon on simulated chips.
type simDaemon struct{ *daemon }

// SimulateUpgrade writes a new firmware image version to the active chip,
// as a firmware update would, and runs a round so the engine notices it.
func (d simDaemon) SimulateUpgrade(ctx context.Context) error {
	d.primaryMu.Lock()
	primary := d.e.Primary()
	h, err := info.ReadImageHeader(primary)
	if err == nil {
		d.mu.Lock()
		d.upgrades++
		n := d.upgrades
		d.mu.Unlock()
		h.Version = nextVersion(h.Version)
		h.Built = time.Now()
		err = info.WriteImage(primary, h, d.seed+uint64(n))
	}
	d.primaryMu.Unlock()
	if err != nil {
		return fmt.Errorf("write the upgraded image: %w", err)
	}
	d.logf("simulated image upgrade: the active image is now version %s", h.Version)
	rep, err := d.round(ctx)
	d.srv.RecordRound(webRound(rep, err))
	if err != nil && !errors.Is(err, engine.ErrUpgradePending) {
		return err
	}
	return nil
}

// nextVersion bumps the minor number of a "major.minor.patch" version
// ("1.0.0" -> "1.1.0"); other forms get a suffix.
func nextVersion(v string) string {
	parts := strings.Split(v, ".")
	if len(parts) == 3 {
		if minor, err := strconv.Atoi(parts[1]); err == nil {
			return fmt.Sprintf("%s.%d.0", parts[0], minor+1)
		}
	}
	next := v + "+u"
	if len(next) > 20 {
		next = next[len(next)-20:]
	}
	return next
}

func webRound(rep engine.RoundReport, err error) web.Round {
	r := web.Round{
		Time:            rep.Started,
		Generation:      rep.Generation,
		Outcome:         rep.Outcome,
		Types:           []string{},
		BytesRead:       rep.BytesRead,
		BytesWritten:    rep.BytesWritten,
		Erases:          rep.Erases,
		PagesProgrammed: rep.PagesProgrammed,
		DurationSeconds: rep.Duration.Seconds(),
		WaitResponseSec: rep.WaitResponse.Seconds(),
		Error:           rep.Error,
	}
	if r.Time.IsZero() {
		r.Time = time.Now()
	}
	for _, t := range rep.Types {
		r.Types = append(r.Types, t.String())
	}
	if r.Error == "" && err != nil {
		r.Error = err.Error()
	}
	if r.Outcome == "" && err != nil {
		r.Outcome = engine.OutcomeError
	}
	return r
}
