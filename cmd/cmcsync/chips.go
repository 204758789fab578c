package main

import (
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/cmcsync/cmcsync/config"
	"github.com/cmcsync/cmcsync/hal"
	"github.com/cmcsync/cmcsync/hal/mtd"
	"github.com/cmcsync/cmcsync/internal/chipstate"
	"github.com/cmcsync/cmcsync/internal/devlock"
	"github.com/cmcsync/cmcsync/internal/flashspec"
	"github.com/cmcsync/cmcsync/sim"
)

// chipFlags are the flags of the commands that open a pair of chips: the
// configuration file and the places of the information region and the
// store (the chips themselves are --primary and --backup).
type chipFlags struct {
	config                                 *string
	infoOff, infoSize, storeOff, storeSize *string
	info, store, imageID                   *string

	// file is the configuration file load applied (nil: none) and
	// cmdline the flags the command line set, for origin.
	file    *config.File
	cmdline map[string]bool
}

func addChipFlags(fs *flag.FlagSet) *chipFlags {
	return &chipFlags{
		config:    fs.String("config", "", "configuration `FILE` (docs/CONFIG.md); flags given override it"),
		infoOff:   fs.String("info-offset", "", "offset of the information region on each chip, e.g. 1M or 0x100000 (default: after the firmware image area)"),
		infoSize:  fs.String("info-size", "", "information region size, e.g. 8M (default: the size its header records, else a quarter of the chip, at most 8MiB and at most what the store in the rest can hold)"),
		storeOff:  fs.String("store-offset", "", "offset of the backup store on each chip (default: right after the information region)"),
		storeSize: fs.String("store-size", "", "size of the backup store (default: to the end of the chip)"),
		info:      fs.String("info", "", "real chips: the information region's `PLACE`, a partition name of the chip (the chip given as an MTD device covering it whole) or OFF+SIZE; with --store, instead of the offsets (default: cmcsync's own layout, its image at offset 0)"),
		store:     fs.String("store", "", "real chips: the store's `PLACE`, as --info"),
		imageID:   fs.String("image-id", "", "where the image identity for upgrade detection comes from: "+chipstate.IdentityUsage),
	}
}

// load applies the configuration file, if one is given, to the flags the
// command line left unset.
func (c *chipFlags) load(fs *flag.FlagSet) error {
	if *c.config == "" {
		return nil
	}
	f, err := config.Load(*c.config)
	if err != nil {
		return fmt.Errorf("%s: %w", fs.Name(), err)
	}
	c.cmdline = map[string]bool{}
	fs.Visit(func(fl *flag.Flag) { c.cmdline[fl.Name] = true })
	c.file = f
	return f.Apply(fs)
}

// origin names where the value of flag came from, for an error about it:
// "--flag" when the command line set it (or nothing did: its default),
// else the configuration file's key and place, "key (FILE:LINE)".
func (c *chipFlags) origin(flagName string) string {
	if c.file == nil || c.cmdline[flagName] {
		return "--" + flagName
	}
	s, ok := c.file.Lookup(flagName)
	if !ok {
		return "--" + flagName
	}
	return fmt.Sprintf("%s (%s:%d)", s.Key, c.file.Name, s.Line)
}

// originWith names where the value of flag came from with the value
// (already formatted) v: "--flag v", or "key v (FILE:LINE)" for a value
// from the configuration file.
func (c *chipFlags) originWith(flagName, v string) string {
	o := c.origin(flagName)
	if key, place, ok := strings.Cut(o, " ("); ok {
		return key + " " + v + " (" + place
	}
	return o + " " + v
}

// originsOf names where each of the flags that are set (to a value other
// than "") came from, comma-separated, in the order given; "" when none
// is.
func (c *chipFlags) originsOf(flags []namedFlag) string {
	var out []string
	for _, f := range flags {
		if *f.val != "" {
			out = append(out, c.origin(f.name))
		}
	}
	return strings.Join(out, ", ")
}

// namedFlag is a string flag's value with its name.
type namedFlag struct {
	name string
	val  *string
}

