package main

import (
	"context"
	"crypto/tls"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/cmcsync/cmcsync/daemon"
	"github.com/cmcsync/cmcsync/faults"
	"github.com/cmcsync/cmcsync/internal/chipstate"
	"github.com/cmcsync/cmcsync/internal/failhook"
	"github.com/cmcsync/cmcsync/internal/flashspec"
	"github.com/cmcsync/cmcsync/internal/sdnotify"
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
	// defaultScrubEvery: a whole-store read once a day finds damage long
	// before a failover needs the backup, for a read of the store's size.
	defaultScrubEvery = 24 * time.Hour
)

// runServe runs `cmcsync serve`: the engine on its schedule over two flash
// devices, the selection page, the JSON API and /metrics.
func runServe(ctx context.Context, args []string, stdout, stderr io.Writer) (err error) {
	fs := newFlagSet("serve", stderr,
		"usage: cmcsync serve [--config FILE] [--primary SPEC --backup SPEC] [--state DIR] [--listen ADDR] [--tls-cert FILE --tls-key FILE] [--max-conns N] [--max-conns-per-client N] [--format [--force CHIPS]] [--faults SCHEDULE]",
		"\nRuns the sync engine on its schedule and serves the information sync selection",
		"page, the JSON API (/api/, see docs/API.md) and /metrics. Without --primary and",
		"--backup it runs on two simulated chips kept as image files in the state folder,",
		"formatted on first start, with a simulated CMC that keeps changing the primary's",
		"information. Stop it with Ctrl-C; a kill at any moment is recovered at the next start.",
		"")
	primary := fs.String("primary", "", "primary flash: "+flashspec.Usage+" (default: a simulated chip in the state folder)")
	backup := fs.String("backup", "", "backup flash, same forms as --primary (give both or neither)")
	stateDir := fs.String("state", "", "state folder: simulated chip images, the history and the API token (default $XDG_STATE_HOME/cmcsync or ~/.local/state/cmcsync)")
	listen := fs.String("listen", defaultListen, "address to serve the page and API on (off loopback it needs --tls-cert and --tls-key)")
	tlsCert := fs.String("tls-cert", "", "PEM `FILE` of the server's TLS certificate (chain): serve HTTPS")
	tlsKey := fs.String("tls-key", "", "PEM `FILE` of the TLS certificate's private key")
	format := fs.Bool("format", false, "format both chips before starting: ERASES them; chips holding any data also need --force")
	force := fs.String("force", "", "with --format: the chips (primary, backup, comma-separated) whose data it may erase")
	cf := addChipFlags(fs)
	cmcStep := fs.Duration("cmc-step", defaultCMCStep, "simulated CMC: how often it changes the primary's information (0: off; only on sim chips)")
	seed := fs.Uint64("seed", 1, "seed of the simulated CMC's activity and images")
	pace := fs.Bool("pace", false, "simulated chips take their datasheet time in real time (default: it advances the engine's clock at once; dates are the wall clock's either way)")
	faultText := fs.String("faults", "", "inject a fault `SCHEDULE` into the simulated chips, e.g. '(on (and primary read (after 5000)) (delay 3s))'; a cut ends the process (see docs/API.md, Fault injection and the clock)")
	cmcReal := fs.Bool("simulate-cmc", false, "run the simulated CMC (--cmc-step) on real chips too: test rigs only, it writes the primary's information region")
	scrubEvery := fs.Duration("scrub-every", defaultScrubEvery, "check every committed chunk of the backup against its digest at start and this often, one chunk read at a time between rounds (0: never)")
	onFailover := fs.String("on-failover", "", "after each failover run `ACTION` once: a command line (split on spaces, no shell; the event is in its CMCSYNC_* environment) or builtin:ast2600-alt-boot (arm the AST2600 alternate-boot watchdog); see docs/DEPLOY.md")
	onFailoverTimeout := fs.Duration("on-failover-timeout", failhook.DefaultTimeout, "kill a --on-failover command still running after this long")
	maxConns := fs.Int("max-conns", web.DefaultMaxConns, fmt.Sprintf("serve at most `N` connections at once (1 to %d); they also size the request slots (docs/API.md, Connections)", web.MaxConnsLimit))
	maxConnsPerClient := fs.Int("max-conns-per-client", web.DefaultMaxConnsPerClient, "at most `N` of them from one client address (1 to --max-conns; loopback counts like any other address)")
	stuck := fs.Duration("stuck-after", defaultStuckAfter, "take a round or write holding the chips with no flash operation returning for this long for hung: log it and stop the systemd watchdog pings, so systemd restarts serve (0: never)")
	if done, err := parseFlags(fs, args); done {
		return err
	}
	if err := cf.load(fs); err != nil {
		return err
	}
	perClientSet := false
	if (*primary == "") != (*backup == "") {
		return usageError("serve: give both %s and %s, or neither (for two simulated chips)", cf.origin("primary"), cf.origin("backup"))
	}
	// Errors about a value name where it came from (cf.origin): the flag,
	// or the configuration file's key and line.
	if *cmcStep < 0 {
		return usageError("serve: %s must not be negative", cf.origin("cmc-step"))
	}
	if *scrubEvery < 0 {
		return usageError("serve: %s must not be negative", cf.origin("scrub-every"))
	}
	if *stuck < 0 {
		return usageError("serve: %s must not be negative", cf.origin("stuck-after"))
	}
	// The connection limits are checked by the web server's own check,
	// before anything listens. The per-client default is at most the
	// connections' bound.
	fs.Visit(func(f *flag.Flag) {
		if f.Name == "max-conns-per-client" {
			perClientSet = true
		}
	})
	if !perClientSet && *maxConns >= 1 {
		*maxConnsPerClient = min(*maxConnsPerClient, *maxConns)
	}
	if err := web.CheckConnLimits(*maxConns, *maxConnsPerClient); err != nil {
		return usageError("serve: %s, %s: %v", cf.originWith("max-conns", strconv.Itoa(*maxConns)), cf.originWith("max-conns-per-client", strconv.Itoa(*maxConnsPerClient)), err)
	}
	if (*tlsCert == "") != (*tlsKey == "") {
		given, missing := cf.origin("tls-cert"), "--tls-key"
		if *tlsCert == "" {
			given, missing = cf.origin("tls-key"), "--tls-cert"
		}
		return usageError("serve: %s is set but %s is not: give both the certificate and its key (--tls-cert and --tls-key, or tls_cert and tls_key in the configuration file), or neither", given, missing)
	}
	// Certificate files that do not load are bad input, found before the
	// state folder or a chip is touched.
	if *tlsCert != "" {
		if _, err := tls.LoadX509KeyPair(*tlsCert, *tlsKey); err != nil {
			return usageError("serve: %s %s: %v (both PEM files; the key must match the certificate)", cf.originWith("tls-cert", *tlsCert), cf.originWith("tls-key", *tlsKey), err)
		}
	}
	// An address that is not HOST:PORT is a bad command line (exit 2), not
	// a failure to listen.
	if _, port, err := net.SplitHostPort(*listen); err != nil {
		return usageError("serve: %s: %v (want HOST:PORT, e.g. 127.0.0.1:8080)", cf.originWith("listen", strconv.Quote(*listen)), err)
	} else if _, err := net.LookupPort("tcp", port); err != nil {
		return usageError("serve: %s: %v (want HOST:PORT, a port from 0 to 65535, e.g. 127.0.0.1:8080)", cf.originWith("listen", strconv.Quote(*listen)), err)
	}
	places, err := cf.places("serve")
	if err != nil {
		return err
	}
	forced, err := chipstate.ParseForce(*force, "primary", "backup")
	if err != nil {
		return usageError("serve: %v", err)
	}
	if *force != "" && !*format {
		return usageError("serve: --force goes with --format (it names the chips --format may erase)")
	}
	var action failhook.Action
	if *onFailover != "" {
		if *onFailoverTimeout <= 0 {
			return usageError("serve: %s must be positive", cf.origin("on-failover-timeout"))
		}
		a, err := failhook.Parse(*onFailover, *onFailoverTimeout)
		if err != nil {
			return usageError("serve: %s: %v", cf.origin("on-failover"), err)
		}
		// An action that cannot run (a command that is not there, a
		// built-in without its registers) is found now, not at the
		// first failover.
		if err := failhook.Check(a); err != nil {
			return usageError("serve: %s: %v", cf.origin("on-failover"), err)
		}
		action = a
	}
	var schedule *faults.Schedule
	if *faultText != "" {
		s, err := faults.ParseSchedule(*faultText)
		if err != nil {
			return usageError("serve: %s: %v", cf.origin("faults"), err)
		}
		schedule = &s
	}
	dir := *stateDir
	if dir == "" {
		var err error
		if dir, err = defaultStateDir(); err != nil {
			return err
		}
	}

	parsed, err := serveSpecs(dir, *primary, *backup, [2]string{cf.origin("primary"), cf.origin("backup")})
	if err != nil {
		return err
	}
	if err := distinctChipsAs("serve", parsed, cf.origin("primary"), cf.origin("backup")); err != nil {
		return err
	}
	if schedule != nil && (parsed[0].Backend != flashspec.Sim || parsed[1].Backend != flashspec.Sim) {
		return usageError("serve: %s needs two simulated chips (sim: specs, or neither --primary nor --backup)", cf.origin("faults"))
	}

	// A log reader that goes away (a journald restart, a `| tee` that
	// ended) must not end the daemon: Go ends a program whose write to a
	// broken pipe on fd 1 or 2 fails with SIGPIPE unless it asks for the
	// signal. Asked for (and never read), the write fails with EPIPE and
	// the line is lost; a child (a failover hook) still gets SIGPIPE's
	// default action.
	sigpipe := make(chan os.Signal, 1)
	signal.Notify(sigpipe, syscall.SIGPIPE)
	defer signal.Stop(sigpipe)

	// Listen first: a busy address is the most likely mistake, and it
	// should fail before any chip is touched.
	ln, err := net.Listen("tcp", *listen)
	if err != nil {
		choose, example := "--listen", "--listen 127.0.0.1:8081"
		if o := cf.origin("listen"); o != "--listen" {
			choose, example = o, `"listen": "127.0.0.1:8081"`
		}
		if errors.Is(err, syscall.EADDRINUSE) {
			// Busy, as a chip another process holds: exit 3.
			return &exitError{code: exitRefused, msg: fmt.Sprintf("serve: %s is already in use (is another cmcsync serve running? choose another address with %s, e.g. %s)", *listen, choose, example)}
		}
		return fmt.Errorf("serve: %s: listen: %w (choose another address with %s)", cf.originWith("listen", *listen), err, choose)
	}
	defer ln.Close()
	wo, err := web.Options{TLSCert: *tlsCert, TLSKey: *tlsKey, MaxConns: *maxConns, MaxConnsPerClient: *maxConnsPerClient}.ForListener(ln.Addr())
	if err != nil {
		if o := cf.origin("listen"); o != "--listen" {
			return fmt.Errorf("serve: %s: %w (set tls_cert and tls_key in the configuration file, or pass --tls-cert FILE --tls-key FILE)", cf.originWith("listen", *listen), err)
		}
		return fmt.Errorf("serve: %s: %w (pass --tls-cert FILE --tls-key FILE)", cf.originWith("listen", *listen), err)
	}
	// A state folder this serve makes is removed again when it fails to
	// start on bad input or a refusal (exit status 2 or 3, which change
	// nothing; after the daemon closed and the locks were released): a
	// bad chip or a mistyped path leaves no folder behind. A start that
	// failed otherwise (exit 1: a disk that filled while it formatted)
	// keeps the daemon's state for the next start to complete, and a
	// folder that was there is left as it is.
	made, err := mkdirAllNew(dir, 0o700)
	started := false
	defer func() {
		if c := exitCode(err); (c == exitUsage || c == exitRefused) && !started && len(made) > 0 {
			err = errors.Join(err, os.RemoveAll(made[0]))
		}
	}()
	if err != nil {
		if st, serr := os.Stat(dir); serr == nil && !st.IsDir() {
			// A file where the folder belongs: bad input (exit 2).
			if o := cf.origin("state"); o != "--state" {
				return usageError("serve: %s: state folder %s is a file, not a folder (give state_dir a folder)", o, dir)
			}
			return usageError("serve: state folder %s is a file, not a folder (give --state a folder, or state_dir in --config)", dir)
		}
		return fmt.Errorf("serve: state folder: %w", err)
	}
	if err := web.CheckStateDir(dir); err != nil {
		return fmt.Errorf("serve: %w", err)
	}

	locks, err := lockChips(parsed[0], parsed[1])
	if err != nil {
		return fmt.Errorf("serve: %w", err)
	}
	defer locks.Unlock()

	logf := lineLogger(stderr, true)
	d, err := daemon.Open(ctx, daemon.Options{Primary: parsed[0], Backup: parsed[1], StateDir: dir, Format: *format,
		Force: [2]bool{forced[0], forced[1]}, Places: places,
		Seed: *seed, CMCStep: *cmcStep, Pace: *pace, Faults: schedule, OnPowerCut: killSelf, ScrubEvery: *scrubEvery,
		CMCOnRealChips: *cmcReal,
		OnFailover:     action, Logf: logf, EngineLogf: lineLogger(stderr, false)})
	if err != nil {
		if errors.Is(err, daemon.ErrOneChipNew) {
			return oneChipMissing(parsed, err)
		}
		return fmt.Errorf("serve: %w", busyChip(err, parsed))
	}
	defer func() {
		if err := d.Close(); err != nil {
			logf("%v", err)
		}
	}()

	token, created, err := web.LoadOrCreateToken(dir)
	if err != nil {
		return fmt.Errorf("serve: %w", err)
	}
	wo.Token, wo.Logf = token, logf
	srv, err := web.New(d.Backend(), wo)
	if err != nil {
		return fmt.Errorf("serve: %w", err)
	}
	d.SetRecorder(srv)

	started = true
	printServeStart(stdout, dir, srv.Scheme()+"://"+browserAddr(ln.Addr())+"/", parsed, d, token, created)
	watchdog, err := sdnotify.WatchdogInterval()
	if err != nil {
		logf("%v (no watchdog pings)", err)
	}
	if _, err := sdnotify.Notify(sdnotify.Ready + "\n" + sdnotify.Status(fmt.Sprintf("serving on %s, generation %d", ln.Addr(), d.Status().Generation))); err != nil {
		logf("%v", err)
	}
	err = serveUntilDone(ctx, ln, srv, d, logf, watchdog, *stuck)
	if err == nil {
		if _, ops, ok := d.Faults(); ok {
			fmt.Fprintf(stdout, "cmcsync serve: stopped after %d flash operations\n", ops)
		} else {
			fmt.Fprintln(stdout, "cmcsync serve: stopped")
		}
	}
	return err
}

