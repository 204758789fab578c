package daemon

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/cmcsync/cmcsync/source/collect"
	"github.com/cmcsync/cmcsync/source/ipmi/sel"
	"github.com/cmcsync/cmcsync/sync/engine"
	"github.com/cmcsync/cmcsync/sync/info"
	"github.com/cmcsync/cmcsync/web"
)

// Backend returns the daemon as the page and API see it: a web.Backend
// that also implements web.UpgradeSimulator on simulated chips.
func (d *Daemon) Backend() web.Backend {
	if d.simulated {
		return simBackend{backend{d}}
	}
	return backend{d}
}

// backend adapts a Daemon to web.Backend: engine types to web types,
// engine errors to the web sentinels that choose the HTTP status.
type backend struct{ d *Daemon }

// Status maps the engine's status; the chips are named by role.
func (b backend) Status() web.Status {
	st := b.d.Status()
	out := web.Status{
		Active:        st.Active,
		ActiveChip:    st.ActiveChip,
		ImageVersion:  st.PrimaryVersion,
		Generation:    st.Generation,
		LastSync:      st.LastSync,
		NextSync:      st.NextSync,
		LastError:     st.LastError,
		NotSynced:     st.NotSynced,
		BackupHealth:  st.BackupHealth,
		LastScrub:     st.LastScrub,
		DamagedChunks: unrepaired(st),
		Counters:      b.d.logbook.baseTotals().plus(st.Counters, b.d.BytesWritten()).webCounters(),
	}
	for _, t := range st.NextGroup {
		out.NextGroup = append(out.NextGroup, t.String())
	}
	for i, f := range b.d.chips {
		role := "backup"
		if i == st.ActiveChip {
			role = "primary"
		}
		g := f.Geometry()
		out.Chips = append(out.Chips, web.Chip{Role: role, Name: g.Name, Geometry: strings.TrimPrefix(g.String(), g.Name+" ")})
	}
	out.ChipsGone = b.d.checkChips()
	out.RestorePending = st.RestorePending
	for _, t := range st.RestoreFailed {
		out.RestoreFailed = append(out.RestoreFailed, t.String())
	}
	if st.UpgradePending {
		out.Upgrade = &web.UpgradeInfo{FromVersion: st.CommittedVersion, ToVersion: st.PrimaryVersion}
	}
	for _, ts := range st.Types {
		out.Types = append(out.Types, webTypeStatus(st, ts))
	}
	return out
}

// webTypeStatus maps one type of the newest generation from the
// engine's own verdicts (TypeStatus.Synced and PrimaryError,
// Status.UpgradePending and RestoreIncomplete, the scrub's damage), never
// from the digest alone: not-selected, pending (selected, no committed
// copy yet), error (the primary's record read corrupt, or damage with
// nothing intact to repair it from), damaged (a backup chunk the next
// round rewrites), not-synced (an upgrade waiting for its choice, a
// restore-defaults not completed) or synced.
func webTypeStatus(st engine.Status, ts engine.TypeStatus) web.TypeStatus {
	w := web.TypeStatus{Name: ts.Name, Selected: ts.Selected, Size: ts.Size, Seq: ts.Seq, Digest: ts.Digest}
	var damage *engine.ChunkDamage
	for i, d := range st.ScrubDamage {
		if d.Type == ts.Type {
			damage = &st.ScrubDamage[i]
			if d.Repair == engine.RepairImpossible {
				break
			}
		}
	}
	switch {
	case !ts.Selected:
		w.State = "not-selected"
	case ts.Digest == "":
		w.State = "pending"
	case ts.PrimaryError != "":
		w.State, w.Reason = "error", "the primary's record reads corrupt: "+ts.PrimaryError
	case damage != nil && damage.Repair == engine.RepairImpossible:
		w.State, w.Reason = "error", fmt.Sprintf("backup chunk %d is damaged and the primary's copy is damaged too: nothing intact to repair it from", damage.Index)
	case damage != nil:
		w.State, w.Reason = "damaged", fmt.Sprintf("backup chunk %d failed its digest check (%s); the next round repairs it", damage.Index, damage.Repair)
	case st.RestoreIncomplete:
		w.State, w.Reason = "not-synced", "a restore of the preset defaults was cut before its end; the next start or round completes it"
	case st.UpgradePending || !ts.Synced:
		w.State, w.Reason = "not-synced", "an image upgrade waits for your choice; syncing is paused"
	default:
		w.State = "synced"
	}
	return w
}

// Events returns the history's events, oldest first: the engine's
// (including its recovery at Open) and the daemon's own, from this start
// and the ones before it.
func (b backend) Events() []web.Event { return b.d.logbook.allEvents() }

