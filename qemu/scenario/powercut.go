package scenario

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"time"

	"github.com/cmcsync/cmcsync/qemu/guest"
	"github.com/cmcsync/cmcsync/qemu/vm"
	"github.com/cmcsync/cmcsync/sync/engine"
	"github.com/cmcsync/cmcsync/sync/info"
	"github.com/cmcsync/cmcsync/sync/store"
)

// Cycle is one power cut of the powercut scenario.
type Cycle struct {
	Cycle int `json:"cycle"`
	// KillRound is the guest round the cut was aimed at; KillDelay how long
	// after that round's first program or erase of the backup (host wall
	// time) QEMU was killed; Basis the previous round's write phase (first
	// backup write to the end of the round), the delay's scale.
	KillRound int     `json:"kill_round"`
	KillDelay Seconds `json:"kill_delay_seconds"`
	Basis     Seconds `json:"basis_round_seconds"`
	// KillAt is KillDelay as a fraction of Basis.
	KillAt float64 `json:"kill_at"`
	// Boot is the wall time to the guest's shell; Wall the whole cycle.
	Boot Seconds `json:"boot_seconds"`
	Wall Seconds `json:"cycle_seconds"`
	// LastCommitted is the newest generation the guest reported committed
	// before the cut; InFlight the generation of the round that was running
	// (0 if the cut fell between rounds).
	LastCommitted uint64 `json:"last_committed"`
	InFlight      uint64 `json:"in_flight,omitempty"`
	// AfterCut is the committed generation the host decodes from the
	// images after the cut; Interrupted whether they hold an unpurged
	// round (and how many data blocks it may have touched).
	AfterCut          uint64 `json:"after_cut"`
	Interrupted       bool   `json:"interrupted"`
	InterruptedBlocks int    `json:"interrupted_blocks,omitempty"`
	// Recovered is the generation the guest's engine opened at the next
	// boot; Purged whether that recovery purged a round; Events its events.
	Recovered uint64 `json:"recovered"`
	// RecoveryChecked says the next boot's recovery was checked (false
	// only while the cycle is being logged, before that boot).
	RecoveryChecked bool     `json:"recovery_checked"`
	Purged          bool     `json:"purged"`
	Events          []string `json:"recovery_events,omitempty"`
	// Violations are the invariants this cycle broke.
	Violations []string `json:"violations,omitempty"`
	Replay     string   `json:"replay"`
}

// Line is the cycle's one-line account, ending with its replay line.
func (c Cycle) Line() string {
	cut := fmt.Sprintf("cut %v into round %d's write phase (%.0f%% of the previous one)", c.KillDelay, c.KillRound, 100*c.KillAt)
	if c.InFlight != 0 {
		cut += fmt.Sprintf(" (generation %d in flight)", c.InFlight)
	} else {
		cut += " (between rounds)"
	}
	s := fmt.Sprintf("cycle %d: %s; committed %d, on flash %d", c.Cycle, cut, c.LastCommitted, c.AfterCut)
	if c.Interrupted {
		s += fmt.Sprintf(", interrupted round over %d blocks", c.InterruptedBlocks)
	}
	if c.RecoveryChecked {
		s += fmt.Sprintf("; recovered %d", c.Recovered)
		if c.Purged {
			s += " after purge"
		}
	}
	if len(c.Violations) > 0 {
		s += fmt.Sprintf("; %d VIOLATIONS: %s", len(c.Violations), c.Violations[0])
	}
	return s + "; replay: " + c.Replay
}

// expectGuest waits for the guest line want accepts (what names it in
// errors), after the console's cursor, and returns it decoded.
func expectGuest(ctx context.Context, m *vm.Machine, what string, want func(guest.Line) bool) (guest.Line, error) {
	var got guest.Line
	_, err := m.Console.ExpectLine(ctx, "the guest's "+what+" line", func(s string) bool {
		l, ok, err := guest.ParseLine(s)
		if !ok || err != nil || !want(l) {
			return false
		}
		got = l
		return true
	}, commandTimeout)
	return got, err
}

// isLine accepts the line of event ev about round.
func isLine(ev guest.Event, round int) func(guest.Line) bool {
	return func(l guest.Line) bool { return l.Is(ev, round) }
}

// writeOrEnd accepts round's first backup write or, when the round wrote
// nothing, its end.
func writeOrEnd(round int) func(guest.Line) bool {
	return func(l guest.Line) bool { return l.Is(guest.EventBackupWrite, round) || l.Is(guest.EventRound, round) }
}