// browserAddr is the host:port a browser reaches the listener at: the
// listener's address, or for one on every address (0.0.0.0, [::]) this
// host's name with the port.
func browserAddr(addr net.Addr) string {
	a, ok := addr.(*net.TCPAddr)
	if !ok || !a.IP.IsUnspecified() {
		return addr.String()
	}
	host, err := os.Hostname()
	if err != nil || host == "" {
		host = "localhost"
	}
	return net.JoinHostPort(host, strconv.Itoa(a.Port))
}

// killSelf ends the process at once, as a power cut would (SIGKILL): a
// fault schedule's cut lands here, and the image files keep what the chips
// held (the simulator writes through).
func killSelf() {
	if p, err := os.FindProcess(os.Getpid()); err == nil {
		p.Kill()
	}
	select {} // until the signal lands
}

// oneChipMissing is serve's refusal of a pair of simulated chips, given
// with --primary and --backup or kept in the state folder, one of whose
// image files does not exist (daemon.ErrOneChipNew, err): bad input, exit
// 2, as sync's refusal of a missing image file, naming the file. Nothing
// was created (the daemon refuses before it creates a chip).
func oneChipMissing(specs [2]flashspec.Spec, err error) error {
	for i, s := range specs {
		if s.File == "" {
			continue
		}
		if _, serr := os.Stat(s.File); errors.Is(serr, os.ErrNotExist) {
			return usageError("serve: the %s's image file %s does not exist (nothing created): %v", [2]string{"primary", "backup"}[i], s.File, err)
		}
	}
	return usageError("serve: %v", err)
}

