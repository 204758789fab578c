package scenario

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"math/big"
	mrand "math/rand/v2"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"time"

	"github.com/cmcsync/cmcsync/faults/reference"
	"github.com/cmcsync/cmcsync/qemu/vm"
)

// DaemonCycle is one power cut of the daemon-powercut scenario.
type DaemonCycle struct {
	Cycle int `json:"cycle"`
	// Boot is the wall time from starting QEMU to the guest's shell;
	// Ready from the shell to the daemon's API answering over TLS.
	Boot  Seconds `json:"boot_seconds"`
	Ready Seconds `json:"ready_seconds"`
	// Recovered is the generation the daemon reported after the boot;
	// BeforeBoot the committed generation decoded on the host before it.
	Recovered  uint64 `json:"recovered_generation"`
	BeforeBoot uint64 `json:"committed_before_boot"`
	// Active is the status's active image after the boot: "backup" once
	// a failover happened (the chips carry different kernel images, so
	// a failover changes the active image's identity).
	Active string `json:"active,omitempty"`
	// KillDelay is how long after the sync request QEMU was killed;
	// InRound whether the request was unanswered then and its round's
	// generation is not on flash after the cut.
	KillDelay Seconds `json:"kill_delay_seconds"`
	InRound   bool    `json:"cut_in_round"`
	// Aimed says the cut was aimed at the round's write phase: QEMU was
	// killed WriteDelay after the host saw the round's first write to
	// the written chip's image file, FirstWrite after the request (0: no
	// write seen before the round ended; the cut then fell at once).
	Aimed      bool    `json:"aimed_at_write_phase"`
	FirstWrite Seconds `json:"first_write_seconds,omitempty"`
	WriteDelay Seconds `json:"delay_after_first_write_seconds,omitempty"`
	// AfterCut is the committed generation the reference decoder reads
	// from the backup chip's image after the cut; Pending whether it holds
	// an interrupted round.
	AfterCut   uint64   `json:"committed_after_cut"`
	Pending    bool     `json:"interrupted_round"`
	Wall       Seconds  `json:"cycle_seconds"`
	Violations []string `json:"violations,omitempty"`
}

// DaemonReport is the daemon-powercut scenario's own account.
type DaemonReport struct {
	Cycles []DaemonCycle `json:"cycles"`
	// Basis is the duration of the calibration sync through the API.
	Basis Seconds `json:"basis_sync_seconds"`
	// WriteBasis is the calibration sync's write phase: from its first
	// write to its last change of the written chip's image file, as the
	// host saw them (timedSync). Aimed cuts fall a seeded fraction of it
	// after the first write; CutsAimed counts them.
	WriteBasis Seconds `json:"basis_write_phase_seconds"`
	CutsAimed  int     `json:"cuts_aimed_at_write_phase"`
	// CutsInRound counts the cuts that fell while a sync request was
	// unanswered and before its generation was committed;
	// CutsInWritePhase those that left an interrupted round on flash (the
	// reference decoder finds its intent without a commit).
	CutsInRound      int `json:"cuts_in_round"`
	CutsInWritePhase int `json:"cuts_in_write_phase"`
}

const daemonGuestPort = 8443

// DaemonAPI is how the host reaches the guest's daemon (Options.OnDaemon):
// its HTTPS address through the forwarded port, the API token, and the
// scenario's certificate, which Client trusts (it sends no token itself).
type DaemonAPI struct {
	URL    string
	Token  string
	Cert   *x509.Certificate
	Client *http.Client
}

// daemonTLS is the scenario's certificate, made for the guest's address
// and the host's forwarded one, and the client that trusts it.
type daemonTLS struct {
	certPEM, keyPEM []byte
	cert            *x509.Certificate
	pool            *x509.CertPool
}

func newDaemonTLS() (*daemonTLS, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(time.Now().UnixNano()),
		Subject:      pkix.Name{CommonName: "cmcsync daemon scenario"},
		NotBefore:    time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		// The guest's clock starts at 1970 without an RTC: the server
		// does not check its own certificate's dates, the host client does.
		KeyUsage:    x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1"), net.ParseIP("10.0.2.15")},
		DNSNames:    []string{"localhost"},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, err
	}
	kd, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		return nil, err
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, err
	}
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	return &daemonTLS{certPEM: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
		keyPEM: pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kd}), cert: cert, pool: pool}, nil
}