// tally counts, per invariant, the cycles that kept and broke it.
type tally struct {
	order []string
	ok    map[string]int
	bad   map[string][]string
}

func newTally() *tally { return &tally{ok: map[string]int{}, bad: map[string][]string{}} }

func (t *tally) add(c *Cycle, name string, ok bool, format string, a ...any) {
	if !slices.Contains(t.order, name) {
		t.order = append(t.order, name)
	}
	if ok {
		t.ok[name]++
		return
	}
	msg := fmt.Sprintf("cycle %d: %s: %s", c.Cycle, name, fmt.Sprintf(format, a...))
	t.bad[name] = append(t.bad[name], msg)
	c.Violations = append(c.Violations, name+": "+fmt.Sprintf(format, a...))
}

// powercut holds the state carried between cycles.
type powercut struct {
	e      *env
	layout engine.Layout
	cfg    engine.Config
	rng    *rand.Rand
	tally  *tally
	// digests maps a generation to its types' digests, as decoded by the
	// host or reported by the guest.
	digests map[uint64]*genDigests
	// prev is the previous cut's cycle and the images' state after it.
	prev      *Cycle
	prevState *imageState
}

// killRound is the guest round each cycle cuts: the rounds before it run
// whole (the first after a boot reads everything and is slower).
const killRound = 3

// cmcActivity is the CMC activity (generator time) before each round: two
// hours of events and readings change about a tenth of the information, so
// a round spends about as long writing the backup as reading the primary
// and cuts land in both phases.
const cmcActivity = 2 * time.Hour

// killFraction bounds the kill delay: a uniform fraction in [0, 1.1) of
// the previous round's write phase, so a few cuts land after the round ended.
const killFraction = 1.1

// runPowercut cuts the guest's power (SIGKILL to QEMU) at a seeded moment
// of a sync round, Cycles times, booting again on the same images after
// each cut. Host checks, per cut, on the images: the backup holds exactly
// one committed generation, the last reported or the one in flight
// (atomic, durable); at the next boot, after the guest's recovery and
// before any new round, nothing interrupted is left, the interrupted
// round's blocks read erased unless the committed generation uses them
// (purged), the configuration is the committed one (reinit), the recovered
// generation is the one found after the cut, every committed chunk matches
// its digest and its types equal the digests the guest reported for that
// generation, and the primary's image and information are unchanged
// (primary untouched). After the last cut a final boot runs a full round
// (live) and the backup must equal the primary.
func runPowercut(ctx context.Context, e *env) error {
	if e.o.Schedule != "" {
		return runExactCut(ctx, e)
	}
	cfg := guestConfig()
	e.logf("preparing images in %s (format, populate with seed %d, initial sync on the host)", e.dir, e.o.Seed)
	l, err := prepareImages(ctx, e, cfg, true)
	if err != nil {
		return err
	}
	seed := e.o.Seed
	p := &powercut{e: e, layout: l, cfg: cfg, rng: rand.New(rand.NewPCG(seed, seed^0x5eed_c0de_9e37_79b9)),
		tally: newTally(), digests: map[uint64]*genDigests{}}
	st, err := readImages(e.primary, e.backup, l)
	if err != nil {
		return err
	}
	p.recordGeneration(st)
	for c := 1; c <= e.o.Cycles; c++ {
		if err := p.cycle(ctx, c); err != nil {
			return err
		}
	}
	if err := p.final(ctx); err != nil {
		return err
	}
	for _, name := range p.tally.order {
		bad := p.tally.bad[name]
		detail := fmt.Sprintf("held in %d checks", p.tally.ok[name])
		if len(bad) > 0 {
			detail = fmt.Sprintf("broken %d times (held %d): %s", len(bad), p.tally.ok[name], bad[0])
		}
		e.rep.check(name, len(bad) == 0, "%s", detail)
	}
	return nil
}

// recordGeneration remembers the backup generation's type digests as found
// on the images.
func (p *powercut) recordGeneration(st *imageState) {
	g := p.gen(st.Backup.Generation)
	for t, d := range st.BackupData {
		g.sha[t] = d.Digest
	}
}

// genDigests are one generation's type digests: sha256 of the payloads (as
// the host decoded them) and the store's payload digests (as the guest's
// engine reported them).
type genDigests struct {
	sha, store map[info.Type]string
}

func (p *powercut) gen(g uint64) *genDigests {
	d, ok := p.digests[g]
	if !ok {
		d = &genDigests{sha: map[info.Type]string{}, store: map[info.Type]string{}}
		p.digests[g] = d
	}
	return d
}