// serveSpecs returns the chips' specs: the ones given, or two simulated
// chips kept as image files in the state folder dir.
// origins name where each spec came from (chipFlags.origin), for errors.
func serveSpecs(dir, primary, backup string, origins [2]string) ([2]flashspec.Spec, error) {
	specs := [2]string{primary, backup}
	if primary == "" {
		for i := range specs {
			specs[i] = fmt.Sprintf("sim:part=%s,size=%s,file=%s,name=flash%d", defaultPart, defaultSize, filepath.Join(dir, fmt.Sprintf("chip%d.img", i)), i)
		}
	}
	var parsed [2]flashspec.Spec
	for i, s := range specs {
		p, err := resolveSpecAs("serve", origins[i], s)
		if err != nil {
			return parsed, err
		}
		parsed[i] = p
	}
	return parsed, nil
}

// printServeStart prints what serve opened and where to point a browser;
// the token itself only when it was just created and w is a terminal
// (printToken).
func printServeStart(w io.Writer, dir, url string, specs [2]flashspec.Spec, d *daemon.Daemon, token string, created bool) {
	fmt.Fprintf(w, "cmcsync serve: state folder %s\n", dir)
	fmt.Fprintf(w, "  primary: %s\n  backup:  %s\n", specs[0], specs[1])
	if d.Formatted() {
		fmt.Fprintln(w, "  formatted both chips")
	}
	if s, ops, ok := d.Faults(); ok {
		fmt.Fprintf(w, "  fault schedule: %s (%d flash operations so far)\n", s, ops)
	}
	st := d.Status()
	fmt.Fprintf(w, "  active image: %s (chip %d), generation %d\n", st.Active, st.ActiveChip, st.Generation)
	printToken(w, dir, url, token, created, isTerminal(w))
}