// Types lists every information type with its explanation and its room in
// the running information region (left out when the region could not be
// read at start).
func (b backend) Types() []web.TypeInfo {
	var out []web.TypeInfo
	for _, t := range info.All() {
		x := t.Explanation()
		out = append(out, web.TypeInfo{Name: t.String(), Title: x.Title, Holds: x.Holds, WhyBackup: x.WhyBackup, TypicalSize: x.TypicalSize, ChangeRate: x.ChangeRate,
			CapacityBytes: b.d.region.capacity[t], RegionBytes: b.d.region.bytes})
	}
	return out
}

// Config maps the engine's configuration.
func (b backend) Config() web.Config {
	return webConfig(b.d.engine.Config())
}

// SetConfig stores c (Daemon.SetConfig: nothing is written when nothing
// changes): an unknown type is a FieldError, a configuration the engine
// refuses wraps web.ErrInvalid, a spent wear budget web.ErrTooManyWrites.
func (b backend) SetConfig(c web.Config) error {
	if err := b.refuseIfChipGone(); err != nil {
		return err
	}
	ec := engine.Config{Interval: time.Duration(c.Interval), Threshold: time.Duration(c.Threshold), Verify: c.Verify, GroupSize: c.GroupSize, RetryAtOnce: c.RetryAtOnce, Types: []info.Type{}}
	for _, name := range c.Types {
		t, err := info.ParseType(name)
		if err != nil {
			return &web.FieldError{Field: "types", Msg: err.Error()}
		}
		ec.Types = append(ec.Types, t)
	}
	if err := b.d.SetConfig(ec); err != nil {
		if fe := (*web.FieldError)(nil); errors.As(err, &fe) {
			return fe // the API's own check: the field it names
		}
		if errors.Is(err, engine.ErrConfig) {
			return fmt.Errorf("%w: %v", web.ErrInvalid, err)
		}
		return err
	}
	return nil
}

// SyncNow runs a round, the daemon's (a client that goes away does not
// interrupt it), if the wear budget allows (else the error wraps
// web.ErrTooManyWrites); while an upgrade waits for its choice the error
// wraps web.ErrConflict and, as the round wrote nothing, the budget's
// token is given back; so it is while the committed configuration is one
// the engine refuses (engine.ErrCommittedConfig: a PUT /api/config fixes
// it). The web.Server records the round itself.
func (b backend) SyncNow(ctx context.Context) (web.Round, error) {
	if err := b.refuseIfChipGone(); err != nil {
		return web.Round{}, err
	}
	if err := b.d.budget.take(); err != nil {
		return web.Round{}, err
	}
	rep, err := b.d.SyncNow(ctx)
	if errors.Is(err, engine.ErrUpgradePending) || errors.Is(err, engine.ErrCommittedConfig) {
		if rep.Erases == 0 && rep.PagesProgrammed == 0 {
			b.d.budget.refund() // refused before any write
		}
		return webRound(rep, nil), fmt.Errorf("%w: %w", web.ErrConflict, err)
	}
	return webRound(rep, nil), err
}

// Upgrade applies the user's choice and records its round. The check
// that an upgrade is pending and the choice's round are one step (as in
// the engine's UpgradeRound, which refuses with engine.ErrNoUpgradePending;
// checked here first so that a refusal spends no budget token): of two
// choices sent at once the second finds no upgrade pending
// (web.ErrNoUpgrade, 409) and runs nothing, rather than a restore-defaults
// after a keep-upgraded.
func (b backend) Upgrade(ctx context.Context, choice web.UpgradeChoice) error {
	c, err := engine.ParseUpgradeChoice(string(choice))
	if err != nil || c == engine.NoChoice {
		return fmt.Errorf("%w: unknown choice %q", web.ErrInvalid, choice)
	}
	b.d.choiceMu.Lock()
	defer b.d.choiceMu.Unlock()
	if !b.d.Status().UpgradePending {
		return web.ErrNoUpgrade
	}
	if err := b.refuseIfChipGone(); err != nil {
		return err
	}
	if err := b.d.budget.take(); err != nil {
		return err
	}
	rep, err := b.d.Upgrade(ctx, c)
	if errors.Is(err, engine.ErrCommittedConfig) {
		// Refused before any write: a configuration PUT fixes it.
		b.d.budget.refund()
		return fmt.Errorf("%w: %w", web.ErrConflict, err)
	}
	b.d.record(webRound(rep, err))
	return err
}