// cycle boots, checks the recovery of the previous cut, lets the guest run
// rounds and cuts the power during one.
func (p *powercut) cycle(ctx context.Context, n int) error {
	e := p.e
	start := time.Now()
	c := &Cycle{Cycle: n, KillRound: killRound}
	frac := p.rng.Float64() * killFraction
	m, err := e.boot(ctx)
	if err != nil {
		return err
	}
	defer m.Kill()
	c.Boot = e.rep.Boots[len(e.rep.Boots)-1].ToShell
	guestSeed := e.o.Seed*1_000_003 + uint64(n)
	cmd := e.guestCommand(0, guestSeed, cmcActivity)
	cmd.Hold, cmd.TraceWrites = true, true
	m.Console.Begin(cmd.String())
	if err := p.checkRecovery(ctx, m); err != nil {
		return err
	}
	if err := m.Console.Send("go\n"); err != nil {
		return err
	}
	// Let rounds 1 .. KillRound-1 run whole, timing each one's write phase
	// (from its first program or erase of the backup to its end); the last
	// of them (a steady incremental round, unlike the first after boot) is
	// the basis. The cut falls in round KillRound's write phase.
	var basis time.Duration
	for r := 1; r < c.KillRound; r++ {
		if _, err := expectGuest(ctx, m, fmt.Sprintf("round %d start", r), isLine(guest.EventRoundStart, r)); err != nil {
			return err
		}
		got, err := expectGuest(ctx, m, fmt.Sprintf("round %d backup-write or end", r), writeOrEnd(r))
		if err != nil {
			return err
		}
		t0 := time.Now()
		if got.Event == guest.EventBackupWrite {
			if _, err := expectGuest(ctx, m, fmt.Sprintf("round %d end", r), isLine(guest.EventRound, r)); err != nil {
				return err
			}
		}
		basis = time.Since(t0)
	}
	if _, err := expectGuest(ctx, m, fmt.Sprintf("round %d start", c.KillRound), isLine(guest.EventRoundStart, c.KillRound)); err != nil {
		return err
	}
	if _, err := expectGuest(ctx, m, fmt.Sprintf("round %d backup-write or end", c.KillRound), writeOrEnd(c.KillRound)); err != nil {
		return err
	}
	delay := time.Duration(frac * float64(basis))
	select {
	case <-time.After(delay):
	case <-ctx.Done():
		return ctx.Err()
	}
	if err := m.Kill(); err != nil {
		return err
	}
	c.KillDelay, c.Basis = Seconds(delay), Seconds(basis)
	if basis > 0 {
		c.KillAt = float64(delay) / float64(basis)
	}
	c.Replay = fmt.Sprintf("%s (cycle %d: kill %v after round %d's first backup write; seed %d)", e.rep.Replay, n, delay.Round(time.Millisecond), c.KillRound, e.o.Seed)
	lines, err := guest.Parse(m.Console.Output())
	if err != nil {
		return fmt.Errorf("cycle %d: %w", n, err)
	}
	c.LastCommitted, c.InFlight = p.reported(lines)
	st, err := readImages(e.primary, e.backup, p.layout)
	if err != nil {
		p.tally.add(c, "decodable", false, "images after the cut do not decode: %v", err)
		e.rep.Cycles = append(e.rep.Cycles, *c)
		return violationf("cycle %d: images after the cut do not decode: %v", n, err)
	}
	c.AfterCut = st.Backup.Generation
	if st.Interrupted != nil {
		c.Interrupted, c.InterruptedBlocks = true, len(st.Interrupted.Blocks)
	}
	inFlightOK := c.InFlight != 0 && c.AfterCut == c.InFlight
	p.tally.add(c, "atomic", c.AfterCut == c.LastCommitted || inFlightOK,
		"generation %d on flash; the guest had committed %d with %d in flight", c.AfterCut, c.LastCommitted, c.InFlight)
	p.tally.add(c, "durable", c.AfterCut >= c.LastCommitted, "committed generation %d lost: %d on flash", c.LastCommitted, c.AfterCut)
	p.tally.add(c, "primary-image", st.ImageErr == nil, "primary firmware image: %v", st.ImageErr)
	if inFlightOK {
		// The cut round's commit became durable: it holds what the primary
		// held when the round started, which the cut left as it was.
		diffs := compareSynced(st, p.cfg.Types)
		p.tally.add(c, "atomic-content", len(diffs) == 0, "%s", joinOr(diffs, ""))
		p.recordGeneration(st)
	}
	c.Wall = Seconds(time.Since(start))
	p.prev, p.prevState = c, st
	e.rep.Cycles = append(e.rep.Cycles, *c)
	e.logf("%s", c.Line())
	return nil
}

