package scenario

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/cmcsync/cmcsync/faults/campaign"
	"github.com/cmcsync/cmcsync/qemu/guest"
	"github.com/cmcsync/cmcsync/qemu/vm"
	"github.com/cmcsync/cmcsync/sync/engine"
)

// hostWorld runs the guest's replay code (guest.RunReplay) on the host,
// on the image files opened as simulated chips: the world the QEMU guest
// is, but for the kernel's MTD driver. The power goes at the cut line
// (RunReplay is stopped; the files hold what was written before).
type hostWorld struct {
	primary, backup string
	// skew, if set, shifts the round's virtual clock (a world whose clock
	// is not the simulator's); lose, if set, undoes the round's last
	// program of the backup after the cut (a write the world lost).
	skew time.Duration
	lose bool
}

// cutWatch is the guest's output: it keeps the lines and ends the phase
// at the cut line.
type cutWatch struct {
	mu     sync.Mutex
	buf    bytes.Buffer
	cancel context.CancelFunc
}

func (c *cutWatch) Write(p []byte) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if strings.Contains(string(p), `"event":"cut"`) {
		c.cancel()
	}
	return c.buf.Write(p)
}

func (hostWorld) imageSize() int64 { return vm.FlashImageSize }

func (h hostWorld) run(ctx context.Context, cmd guest.ReplayCommand) ([]guest.Line, error) {
	if cmd.Phase == guest.PhaseRound {
		cmd.Clock += int64(h.skew)
	}
	pf, err := openImage(h.primary, "flash0")
	if err != nil {
		return nil, err
	}
	bf, err := openImage(h.backup, "flash1")
	if err != nil {
		pf.Close()
		return nil, err
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	out := &cutWatch{cancel: cancel}
	rerr := guest.RunReplay(ctx, cmd, pf, bf, guest.NewWriter(out))
	if err := pf.Close(); err != nil {
		return nil, err
	}
	if err := bf.Close(); err != nil {
		return nil, err
	}
	if rerr != nil && ctx.Err() == nil {
		return nil, rerr
	}
	lines, err := guest.Parse(out.buf.String())
	if err != nil || !h.lose || cmd.Phase != guest.PhaseRound {
		return lines, err
	}
	// Erase the block of the backup's last program before the cut: its
	// bytes never reached the image.
	var programs []*guest.OpTrace
	for _, l := range lines {
		if l.Event == guest.EventOp && l.Op.Role == "backup" && l.Op.Kind == "program" {
			programs = append(programs, l.Op)
		}
		if l.Event != guest.EventCut {
			continue
		}
		for k := len(programs) - 1; k >= 0; k-- {
			if last := programs[k]; last.Index < l.Op.Index {
				img, err := os.ReadFile(h.backup)
				if err != nil {
					return nil, err
				}
				copy(img[last.Off:last.Off+last.Len], bytes.Repeat([]byte{0xFF}, int(last.Len)))
				return lines, os.WriteFile(h.backup, img, 0o644)
			}
		}
	}
	return lines, nil
}

// The guest's replay code, on simulated chips, does what the campaign
// does: the same operations with the same data at the same virtual times,
// the same chips after the cut and after the recovery, the same verdicts.
// With the no-purge mutant both worlds fail the same invariant.
func TestExactCutOnHostEqualsSimulator(t *testing.T) {
	ctx := context.Background()
	ps, err := campaign.WorldPoints(ctx, "standard", 1, engine.None)
	require.NoError(t, err)
	pick := campaign.SamplePoints(ps, 3)
	require.Equal(t, "commit", pick[len(pick)-1].Kind)
	var cases []campaign.Case
	for _, p := range pick {
		cases = append(cases, p.Case)
	}
	// The commit: a cut there leaves the round's intent to purge.
	np := pick[len(pick)-1].Case
	np.Mutant = engine.NoPurge
	cases = append(cases, np)
	dir := t.TempDir()
	w := hostWorld{primary: filepath.Join(dir, "primary.img"), backup: filepath.Join(dir, "backup.img")}
	for _, c := range cases {
		t.Run(c.String(), func(t *testing.T) {
			x, err := exactCut(ctx, w, w.primary, w.backup, c)
			require.NoError(t, err)
			t.Log(x.Line())
			require.True(t, x.TraceSame, "%v", x.Differences)
			require.Empty(t, x.Differences)
			require.Equal(t, x.SimFailed(), x.Failed())
			if c.Mutant == engine.None {
				require.Empty(t, x.Failed())
			} else {
				require.NotEmpty(t, x.Failed(), "the no-purge mutant passes a cut at %d", x.KilledAt)
			}
		})
	}
}

// The comparison fails on a world that is not the simulator: a virtual
// clock a millisecond off changes the operations' times (and the engine's
// choices), a write lost at the kill changes the chips after the cut.
func TestExactCutSeesAWorldThatDiffers(t *testing.T) {
	ctx := context.Background()
	// The round's last cut point (its commit): every write is behind it.
	ps, err := campaign.WorldPoints(ctx, "standard", 1, engine.None)
	require.NoError(t, err)
	c := ps[len(ps)-1].Case
	dir := t.TempDir()
	p, b := filepath.Join(dir, "primary.img"), filepath.Join(dir, "backup.img")
	tests := []struct {
		name  string
		world hostWorld
		want  string
	}{
		{"clock off by 1ms", hostWorld{primary: p, backup: b, skew: time.Millisecond}, "round operation 0"},
		{"last write lost", hostWorld{primary: p, backup: b, lose: true}, "after the cut, chip 1 block"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			x, err := exactCut(ctx, tt.world, p, b, c)
			require.NoError(t, err)
			t.Log(x.Line())
			require.NotEmpty(t, x.Differences)
			require.Contains(t, strings.Join(x.Differences, "\n"), tt.want)
		})
	}
}