// daemonRun is the state of one daemon-powercut run.
type daemonRun struct {
	e       *env
	tls     *daemonTLS
	token   string
	port    int
	dtb     string
	client  *http.Client
	outside [2]map[string]string
	inputs  *collected
	rep     DaemonReport
}

// freePort returns a TCP port on 127.0.0.1 free at the time of asking.
func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// runDaemonPowercut: the guest runs `cmcsync serve` on its two SPI NOR
// chips laid out as a CMC's (partitions by name in the device tree), with
// TLS and a token, reached from the host through a forwarded port. The
// host provisions the chips first, as a factory would: the other
// partitions' contents, then the region and store formatted with the
// engine's real-chip layout (nothing outside them written). Each cycle
// boots the guest, starts the daemon, checks over the API that it
// recovered at least the generation the host decoded after the previous
// cut, asks for a sync and kills QEMU a seeded moment later; the host
// then decodes the backup's store with the independent reference decoder
// (committed generation never going back, every committed chunk matching
// its digest) and checks that every partition outside the information
// region and the store is byte-identical to what it wrote first.
func runDaemonPowercut(ctx context.Context, e *env) error {
	if e.o.Cycles <= 0 {
		e.o.Cycles = 2
	}
	r := &daemonRun{e: e}
	var err error
	if r.tls, err = newDaemonTLS(); err != nil {
		return err
	}
	tok := make([]byte, 32)
	rng := mrand.New(mrand.NewPCG(e.o.Seed, 0xdae))
	for i := range tok {
		tok[i] = byte(rng.Uint32())
	}
	r.token = base64.RawURLEncoding.EncodeToString(tok)
	if r.inputs, err = newCollected(e.o.Seed); err != nil {
		return err
	}
	if r.port, err = freePort(); err != nil {
		return err
	}
	r.client = &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: r.tls.pool}}}
	r.dtb = filepath.Join(e.dir, "fuji-cmc.dtb")
	if err := cmcDTB(ctx, e.img.Manifest.Path(e.img.Manifest.DTB), r.dtb); err != nil {
		return err
	}
	if err := writeCMCImages([]string{e.primary, e.backup}, e.o.Seed); err != nil {
		return err
	}
	for i, p := range []string{e.primary, e.backup} {
		if r.outside[i], err = outsideDigests(p); err != nil {
			return err
		}
	}
	if err := formatCMCImages(ctx, e.primary, e.backup, e.o.Seed); err != nil {
		return err
	}
	e.logf("images with a CMC layout written; API on https://127.0.0.1:%d (guest %d)", r.port, daemonGuestPort)
	defer func() {
		b, _ := json.Marshal(r.rep)
		e.rep.Guest = b
	}()
	var committed uint64
	wrote := false // the calibration sync's first write was seen
	for c := 1; c <= e.o.Cycles+1; c++ {
		last := c == e.o.Cycles+1 // the boot that checks the last cut's recovery
		cy := DaemonCycle{Cycle: c, BeforeBoot: committed}
		start := time.Now()
		m, err := e.bootWith(ctx, func(cfg *vm.Config) {
			cfg.DTB = r.dtb
			cfg.HostForward = []string{fmt.Sprintf("tcp:127.0.0.1:%d-:%d", r.port, daemonGuestPort)}
		})
		if err != nil {
			return err
		}
		cy.Boot = e.rep.Boots[len(e.rep.Boots)-1].ToShell
		readyAt := time.Now()
		if err := r.startDaemon(ctx, m, last); err != nil {
			m.Kill()
			return err
		}
		st, err := r.waitReady(ctx, m)
		if err != nil {
			m.Kill()
			return err
		}
		cy.Ready = Seconds(time.Since(readyAt))
		cy.Recovered = st.Generation
		cy.Active = st.Active
		e.rep.check(fmt.Sprintf("cycle %d: recovered", c), st.Generation >= committed && st.LastError == "",
			"daemon at generation %d after the boot (committed on flash before it: %d)%s", st.Generation, committed, errSuffix(st.LastError))
		if st.Generation < committed {
			cy.Violations = append(cy.Violations, fmt.Sprintf("recovered generation %d < committed %d", st.Generation, committed))
		}
		if c == 1 {
			// Two syncs: the first copies everything the format left
			// (slow); the second, like the cycles' ones, only the last
			// second's changes. Its duration spreads the cuts.
			// The host watches the written chip's image file meanwhile:
			// the second sync's write phase spreads the aimed cuts.
			for i := range 2 {
				round, took, first, phase, err := r.timedSync(ctx, st.ActiveChip)
				if err != nil {
					m.Kill()
					return fmt.Errorf("calibration sync: %w", err)
				}
				r.rep.Basis, r.rep.WriteBasis, wrote = Seconds(took), Seconds(phase), first > 0
				e.logf("calibration sync %d: generation %d %s in %v; first write to the written chip %v after the request (write phase %v)",
					i+1, round.Generation, round.Outcome, r.rep.Basis, Seconds(first), r.rep.WriteBasis)
			}
		}
		if last {
			if e.o.OnDaemon != nil {
				api := DaemonAPI{URL: fmt.Sprintf("https://127.0.0.1:%d", r.port), Token: r.token, Cert: r.tls.cert, Client: r.client}
				t0 := time.Now()
				err := e.o.OnDaemon(ctx, api)
				detail := "passed"
				if err != nil {
					detail = err.Error()
				}
				e.rep.check("host test against the daemon", err == nil, "%s (%v)", detail, Seconds(time.Since(t0)))
				e.logf("host test against the daemon: %v in %v", err, Seconds(time.Since(t0)))
			}
			if _, err := r.sync(ctx); err != nil {
				e.rep.check("final sync", false, "%v", err)
			} else {
				e.rep.check("final sync", true, "a sync after the last recovery committed or found nothing changed")
			}
			if err := m.Kill(); err != nil {
				return err
			}
			gen, _, errs := r.checkImages(committed)
			cy.AfterCut, cy.Violations = gen, append(cy.Violations, errs...)
			e.rep.check("after the last boot", len(errs) == 0, "committed generation %d (was %d); outside partitions identical%s", gen, committed, joinOr(errs, ""))
			bad := r.checkCollected()
			cy.Violations = append(cy.Violations, bad...)
			e.rep.check("collected information on the backup", len(bad) == 0, "the backup's committed copy holds the FRU image in asset slot 0 and the %d SEL records info collect wrote in the guest%s",
				len(r.inputs.records), joinOr(bad, ""))
			cy.Wall = Seconds(time.Since(start))
			r.rep.Cycles = append(r.rep.Cycles, cy)
			break
		}
		// The first round after a boot reads the whole region (no
		// cache), slower than the calibration: run it whole, so the cut
		// falls in a round like the calibration's.
		if c > 1 {
			if _, err := r.sync(ctx); err != nil {
				e.rep.check(fmt.Sprintf("cycle %d: sync after recovery", c), false, "%v", err)
			}
		}
		// The cut: a sync request, then SIGKILL a seeded moment later.
		// A seeded share of the cuts is aimed at the write phase: a
		// fraction of the calibration's write phase after the host sees
		// the round's first write to the written chip (daemonaim.go);
		// the others are spread over 1.2 × the calibration sync.
		aim := rng.Float64() < aimShare && wrote
		frac := rng.Float64()
		var pre apiStatus
		if err := r.do(ctx, "GET", "/api/status", nil, &pre); err != nil {
			m.Kill()
			return fmt.Errorf("status before the cut: %w", err)
		}
		written := r.writtenChip(pre.ActiveChip)
		base := awaitQuiet(ctx, written)
		answered := make(chan struct{})
		t0 := time.Now()
		go func() {
			_, _ = r.sync(ctx)
			close(answered)
		}()
		if aim {
			cy.Aimed = true
			r.rep.CutsAimed++
			if awaitWrite(ctx, written, base, answered, commandTimeout) {
				cy.FirstWrite = Seconds(time.Since(t0))
				cy.WriteDelay = Seconds(aimDelay(frac, time.Duration(r.rep.WriteBasis)))
				time.Sleep(time.Duration(cy.WriteDelay))
			}
		} else {
			time.Sleep(time.Duration(frac * 1.2 * float64(r.rep.Basis)))
		}
		delay := time.Since(t0)
		unanswered := false
		select {
		case <-answered:
		default:
			unanswered = true
		}
		if err := m.Kill(); err != nil {
			return err
		}
		cy.KillDelay = Seconds(delay)
		gen, pending, errs := r.checkImages(committed)
		cy.AfterCut, cy.Pending = gen, pending
		// Inside the round: its request unanswered and its generation
		// not committed on flash. An interrupted round on flash (an
		// intent without its commit) says the cut fell in the write
		// phase.
		cy.InRound = unanswered && gen <= pre.Generation
		if cy.InRound {
			r.rep.CutsInRound++
		}
		if pending {
			r.rep.CutsInWritePhase++
		}
		for _, v := range errs {
			cy.Violations = append(cy.Violations, v)
		}
		e.rep.check(fmt.Sprintf("cycle %d: after the cut", c), len(errs) == 0, "committed generation %d (was %d)%s; outside partitions identical%s",
			gen, committed, map[bool]string{true: ", an interrupted round pending"}[pending], joinOr(errs, ""))
		if gen > committed {
			committed = gen
		}
		cy.Wall = Seconds(time.Since(start))
		r.rep.Cycles = append(r.rep.Cycles, cy)
		e.logf("cycle %d: boot %v, daemon ready %v, recovered %d (active %s); cut %v after the sync request (aimed at the write phase: %v, first write seen %v, then %v; in round: %v); committed %d on flash%s; cycle %v",
			c, cy.Boot, cy.Ready, cy.Recovered, cy.Active, cy.KillDelay, cy.Aimed, cy.FirstWrite, cy.WriteDelay, cy.InRound, cy.AfterCut,
			map[bool]string{true: ", interrupted round"}[pending], cy.Wall)
	}
	return nil
}

