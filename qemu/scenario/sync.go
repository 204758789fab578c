package scenario

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/cmcsync/cmcsync/hal"
	"github.com/cmcsync/cmcsync/qemu/guest"
	"github.com/cmcsync/cmcsync/sync/info"
	"github.com/cmcsync/cmcsync/sync/store"
)

// guestCommand is the guest service's command line on the fuji-bmc
// chips: rounds rounds (0: until killed), each after activity of CMC
// activity seeded with seed, on the scenario's engine variant.
func (e *env) guestCommand(rounds int, seed uint64, activity time.Duration) guest.Command {
	return guest.Command{Primary: guest.DefaultPrimary, Backup: guest.DefaultBackup,
		Rounds: rounds, Seed: seed, Activity: activity, Mutant: e.o.Mutant}
}

// syncFigures are the engine's own figures from inside the guest.
type syncFigures struct {
	Generation      uint64  `json:"generation"`
	Outcome         string  `json:"outcome"`
	Types           string  `json:"types"`
	BytesRead       int64   `json:"bytes_read"`
	BytesWritten    int64   `json:"bytes_written"`
	Erases          int64   `json:"erases"`
	PagesProgrammed int64   `json:"pages_programmed"`
	ChangedChunks   int     `json:"changed_chunks"`
	EngineDuration  Seconds `json:"engine_duration_seconds"`
	GuestWall       Seconds `json:"guest_wall_seconds"`
	OpenWall        Seconds `json:"guest_open_wall_seconds"`
	Throughput      string  `json:"write_throughput"`
	Error           string  `json:"error,omitempty"`
}

// roundFigures are the figures of a guest round line (one with a Report).
func roundFigures(l guest.Line) syncFigures {
	r := l.Report
	return syncFigures{Generation: r.Generation, Outcome: r.Outcome, Types: info.FormatList(r.Types),
		BytesRead: r.BytesRead, BytesWritten: r.BytesWritten, Erases: r.Erases, PagesProgrammed: r.PagesProgrammed,
		ChangedChunks: r.ChangedChunks, EngineDuration: Seconds(r.Duration), GuestWall: Seconds(l.Elapsed()), Error: l.Error}
}

// runSync formats both images on the host and fills the primary's
// information region; the guest's engine then runs one round from flash0
// to flash1 through hal/mtd. The host decodes the images afterwards: the
// backup's committed generation must hold exactly the primary's records,
// every chunk must match its digest, nothing may be left interrupted, and
// the primary's image and information must be untouched.
func runSync(ctx context.Context, e *env) error {
	cfg := guestConfig()
	e.logf("preparing images in %s (format, populate the primary with seed %d)", e.dir, e.o.Seed)
	l, err := prepareImages(ctx, e, cfg, false)
	if err != nil {
		return err
	}
	before, err := readImages(e.primary, e.backup, l)
	if err != nil {
		return err
	}
	m, err := e.boot(ctx)
	if err != nil {
		return err
	}
	defer m.Kill()
	out, runErr := e.run(ctx, m, e.guestCommand(1, e.o.Seed, 0).String())
	if err := m.Reboot(rebootTimeout); err != nil {
		return err
	}
	lines, perr := guest.Parse(out)
	var fig syncFigures
	for _, gl := range lines {
		switch {
		case gl.Event == guest.EventOpen:
			fig.OpenWall = Seconds(gl.Elapsed())
		case gl.Event == guest.EventRound && gl.Report != nil:
			open := fig.OpenWall
			fig = roundFigures(gl)
			fig.OpenWall = open
			if gl.ElapsedSeconds > 0 {
				fig.Throughput = fmt.Sprintf("%.2f MB/s", float64(gl.Report.BytesWritten)/(gl.ElapsedSeconds*1e6))
			}
		}
	}
	e.rep.Guest, _ = json.Marshal(fig)
	if runErr != nil {
		return violationf("the engine in the guest failed: %v", runErr)
	}
	if perr != nil || fig.Outcome == "" {
		return violationf("no round report from the guest (parse: %v); output:\n%s", perr, tail(out, 2000))
	}
	e.logf("guest round: %s, generation %d, %s written, %d erases, %d pages, %v in the guest",
		fig.Outcome, fig.Generation, hal.FormatSize(fig.BytesWritten), fig.Erases, fig.PagesProgrammed, fig.GuestWall)
	after, err := readImages(e.primary, e.backup, l)
	if err != nil {
		return violationf("decoding the images after the sync: %v", err)
	}
	e.rep.check("committed", fig.Outcome == "committed" && after.Backup.Generation == before.Backup.Generation+1,
		"guest outcome %q; backup generation %d -> %d", fig.Outcome, before.Backup.Generation, after.Backup.Generation)
	diffs := compareSynced(after, cfg.Types)
	e.rep.check("backup-equals-primary", len(diffs) == 0, "%s", joinOr(diffs, fmt.Sprintf("all %d types: same sequence numbers and sha256 digests", len(cfg.Types))))
	e.rep.check("chunks-verify", len(after.ChunkErrors) == 0, "%d committed chunks fail their digests", len(after.ChunkErrors))
	e.rep.check("nothing-interrupted", after.Interrupted == nil, "%s", interruptedString(after.Interrupted))
	e.rep.check("primary-untouched", after.PrimaryPrefix == before.PrimaryPrefix && after.ImageErr == nil,
		"image+information sha256 %.12s… -> %.12s…; image CRC: %s", before.PrimaryPrefix, after.PrimaryPrefix, errString(after.ImageErr, "ok"))
	return nil
}

func joinOr(list []string, empty string) string {
	if len(list) == 0 {
		return empty
	}
	return strings.Join(list, "; ")
}

func interruptedString(in *store.Interrupted) string {
	if in == nil {
		return "no interrupted round on the backup"
	}
	return fmt.Sprintf("interrupted round of generation %d over %d blocks left unpurged", in.Generation, len(in.Blocks))
}