// Failback re-seeds chip A and makes it active again, if the wear budget
// allows; a refusal wraps web.ErrConflict (409) and gives the budget's
// token back (it wrote nothing).
func (b backend) Failback(ctx context.Context) (web.Failback, error) {
	if err := b.refuseIfChipGone(); err != nil {
		return web.Failback{}, err
	}
	if err := b.d.budget.take(); err != nil {
		return web.Failback{}, err
	}
	rep, err := b.d.Failback(ctx)
	if errors.Is(err, engine.ErrFailbackRefused) {
		b.d.budget.refund() // a refusal changed nothing (engine.Failback)
		return web.Failback{}, fmt.Errorf("%w: %v", web.ErrConflict, err)
	}
	if err != nil {
		return web.Failback{}, err
	}
	return web.Failback{Generation: rep.Generation, Types: rep.Types, RoleEpoch: rep.RoleEpoch, ActiveChip: rep.ActiveChip}, nil
}

// PutInfo writes a type's record of the active chip's information region
// (Daemon.PutInfo). An unknown type, slot or layout, or input that does
// not decode, wraps web.ErrInvalid (400); an unknown type, an asset slot
// out of range or an unknown layout is a *web.FieldError naming it. Puts do not spend the wear
// budget: they are the CMC services' own writes to the primary, which a
// service linking package source/collect makes as often.
func (b backend) PutInfo(ctx context.Context, p web.InfoPut) (web.InfoPutResult, error) {
	t, err := info.ParseType(p.Type)
	if err != nil {
		return web.InfoPutResult{}, &web.FieldError{Field: "type", Msg: err.Error()}
	}
	if t == info.Asset && (p.Slot < 0 || p.Slot >= info.NumFRUs) {
		return web.InfoPutResult{}, &web.FieldError{Field: "slot", Msg: fmt.Sprintf("asset slot %d out of range: want 0 (the chassis), 1-%d (the nodes) or %d-%d (the PSUs)", p.Slot, info.NumNodes, info.NumNodes+1, info.NumFRUs-1)}
	}
	o := collect.Options{Slot: p.Slot, AllowEmpty: p.AllowEmpty}
	switch p.SELLayout {
	case "", "ipmitool":
		o.SELLayout = sel.LayoutIpmitool
	case "ipmi":
		o.SELLayout = sel.LayoutIPMI
	default:
		return web.InfoPutResult{}, &web.FieldError{Field: "sel_layout", Msg: fmt.Sprintf("unknown layout %q: want ipmitool or ipmi", p.SELLayout)}
	}
	if err := b.refuseIfChipGone(); err != nil {
		return web.InfoPutResult{}, err
	}
	// An empty input is refused before the engine is asked for anything.
	err = collect.CheckEmpty(t, p.Data, o)
	res := InfoPut{}
	if err == nil {
		res, err = b.d.PutInfo(t, p.Data, o)
	}
	if errors.Is(err, collect.ErrEmpty) && t == info.EventLog {
		return web.InfoPutResult{}, fmt.Errorf("%w: %w (\"allow_empty\": true clears the event log on purpose)", web.ErrInvalid, err)
	}
	if errors.Is(err, collect.ErrInput) {
		return web.InfoPutResult{}, fmt.Errorf("%w: %w", web.ErrInvalid, err)
	}
	if err != nil {
		return web.InfoPutResult{}, err
	}
	return web.InfoPutResult{Type: t.String(), Slot: p.Slot, Changed: res.Changed, Seq: res.Seq, Size: res.Size}, nil
}

// simBackend is the backend of a daemon on simulated chips: it can also
// simulate an image upgrade.
type simBackend struct{ backend }

// SimulateUpgrade writes a new image version and runs the round that
// notices it, and records it; that the upgrade then waits for a choice is
// no error.
func (b simBackend) SimulateUpgrade(ctx context.Context) error {
	if err := b.refuseIfChipGone(); err != nil {
		return err
	}
	if err := b.d.budget.take(); err != nil {
		return err
	}
	if err := b.d.SimulateUpgrade(); err != nil {
		return err
	}
	rep, err := b.d.SyncNow(ctx)
	b.d.record(webRound(rep, err))
	if err != nil && !errors.Is(err, engine.ErrUpgradePending) {
		return err
	}
	return nil
}

// refuseIfChipGone refuses a request that writes while a chip's image
// file or device node is gone (Daemon.refuseIfChipGone): 409, naming the
// file, before any wear budget is spent.
func (b backend) refuseIfChipGone() error {
	if err := b.d.refuseIfChipGone(); err != nil {
		return fmt.Errorf("%w: %w", web.ErrConflict, err)
	}
	return nil
}

// webRound maps a round's report; a round that ended in err without a
// report of its own gets err's text and the error outcome.
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