func errSuffix(s string) string {
	if s == "" {
		return ""
	}
	return "; last error: " + s
}

var reMTD = regexp.MustCompile(`(?m)^(mtd\d+): [0-9a-f]+ [0-9a-f]+ "(flash[01])"$`)

// startDaemon brings the guest's network up, writes the certificate, key
// and token, and starts cmcsync serve in the background as an init
// system would, on the whole-chip devices found by name in /proc/mtd.
// With collect (the last boot) it first runs `cmcsync info collect` on
// the same chips and places (collectInGuest).
func (r *daemonRun) startDaemon(ctx context.Context, m *vm.Machine, collect bool) error {
	e := r.e
	out, err := e.run(ctx, m, "cat /proc/mtd")
	if err != nil {
		return err
	}
	dev := map[string]string{}
	for _, mm := range reMTD.FindAllStringSubmatch(out, -1) {
		dev[mm[2]] = "/dev/" + mm[1]
	}
	if dev["flash0"] == "" || dev["flash1"] == "" {
		return fmt.Errorf("the guest's /proc/mtd lists no flash0 and flash1 partitions (is the CMC device tree in use?):\n%s", out)
	}
	for _, cmd := range []string{
		"ifconfig eth0 10.0.2.15 netmask 255.255.255.0 up",
		"mkdir -p -m 700 /tmp/state && printf '%s\\n' '" + r.token + "' > /tmp/state/api-token && chmod 600 /tmp/state/api-token",
		"printf '" + strings.ReplaceAll(string(r.tls.certPEM), "\n", "\\n") + "' > /tmp/cert.pem",
		"printf '" + strings.ReplaceAll(string(r.tls.keyPEM), "\n", "\\n") + "' > /tmp/key.pem && chmod 600 /tmp/key.pem",
	} {
		if _, err := e.run(ctx, m, cmd); err != nil {
			return err
		}
	}
	pair := fmt.Sprintf("--primary mtd:%s --backup mtd:%s --info cmc-info --store cmc-store --image-id uimage:kernel", dev["flash0"], dev["flash1"])
	if collect {
		if err := r.collectInGuest(ctx, m, pair); err != nil {
			return err
		}
	}
	serve := fmt.Sprintf("cmcsync serve %s --listen 10.0.2.15:%d --tls-cert /tmp/cert.pem --tls-key /tmp/key.pem --state /tmp/state --simulate-cmc --cmc-step 1s --scrub-every 0",
		pair, daemonGuestPort)
	_, err = e.run(ctx, m, "("+serve+" > /tmp/serve.log 2>&1 &)")
	return err
}

