package engine

import (
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/cmcsync/cmcsync/hal"
	"github.com/cmcsync/cmcsync/sync/info"
	"github.com/cmcsync/cmcsync/sync/store"
)

// DefaultImageVersion is the firmware image version Format writes when
// Options.ImageVersion is empty.
const DefaultImageVersion = "1.0.0"

// Options configure Format and Open.
type Options struct {
	Clock  hal.Clock // required: the time source (a sim.Clock for virtual time)
	Layout Layout    // same on both chips; zero: DefaultLayout(chip A's geometry, 0)
	Config Config    // the configuration written by Format (Open reads the stored one)
	Mutant Mutant    // None: the real engine; set only by the fault harness (see Mutant)
	// Wall, if set, is the time source of the dates the engine records and
	// schedules by, while Clock measures its durations and waits (see
	// wall.go): a command that runs simulated chips in real time sets it
	// to time.Now. nil: Clock.Now.
	Wall func() time.Time
	// Logf, if set, receives every event as a line.
	Logf func(format string, args ...any)
	// Image is where the identity of the image each chip runs comes from
	// (upgrade detection, see ImageIdentity). nil: HeaderIdentity when the
	// layout has an image area (Layout.ImageSize > 0), else
	// NoImageIdentity. Only with HeaderIdentity does the health probe read
	// an image header; otherwise it reads the information region's header.
	Image ImageIdentity
	// ImageVersion is the firmware version Format writes on both chips
	// (default DefaultImageVersion).
	ImageVersion string
	// ProbeEvery is the least clock time between primary probes during a
	// round's writes (default 20 ms); ProbeRetry the pause between probes
	// while waiting for the primary to answer (default 5 ms).
	ProbeEvery, ProbeRetry time.Duration
	// PrimaryLock, if set, is held while a round runs (Round, Upgrade,
	// Prepare, Apply and the rounds Run starts): CMC services that can
	// hold their writes to the information region while a round reads it
	// share it with the engine (the simulated CMC of cmcsync serve does).
	// Without it, a record rewritten while it is read is read again, and
	// one still inconsistent is a primary anomaly. It is taken after the
	// engine's own lock, so its holders must not call the engine's round
	// methods.
	PrimaryLock sync.Locker
	// OnRound, if set, is called after each round Run starts (the
	// scheduled ones, not the rounds Round or Upgrade run when called
	// directly) with its report and error, from Run's goroutine, with no
	// engine lock held.
	OnRound func(RoundReport, error)
	// IdleErase: after each round Run starts, erase free blocks of the
	// backup's store ahead of need until the next round is due
	// (IdleEraseStep), so rounds wait for fewer erases.
	IdleErase bool
	// NoDeltas: rounds write every changed chunk whole, never as delta
	// records (store.Options.NoDeltas): for comparisons, and for test
	// fixtures whose journals must hold whole-chunk rounds.
	NoDeltas bool
	// ReadOnly: Open programs and erases nothing on either chip, for a
	// command that only reads (config get, info get). The stores are
	// opened read-only (no superblock repair, no journal record
	// stabilized), and the repairs Open would make (purging an interrupted
	// round, finishing a failover's restore or a restore-defaults) are
	// noted (Pending) instead; the answers come from the committed
	// generation. Every method that writes fails with ErrReadOnly.
	ReadOnly bool

	// failbackRoleFirst (tests only) writes Failback's role record before
	// chip A's information region: the wrong order, which the failback
	// power-cut test must catch.
	failbackRoleFirst bool

	// Digests, if set, memoises chunk digests by the chunks' exact bytes
	// (store.DigestMemo, store.Options.Digests), shared by the engines a
	// fault harness opens on nearly the same contents; set only by the
	// harness, like Mutant. Every check stays as it is.
	Digests *store.DigestMemo
}

// fill sets the defaults of the fields left zero (the layout from chip
// A's geometry g) and reports a missing clock.
func (o *Options) fill(g hal.Geometry) error {
	if o.Clock == nil {
		return errors.New("engine options: Clock is required (hal.SystemClock{} or a sim clock)")
	}
	if o.Layout == (Layout{}) {
		l, err := DefaultLayout(g, 0)
		if err != nil {
			return err
		}
		o.Layout = l
	}
	if o.Image == nil {
		if o.Layout.ImageSize > 0 {
			o.Image = HeaderIdentity{}
		} else {
			o.Image = NoImageIdentity{}
		}
	}
	if _, ok := o.Image.(HeaderIdentity); ok && o.Layout.ImageSize < info.ImageHeaderSize {
		return fmt.Errorf("engine options: the CMCFWIMG image identity needs an image area at offset 0 in the layout (this layout has none): choose another image identity source")
	}
	if o.ImageVersion == "" {
		o.ImageVersion = DefaultImageVersion
	}
	if o.ProbeEvery <= 0 {
		o.ProbeEvery = 20 * time.Millisecond
	}
	if o.ProbeRetry <= 0 {
		o.ProbeRetry = 5 * time.Millisecond
	}
	return nil
}

// storeOptions returns the store options of the mutant in use (none for
// the real engine).
func (o *Options) storeOptions() store.Options {
	so := store.Options{NoDeltas: o.NoDeltas, Digests: o.Digests, ReadOnly: o.ReadOnly}
	switch o.Mutant {
	case NoCRCCheck:
		so.TrustRecords = true
	case NoPurge:
		so.SkipPurgeErase = true
	case CommitBeforeDurable:
		so.EarlyCommit = true
	case DeltaBeforeDurable:
		so.LateDeltas = true
	}
	return so
}