// serveUntilDone serves srv on ln and runs the daemon until ctx is done
// (nil) or either fails (its error); then it shuts the server down and
// waits for both.
//
// Under systemd (sdnotify) it sends WATCHDOG=1 every half watchdog
// interval while both run (0: no watchdog) and no holder of the chips has
// gone longer than stuckAfter without a flash operation returning (0: no
// limit; see stuckWatch), and
// STOPPING=1 when it stops.
func serveUntilDone(ctx context.Context, ln net.Listener, srv *web.Server, d *daemon.Daemon, logf func(string, ...any), watchdog, stuckAfter time.Duration) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	every := watchdog / 2
	if watchdog <= 0 {
		every = stuckCheckEvery
	}
	go func() {
		w := stuckWatch{limit: stuckAfter, logf: logf}
		t := time.NewTicker(every)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
				if !w.ok(d.StalledFor()) || watchdog <= 0 {
					continue
				}
				if _, err := sdnotify.Notify(sdnotify.Watchdog); err != nil {
					logf("%v", err)
				}
			}
		}
	}()
	hs := srv.HTTPServer()
	hs.BaseContext = func(net.Listener) context.Context { return ctx }
	errc := make(chan error, 2)
	var wg sync.WaitGroup
	wg.Add(2)
	go func() {
		defer wg.Done()
		if err := srv.Serve(hs, ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			errc <- fmt.Errorf("serve: http: %w", err)
		}
	}()
	go func() {
		defer wg.Done()
		if err := d.Run(ctx); err != nil {
			errc <- fmt.Errorf("serve: engine stopped: %w", err)
		}
	}()

	var runErr error
	select {
	case <-ctx.Done():
		logf("stopping")
	case runErr = <-errc:
	}
	cancel() // ends the watchdog pings first: a hung shutdown is the watchdog's to catch
	if _, err := sdnotify.Notify(sdnotify.Stopping); err != nil {
		logf("%v", err)
	}
	shutdownCtx, stop := context.WithTimeout(context.Background(), 5*time.Second)
	defer stop()
	if err := hs.Shutdown(shutdownCtx); err != nil {
		hs.Close()
	}
	wg.Wait()
	return runErr
}