// apiStatus is the part of GET /api/status the scenario reads.
type apiStatus struct {
	Generation uint64 `json:"generation"`
	LastError  string `json:"last_error"`
	Active     string `json:"active"`
	ActiveChip int    `json:"active_chip"`
}

// apiRound is the part of POST /api/sync's answer the scenario reads.
type apiRound struct {
	Generation uint64 `json:"generation"`
	Outcome    string `json:"outcome"`
	Error      string `json:"error"`
}

func (r *daemonRun) do(ctx context.Context, method, path string, body io.Reader, v any) error {
	timeout := 20 * time.Second // a status
	if method == "POST" {
		timeout = commandTimeout // a round: the first copies the whole region under TCG
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, method, fmt.Sprintf("https://127.0.0.1:%d%s", r.port, path), body)
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+r.token)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := r.client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("%s %s: %s: %s", method, path, resp.Status, bytes.TrimSpace(b))
	}
	return json.Unmarshal(b, v)
}

// waitReady polls the API until the daemon answers (its status, with the
// token, over TLS) or the command timeout passes; on a timeout it shows
// the daemon's log.
func (r *daemonRun) waitReady(ctx context.Context, m *vm.Machine) (apiStatus, error) {
	deadline := time.Now().Add(commandTimeout)
	var last error
	for time.Now().Before(deadline) {
		var st apiStatus
		if last = r.do(ctx, "GET", "/api/status", nil, &st); last == nil {
			return st, nil
		}
		time.Sleep(time.Second)
	}
	log, _ := r.e.run(ctx, m, "cat /tmp/serve.log")
	return apiStatus{}, fmt.Errorf("the daemon's API did not answer within %v: %v; its log:\n%s", commandTimeout, last, tail(log, 3000))
}