// places parses the layout flags (docs/LAYOUT.md, Places): offsets and
// sizes, or --info and --store, and the image identity; chipstate.PairLayout
// resolves them on the chips.
func (c *chipFlags) places(cmd string) (chipstate.Places, error) {
	p := chipstate.Places{Info: *c.info, Store: *c.store, Image: *c.imageID}
	for _, f := range []struct {
		name string
		val  *string
		dst  *int64
	}{{"info-offset", c.infoOff, &p.InfoOff}, {"info-size", c.infoSize, &p.InfoSize}, {"store-offset", c.storeOff, &p.StoreOff}, {"store-size", c.storeSize, &p.StoreSize}} {
		if *f.val == "" {
			continue
		}
		v, err := config.ParseSize(*f.val)
		if err != nil {
			return p, usageError("%s: %s: %v", cmd, c.origin(f.name), err)
		}
		*f.dst = v
	}
	if err := p.Check(); err != nil {
		return p, usageError("%s: %s: %v", cmd, c.originsOf(c.placeFlags()), err)
	}
	// An identity source of an unknown kind, or whose OFF+SIZE does not
	// parse, is bad input found before any chip or file is touched; a
	// partition name is looked up on the chips later (a stand-in
	// partition of that name passes here).
	if p.Image != "" {
		_, place, _ := strings.Cut(p.Image, ":")
		if _, err := chipstate.Identity(p.Image, []chipstate.Partition{{Name: place, Size: 1}}); err != nil {
			return p, usageError("%s: %s: %v", cmd, c.origin("image-id"), err)
		}
	}
	return p, nil
}

// placeFlags are the flags of the places: offsets and sizes, the places
// by name, the image identity.
func (c *chipFlags) placeFlags() []namedFlag {
	return []namedFlag{{"info-offset", c.infoOff}, {"info-size", c.infoSize}, {"store-offset", c.storeOff}, {"store-size", c.storeSize},
		{"info", c.info}, {"store", c.store}, {"image-id", c.imageID}}
}

// flashFlag is the chip of a one-chip command (inspect, selftest,
// calibrate): its --flash spec, required (exit 2 when missing), parsed and
// resolved as resolveSpec does.
func flashFlag(cmd, spec string) (flashspec.Spec, error) {
	if spec == "" {
		return flashspec.Spec{}, usageError("%s: --flash is required (%s)", cmd, flashspec.Usage)
	}
	return resolveSpec(cmd, "flash", spec)
}

// resolveSpec parses a flash spec and resolves an MTD partition name to
// its device (through /proc/mtd).
func resolveSpec(cmd, flagName, s string) (flashspec.Spec, error) {
	return resolveSpecAs(cmd, "--"+flagName, s)
}

// resolveSpecAs is resolveSpec with the spec's origin named as origin
// (chipFlags.origin) in errors.
func resolveSpecAs(cmd, origin, s string) (flashspec.Spec, error) {
	sp, err := flashspec.Parse(s)
	if err != nil {
		return sp, usageError("%s: %s: %v", cmd, origin, err)
	}
	if sp, err = sp.Resolve(mtd.ProcMTD); err != nil {
		return sp, fmt.Errorf("%s: %s: %w", cmd, origin, err)
	}
	return sp, nil
}

// pair is two open chips, locked against other cmcsync processes.
type pair struct {
	specs [2]flashspec.Spec
	chips [2]hal.Flash
	// clock is the engine's Options.Clock: the chips' virtual clock when
	// both are simulated (a round lasts their datasheet time), else the
	// wall clock. The engine's Options.Wall is time.Now either way, so the
	// dates it records are the wall clock's (engine/wall.go).
	clock hal.Clock
	locks *devlock.Locks
	// created lists the files opening the chips created (newSimFiles):
	// simulated chips' image files that did not exist, and wear files.
	// Listed after the locks are taken, so no other cmcsync process
	// created them meanwhile.
	created []string
	// keepCreated, set by a command, keeps the files it created although
	// it fails: their chip holds what its error says is there.
	keepCreated bool
}

// Close closes both chips and releases the locks.
func (p *pair) Close() error {
	return p.closeDiscarding(nil)
}

// closeDiscarding closes both chips, removes the files named (image files
// this command created, see newSimFiles), and only then releases the
// locks, so that no other process sees them half gone.
func (p *pair) closeDiscarding(files []string) error {
	err := errors.Join(hal.Close(p.chips[0]), hal.Close(p.chips[1]), removeFiles(files))
	return errors.Join(err, p.locks.Unlock())
}