// defaultStuckAfter is --stuck-after's default: how long a holder of the
// chips (a round, an API write, a step of the simulated CMC) may go
// without a flash operation returning before serve takes it for hung on
// an operation that never returns. A round may take many minutes on slow
// chips (a failover restore of a whole region), but each operation returns
// within seconds (the slowest, a block erase, within a few), so a long
// round is never taken for hung. Past
// it serve logs an ERROR line and stops its watchdog pings, so systemd
// (WatchdogSec) kills and restarts it, and the engine's recovery at the
// next start purges the round. Without a watchdog it only logs, looking
// every stuckCheckEvery.
const (
	defaultStuckAfter = 15 * time.Minute
	stuckCheckEvery   = 30 * time.Second
)

// stuckWatch tells, one watchdog tick at a time, whether the daemon is
// alive: no holder of the chips stalled (no flash operation returning)
// longer than limit. It logs once when they become stuck and once when
// they are free again.
type stuckWatch struct {
	limit time.Duration
	logf  func(string, ...any)
	stuck bool
}

// ok reports whether to ping the watchdog, the holder of the chips stalled
// for held now (Daemon.StalledFor).
// A zero limit never takes them for stuck.
func (w *stuckWatch) ok(held time.Duration) bool {
	if w.limit > 0 && held > w.limit {
		if !w.stuck {
			w.stuck = true
			w.logf("ERROR: no flash operation has returned for %v while a round or write holds the chips (the limit is %v, --stuck-after): a flash operation that does not return? no more watchdog pings, so systemd restarts cmcsync; the next start recovers the round", held.Round(100*time.Millisecond), w.limit)
		}
		return false
	}
	if w.stuck {
		w.stuck = false
		w.logf("the chips are free again: watchdog pings resume")
	}
	return true
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