// sync asks the daemon for a round now.
func (r *daemonRun) sync(ctx context.Context) (apiRound, error) {
	var round apiRound
	err := r.do(ctx, "POST", "/api/sync", strings.NewReader("{}"), &round)
	return round, err
}

// checkImages decodes both chips' stores with the reference decoder
// and compares every partition outside the region and the store with
// what the host wrote: it returns the committed generation, whether an
// interrupted round is pending, and the violations.
func (r *daemonRun) checkImages(prev uint64) (uint64, bool, []string) {
	var bad []string
	for i, p := range []string{r.e.primary, r.e.backup} {
		d, err := outsideDigests(p)
		if err != nil {
			bad = append(bad, err.Error())
			continue
		}
		for name, want := range r.outside[i] {
			if d[name] != want {
				bad = append(bad, fmt.Sprintf("flash%d partition %s changed (sha256 %.12s…, was %.12s…)", i, name, d[name], want))
			}
		}
	}
	var gen uint64
	pending := false
	st := cmcPartNamed("cmc-store")
	for i, p := range []string{r.e.primary, r.e.backup} {
		g, pend, errs := decodeStore(p, st)
		for _, v := range errs {
			bad = append(bad, fmt.Sprintf("flash%d: %s", i, v))
		}
		gen, pending = max(gen, g), pending || pend
	}
	if gen < prev {
		bad = append(bad, fmt.Sprintf("committed generation went back from %d to %d", prev, gen))
	}
	return gen, pending, bad
}

// decodeStore decodes the store of a chip image with the reference
// decoder and verifies its committed chunks.
func decodeStore(path string, st cmcPart) (uint64, bool, []string) {
	f, err := os.Open(path)
	if err != nil {
		return 0, false, []string{err.Error()}
	}
	defer f.Close()
	b, err := reference.Decode(f, st.off, st.size)
	if err != nil {
		return 0, false, []string{fmt.Sprintf("reference decoder: store: %v", err)}
	}
	var bad []string
	faults, err := b.VerifyChunks(f)
	if err != nil {
		bad = append(bad, fmt.Sprintf("reference decoder: verify chunks: %v", err))
	}
	for _, fl := range faults {
		bad = append(bad, fmt.Sprintf("committed chunk fails: %+v", fl))
	}
	return b.Committed.Generation, b.Pending != nil, bad
}