// reported returns the newest generation the guest reported committed and
// the generation of the round it had started but not finished (0 if none),
// and records the reported digests.
func (p *powercut) reported(lines []guest.Line) (committed, inFlight uint64) {
	running := false
	for _, l := range lines {
		switch l.Event {
		case guest.EventOpen:
			committed = l.Generation
		case guest.EventRoundStart:
			running = true
		case guest.EventRound:
			running = false
			if l.Report != nil && l.Report.Outcome == engine.OutcomeCommitted {
				committed = l.Generation
				g := p.gen(l.Generation)
				for _, t := range l.Types {
					g.store[t.Type] = t.Digest
				}
			}
		}
	}
	if running {
		inFlight = committed + 1
	}
	return committed, inFlight
}

// checkRecovery waits for the guest's engine to open (recovery done, rounds
// held back) and checks, on a copy of the images, what the recovery did to
// the previous cut.
func (p *powercut) checkRecovery(ctx context.Context, m *vm.Machine) error {
	e := p.e
	open, err := expectGuest(ctx, m, "open", isLine(guest.EventOpen, 0))
	if err != nil {
		return fmt.Errorf("waiting for the guest's engine to open: %w", err)
	}
	c := p.prev
	if c == nil {
		return nil
	}
	c.Recovered, c.RecoveryChecked = open.Generation, true
	for _, ev := range open.Events {
		c.Events = append(c.Events, string(ev.Kind))
		if ev.Kind == engine.EventPurgeVerified || ev.Kind == engine.EventPurge {
			c.Purged = true
		}
	}
	// The guest is held after Open: its writes are done. Copy the images
	// (QEMU still has them open) and decode the copies.
	dir := filepath.Join(e.dir, fmt.Sprintf("recovered-%02d", c.Cycle))
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	time.Sleep(200 * time.Millisecond) // let QEMU's block layer finish the last page writes
	cp, cb := filepath.Join(dir, "primary.img"), filepath.Join(dir, "backup.img")
	for src, dst := range map[string]string{e.primary: cp, e.backup: cb} {
		b, err := os.ReadFile(src)
		if err != nil {
			return err
		}
		if err := os.WriteFile(dst, b, 0o644); err != nil {
			return err
		}
	}
	st, err := readImages(cp, cb, p.layout)
	t := p.tally
	if err != nil {
		t.add(c, "decodable", false, "images after recovery do not decode: %v", err)
		p.updateCycle(c)
		return nil
	}
	prev := p.prevState
	t.add(c, "recovered-generation", open.Generation == prev.Backup.Generation && st.Backup.Generation == prev.Backup.Generation,
		"after the cut the backup held generation %d; the guest recovered %d, the images hold %d", prev.Backup.Generation, open.Generation, st.Backup.Generation)
	t.add(c, "purged", st.Interrupted == nil, "an interrupted round is still pending after recovery: generation %d", genOf(st.Interrupted))
	if prev.Interrupted != nil {
		t.add(c, "purge-recorded", c.Purged, "the cut left an interrupted round but the guest's recovery reported no purge (events %v)", c.Events)
		notErased, err := blocksNotErased(cb, st, prev.Interrupted.Blocks)
		if err != nil {
			return err
		}
		t.add(c, "purged-blocks-erased", len(notErased) == 0,
			"%d of the interrupted round's %d blocks still hold data and are not part of the committed generation: %v",
			len(notErased), len(prev.Interrupted.Blocks), head(notErased, 8))
	}
	gotCfg := engine.FromStoreConfig(st.Backup.Config)
	t.add(c, "reinit", sameConfig(open.Status.Config, p.cfg) && sameConfig(gotCfg, p.cfg),
		"configuration after recovery %+v (committed %+v), want %+v", open.Status.Config, gotCfg, p.cfg)
	t.add(c, "chunks-verify", len(st.ChunkErrors) == 0, "%d committed chunks fail their digests (first: %v)", len(st.ChunkErrors), firstChunkErr(st.ChunkErrors))
	if want, ok := p.digests[st.Backup.Generation]; ok {
		var diffs []string
		for t, d := range st.BackupData {
			if w, ok := want.sha[t]; ok && w != d.Digest {
				diffs = append(diffs, fmt.Sprintf("%v sha256 %.12s… != %.12s… recorded for generation %d", t, d.Digest, w, st.Backup.Generation))
			}
		}
		for _, ts := range st.Backup.Types {
			if w, ok := want.store[info.Type(ts.Type)]; ok && w != ts.Digest.String() {
				diffs = append(diffs, fmt.Sprintf("%v store digest %.12s… != guest-reported %.12s…", info.Type(ts.Type), ts.Digest, w))
			}
		}
		t.add(c, "one-generation", len(diffs) == 0, "%s", joinOr(diffs, ""))
	}
	t.add(c, "primary-untouched", st.PrimaryPrefix == prev.PrimaryPrefix && st.ImageErr == nil,
		"recovery changed the primary's image or information (sha256 %.12s… -> %.12s…; image: %s)", prev.PrimaryPrefix, st.PrimaryPrefix, errString(st.ImageErr, "ok"))
	p.updateCycle(c)
	return nil
}