// removeFiles removes files (ones a command created; one already gone is
// no error).
func removeFiles(files []string) error {
	var err error
	for _, f := range files {
		if rerr := os.Remove(f); rerr != nil && !errors.Is(rerr, os.ErrNotExist) {
			err = errors.Join(err, rerr)
		}
	}
	return err
}

// openPairTidy opens the pair as openPair does and returns it with its
// close: when the command fails (any error) the close also removes the
// files opening the chips created (pair.created; p.keepCreated keeps
// them), so that a failed command leaves no image or wear file behind and
// never removes one that was there. A removal after a failure of exit
// status 1 (the command may have printed that it formatted them) is said
// in the error. Use it as
//
//	p, closePair, err := openPairTidy(cmd, primary, backup)
//	...
//	defer func() { err = closePair(err) }()
//
// so that it sees the command's error.
func openPairTidy(cmd, primary, backup string) (*pair, func(error) error, error) {
	p, err := openPair(cmd, primary, backup)
	if err != nil {
		return nil, nil, err
	}
	return p, func(err error) error {
		var discard []string
		if err != nil && !p.keepCreated {
			discard = p.created
		}
		if cerr := p.closeDiscarding(discard); cerr != nil {
			return errors.Join(err, cerr)
		}
		if images := imageFiles(discard); len(images) > 0 && exitCode(err) == exitFailure {
			return &notedError{err: err, msg: fmt.Sprintf("%v (%s removed the image files it created: %s)", err, cmd, strings.Join(images, ", "))}
		}
		return err
	}, nil
}

// imageFiles is files without the wear files.
func imageFiles(files []string) []string {
	var out []string
	for _, f := range files {
		if !strings.HasSuffix(f, ".wear") {
			out = append(out, f)
		}
	}
	return out
}

// notedError is err with a note added to its message; it still wraps err
// (its exit status is err's).
type notedError struct {
	err error
	msg string
}

func (e *notedError) Error() string { return e.msg }
func (e *notedError) Unwrap() error { return e.err }

// openPair locks and opens two flash specs; sim chips share one virtual
// clock, which is then the engine's clock.
func openPair(cmd, a, b string) (*pair, error) {
	return openPairMode(cmd, a, b, false)
}

// openPairReadOnly locks and opens two flash specs as openPair does, for
// a command that only reads (config get, info get): each chip is opened
// read-only (flashspec.OpenReadOnly: an MTD device O_RDONLY, a sim image
// loaded and never created or written) behind a readOnlyChip, so that a
// write asked of it fails. The locks are those a writer takes (the
// devices, and the image files, which the simulator locks when it opens
// them for writing), so a chip a daemon holds is busy as before.
func openPairReadOnly(cmd, a, b string) (*pair, error) {
	return openPairMode(cmd, a, b, true)
}

func openPairMode(cmd, a, b string, readOnly bool) (*pair, error) {
	p := &pair{clock: hal.SystemClock{}}
	var err error
	if p.specs[0], err = resolveSpec(cmd, "primary", a); err != nil {
		return nil, err
	}
	if p.specs[1], err = resolveSpec(cmd, "backup", b); err != nil {
		return nil, err
	}
	if err := distinctChips(cmd, p.specs); err != nil {
		return nil, err
	}
	lock := lockChips
	if readOnly {
		lock = lockChipsReadOnly
	}
	if p.locks, err = lock(p.specs[0], p.specs[1]); err != nil {
		return nil, fmt.Errorf("%s: %w", cmd, err)
	}
	var made [2][]string // per chip, the files its open creates
	for i, c := range simImages(a, b) {
		if readOnly {
			break // a read-only open creates no file
		}
		made[i] = c.created()
		p.created = append(p.created, made[i]...)
	}
	sa, sb := &p.specs[0], &p.specs[1]
	var sc *sim.Clock
	if sa.Backend == flashspec.Sim || sb.Backend == flashspec.Sim {
		// Not truncated: a format takes its pair id from this clock, and two
		// pairs made within one second must not share one (a backup of the
		// other pair would then pass for this pair's).
		sc = sim.NewClock(time.Now().UTC())
		if sa.Backend == flashspec.Sim && sb.Backend == flashspec.Sim {
			p.clock = sc
		}
	}
	if sa.Name == "" && sa.Backend == flashspec.Sim {
		sa.Name = "primary"
	}
	if sb.Name == "" && sb.Backend == flashspec.Sim {
		sb.Name = "backup"
	}
	open := flashspec.Open
	if readOnly {
		open = openReadOnlyChip
	}
	// A chip that fails to open leaves none of the files opening the
	// other created, nor any its own open created; but a busy chip's files
	// are left alone: the process that holds it may have made them since.
	failed := func(i int, err error) error {
		err = fmt.Errorf("%s: %s: %w", cmd, [2]string{"primary", "backup"}[i], busyChip(err, p.specs))
		discard := slices.Concat(made[:i]...)
		if !errors.Is(err, devlock.ErrBusy) {
			discard = append(discard, made[i]...)
		}
		return errors.Join(err, p.closeDiscarding(discard))
	}
	if p.chips[0], err = open(*sa, sc); err != nil {
		return nil, failed(0, err)
	}
	if p.chips[1], err = open(*sb, sc); err != nil {
		return nil, failed(1, err)
	}
	return p, nil
}