// updateCycle rewrites the report's copy of cycle c (checked after the fact).
func (p *powercut) updateCycle(c *Cycle) {
	for i := range p.e.rep.Cycles {
		if p.e.rep.Cycles[i].Cycle == c.Cycle {
			p.e.rep.Cycles[i] = *c
		}
	}
	if len(c.Violations) > 0 {
		p.e.logf("cycle %d recovery: %d violations: %v", c.Cycle, len(c.Violations), c.Violations)
	} else {
		p.e.logf("cycle %d recovery: generation %d, purged=%v, events %v", c.Cycle, c.Recovered, c.Purged, c.Events)
	}
}

// final boots once more: the recovery of the last cut is checked, then one
// full round must commit (live) and leave the backup equal to the primary.
func (p *powercut) final(ctx context.Context) error {
	e := p.e
	m, err := e.boot(ctx)
	if err != nil {
		return err
	}
	defer m.Kill()
	cmd := e.guestCommand(1, e.o.Seed*1_000_003, cmcActivity)
	cmd.Hold = true
	id := m.Console.Begin(cmd.String())
	if err := p.checkRecovery(ctx, m); err != nil {
		return err
	}
	if err := m.Console.Send("go\n"); err != nil {
		return err
	}
	r, err := m.Console.Finish(ctx, id, commandTimeout)
	if err != nil {
		return err
	}
	if err := m.Reboot(rebootTimeout); err != nil {
		return err
	}
	lines, _ := guest.Parse(r.Output)
	outcome := ""
	for _, l := range lines {
		if l.Event == guest.EventRound && l.Report != nil {
			outcome = l.Report.Outcome
		}
	}
	st, err := readImages(e.primary, e.backup, p.layout)
	if err != nil {
		return violationf("final images do not decode: %v", err)
	}
	e.rep.check("live", r.Status == 0 && outcome == engine.OutcomeCommitted, "the round after the last recovery: outcome %q, exit status %d", outcome, r.Status)
	diffs := compareSynced(st, p.cfg.Types)
	e.rep.check("final-backup-equals-primary", len(diffs) == 0 && st.Interrupted == nil && len(st.ChunkErrors) == 0,
		"%s", joinOr(diffs, fmt.Sprintf("generation %d holds the primary's %d types; nothing interrupted; chunks verify", st.Backup.Generation, len(p.cfg.Types))))
	if len(e.rep.Cycles) > 0 {
		var total time.Duration
		for _, c := range e.rep.Cycles {
			total += time.Duration(c.Wall)
		}
		e.logf("mean cycle %v over %d cycles", (total / time.Duration(len(e.rep.Cycles))).Round(time.Millisecond), len(e.rep.Cycles))
	}
	return nil
}

func genOf(in *store.Interrupted) uint64 {
	if in == nil {
		return 0
	}
	return in.Generation
}

func sameConfig(a, b engine.Config) bool {
	ja, _ := json.Marshal(a)
	jb, _ := json.Marshal(b)
	return bytes.Equal(ja, jb)
}

func firstChunkErr(errs []store.ChunkError) string {
	if len(errs) == 0 {
		return "none"
	}
	return errs[0].Err.Error()
}

func head[T any](s []T, n int) []T {
	if len(s) > n {
		return s[:n]
	}
	return s
}

// blocksNotErased returns the blocks among blocks that the committed
// generation does not use and that do not read as erased (all 0xFF) in the
// backup image at path.
func blocksNotErased(path string, st *imageState, blocks []uint32) ([]uint32, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	buf := make([]byte, st.ChunkSize)
	var bad []uint32
	for _, b := range blocks {
		if st.Live[b] {
			continue
		}
		if _, err := f.ReadAt(buf, st.DataOff+int64(b)*st.ChunkSize); err != nil {
			return nil, err
		}
		for _, v := range buf {
			if v != 0xFF {
				bad = append(bad, b)
				break
			}
		}
	}
	return bad, nil
}