// distinctChips refuses (exit 2) a pair whose two specs name one device or
// one image file: a backup on the primary's own chip is no backup (it
// failed as "device busy", exit 3, as if another process held it).
func distinctChips(cmd string, specs [2]flashspec.Spec) error {
	return distinctChipsAs(cmd, specs, "--primary", "--backup")
}

// distinctChipsAs is distinctChips with the specs' origins named
// (chipFlags.origin).
func distinctChipsAs(cmd string, specs [2]flashspec.Spec, primary, backup string) error {
	a, b := specs[0].Path(), specs[1].Path()
	if a == "" || b == "" {
		return nil
	}
	same := filepath.Clean(a) == filepath.Clean(b)
	if sa, err := os.Stat(a); err == nil {
		if sb, err := os.Stat(b); err == nil {
			same = same || os.SameFile(sa, sb)
		}
	}
	if same {
		return usageError("%s: %s and %s name the same chip (%s): a pair is two chips, give the backup its own device or image file", cmd, primary, backup, a)
	}
	return nil
}

// lockChips locks the chips' devices against other cmcsync processes: an
// MTD device, and the folder of a simulated chip's image file that does
// not exist yet (so two processes cannot both create it). An existing
// image file is locked by the simulator itself when it is opened (see
// busyChip).
func lockChips(specs ...flashspec.Spec) (*devlock.Locks, error) {
	return lockChipPaths(false, specs...)
}

// lockChipsReadOnly locks the chips as lockChips does, and the image
// files of simulated chips too: a read-only open does not go through the
// simulator's lock of the file (sim.OpenFileReadOnly takes none), and a
// file a daemon or another command holds is busy all the same.
func lockChipsReadOnly(specs ...flashspec.Spec) (*devlock.Locks, error) {
	return lockChipPaths(true, specs...)
}

// lockChipPaths locks each MTD device that exists and each simulated
// chip's image file: a missing one always, an existing one only when
// existing is set.
func lockChipPaths(existing bool, specs ...flashspec.Spec) (*devlock.Locks, error) {
	var paths []string
	for _, s := range specs {
		switch {
		case s.Backend == flashspec.MTD:
			// A device that is not there fails to open with its own
			// message (listing /proc/mtd); there is nothing to lock.
			if _, err := os.Stat(s.Device); err == nil {
				paths = append(paths, s.Device)
			}
		case s.File != "":
			if _, err := os.Stat(s.File); existing || errors.Is(err, os.ErrNotExist) {
				paths = append(paths, s.File)
			}
		}
	}
	return devlock.Lock(paths...)
}

// openReadOnlyChip opens the flash s names read-only behind a
// readOnlyChip.
func openReadOnlyChip(s flashspec.Spec, clock *sim.Clock) (hal.Flash, error) {
	f, err := flashspec.OpenReadOnly(s, clock)
	if err != nil {
		return nil, err
	}
	return readOnlyChip{f}, nil
}

// busyChip turns the simulator's "image in use" error (its flock failed)
// into a devlock.BusyError naming the process that holds the image.
func busyChip(err error, specs [2]flashspec.Spec) error {
	if !errors.Is(err, syscall.EWOULDBLOCK) {
		return err
	}
	for _, s := range specs {
		if s.File == "" {
			continue
		}
		if be := devlock.Busy(s.File); be.PID != 0 && be.PID != os.Getpid() {
			return be
		}
	}
	return fmt.Errorf("%w: %w", devlock.ErrBusy, err)
}
