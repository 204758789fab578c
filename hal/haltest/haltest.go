package haltest

import (
	"bytes"
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/cmcsync/cmcsync/hal"
)

// MinBlocks is the smallest device the suite accepts, in erase blocks.
const MinBlocks = 4

// Status is the outcome of one check.
type Status uint8

const (
	// Passed: the device met the check.
	Passed Status = iota + 1
	// Failed: the device broke the contract; Result.Err says how.
	Failed
	// NotApplicable: the check does not apply to this device (a NAND rule on
	// NOR, statistics on a device without them) or to this mode (a
	// permanent change under Check); Result.Reason says why.
	NotApplicable
)

// String returns "pass", "FAIL" or "n/a".
func (s Status) String() string {
	switch s {
	case Passed:
		return "pass"
	case Failed:
		return "FAIL"
	case NotApplicable:
		return "n/a"
	}
	return fmt.Sprintf("status(%d)", uint8(s))
}

// Result is the outcome of one check.
type Result struct {
	Name    string // e.g. "erase-to-ff"
	Summary string // what the check states, one line
	Status  Status
	Err     error  // why it failed (Failed only)
	Reason  string // why it did not apply (NotApplicable only)
}

// Report is the outcome of a [Check] run.
type Report struct {
	Device  hal.Geometry
	Results []Result // in the order of [Checks]
}

// Passed returns the number of checks that passed.
func (r Report) Passed() int { return r.count(Passed) }

// Ran returns the number of checks that ran (passed or failed).
func (r Report) Ran() int { return r.count(Passed) + r.count(Failed) }

// Failed returns the checks that failed.
func (r Report) Failed() []Result {
	var out []Result
	for _, res := range r.Results {
		if res.Status == Failed {
			out = append(out, res)
		}
	}
	return out
}

func (r Report) count(s Status) int {
	n := 0
	for _, res := range r.Results {
		if res.Status == s {
			n++
		}
	}
	return n
}

// Info names and describes a check.
type Info struct {
	Name    string
	Summary string
	// RunOnly checks make permanent changes (mark a block bad, close the
	// device); [Check] reports them as not applicable.
	RunOnly bool
}

// Checks lists the checks in the order they run.
func Checks() []Info {
	out := make([]Info, len(checks))
	for i, c := range checks {
		out[i] = Info{Name: c.name, Summary: c.summary, RunOnly: c.runOnly}
	}
	return out
}

// Check runs every check on f, one after the other, and returns the report
// and, if a check failed, an error naming the failed checks. It destroys the
// contents of the blocks it uses and makes no permanent change (see
// [Info.RunOnly]). A device smaller than [MinBlocks] erase blocks or with an
// invalid geometry fails at once.
func Check(f hal.Flash) (Report, error) { return CheckNamed(f) }

// CheckNamed is [Check] restricted to the named checks (all when none are
// named). An unknown name is an error listing the known ones.
func CheckNamed(f hal.Flash, names ...string) (Report, error) {
	g := f.Geometry()
	rep := Report{Device: g}
	for _, n := range names {
		if !slices.ContainsFunc(checks, func(c check) bool { return c.name == n }) {
			return rep, fmt.Errorf("unknown check %q (known: %s)", n, strings.Join(checkNames(), ", "))
		}
	}
	if err := usable(g); err != nil {
		return rep, err
	}
	for _, c := range checks {
		if len(names) > 0 && !slices.Contains(names, c.name) {
			continue
		}
		res := Result{Name: c.name, Summary: c.summary}
		if c.runOnly {
			res.Status, res.Reason = NotApplicable, "makes a permanent change; runs only in tests (haltest.Run)"
		} else {
			res.Status, res.Err, res.Reason = runOne(c, f)
		}
		rep.Results = append(rep.Results, res)
	}
	if failed := rep.Failed(); len(failed) > 0 {
		errs := make([]error, len(failed))
		for i, r := range failed {
			errs[i] = fmt.Errorf("check %s: %w", r.Name, r.Err)
		}
		return rep, fmt.Errorf("%d of %d checks failed on %s: %w", len(failed), rep.Ran(), g.Name, errors.Join(errs...))
	}
	return rep, nil
}

// Run runs every check as a subtest of t, each on a fresh device from
// newFlash. newFlash should register the device's cleanup with t.Cleanup;
// the cleanup must tolerate a device that a check already closed (a second
// Close should not be an error, as for the simulator and hal/mtd).
func Run(t *testing.T, newFlash func(t *testing.T) hal.Flash) {
	t.Helper()
	for _, c := range checks {
		t.Run(c.name, func(t *testing.T) {
			f := newFlash(t)
			if err := usable(f.Geometry()); err != nil {
				t.Fatal(err)
			}
			status, err, reason := runOne(c, f)
			switch status {
			case NotApplicable:
				t.Skip("not applicable: " + reason)
			case Failed:
				t.Fatalf("%s: %v\n(%s)\nreplay: go test -run '^%s$'", c.name, err, c.summary,
					strings.ReplaceAll(t.Name(), "/", "$/^"))
			}
		})
	}
}

func checkNames() []string {
	out := make([]string, len(checks))
	for i, c := range checks {
		out[i] = c.name
	}
	return out
}

func usable(g hal.Geometry) error {
	if err := g.Validate(); err != nil {
		return fmt.Errorf("invalid geometry: %w", err)
	}
	if g.Blocks() < MinBlocks {
		return fmt.Errorf("device %s has %d erase blocks; the conformance checks need at least %d", g.Name, g.Blocks(), MinBlocks)
	}
	return nil
}

// notApplicable is returned by a check that does not apply.
type notApplicable string

func (n notApplicable) Error() string { return string(n) }

// runOne runs c on f, turning a panic into a failure.
func runOne(c check, f hal.Flash) (status Status, err error, reason string) {
	defer func() {
		if p := recover(); p != nil {
			status, err = Failed, fmt.Errorf("panic: %v", p)
		}
	}()
	h := fnv.New64a()
	io.WriteString(h, c.name)
	seed := h.Sum64()
	d := &dut{f: f, g: f.Geometry(), rng: rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))}
	err = c.run(d)
	var na notApplicable
	switch {
	case err == nil:
		return Passed, nil, ""
	case errors.As(err, &na):
		return NotApplicable, nil, string(na)
	}
	return Failed, err, ""
}

// dut is the device under test with the helpers the checks share.
type dut struct {
	f   hal.Flash
	g   hal.Geometry
	rng *rand.Rand
}

func (d *dut) random(n int64) []byte {
	p := make([]byte, n)
	for i := range p {
		p[i] = byte(d.rng.Uint32())
	}
	return p
}

func (d *dut) block(b int64) int64 { return b * d.g.EraseSize }

// goodRun returns the first block of count consecutive good blocks, looking
// from block near outwards.
func (d *dut) goodRun(near, count int64) (int64, error) {
	last := d.g.Blocks() - count
	near = max(0, min(near, last))
	for dist := int64(0); dist <= last; dist++ {
		for i, b := range []int64{near + dist, near - dist} {
			if b < 0 || b > last || (dist == 0 && i == 1) {
				continue
			}
			ok, err := d.allGood(b, count)
			if err != nil {
				return 0, err
			}
			if ok {
				return b, nil
			}
		}
	}
	return 0, fmt.Errorf("no %d consecutive good erase blocks on the device", count)
}

func (d *dut) allGood(b, count int64) (bool, error) {
	for i := b; i < b+count; i++ {
		bad, err := hal.IsBad(d.f, d.block(i))
		if err != nil {
			return false, fmt.Errorf("IsBad(block %d): %w", i, err)
		}
		if bad {
			return false, nil
		}
	}
	return true, nil
}

// spots returns count-block runs of good blocks at the start, middle and end.
func (d *dut) spots(count int64) ([]int64, error) {
	var out []int64
	for _, near := range []int64{0, d.g.Blocks() / 2, d.g.Blocks() - count} {
		b, err := d.goodRun(near, count)
		if err != nil {
			return nil, err
		}
		if !slices.Contains(out, b) {
			out = append(out, b)
		}
	}
	return out, nil
}

func (d *dut) erase(off, n int64) error {
	if err := d.f.Erase(off, n); err != nil {
		return fmt.Errorf("Erase(%#x, %#x): %w", off, n, err)
	}
	return nil
}

func (d *dut) program(p []byte, off int64) error {
	n, err := d.f.WriteAt(p, off)
	if err != nil {
		return fmt.Errorf("WriteAt(%d bytes, %#x): %w", len(p), off, err)
	}
	if n != len(p) {
		return fmt.Errorf("WriteAt(%d bytes, %#x) = %d without an error", len(p), off, n)
	}
	return nil
}

func (d *dut) read(off, n int64) ([]byte, error) {
	p := make([]byte, n)
	got, err := d.f.ReadAt(p, off)
	if err != nil {
		return nil, fmt.Errorf("ReadAt(%d bytes, %#x): %w", n, off, err)
	}
	if got != len(p) {
		return nil, fmt.Errorf("ReadAt(%d bytes, %#x) = %d without an error", n, off, got)
	}
	return p, nil
}

// expect reads len(want) bytes at off and compares.
func (d *dut) expect(off int64, want []byte, what string) error {
	got, err := d.read(off, int64(len(want)))
	if err != nil {
		return err
	}
	if i := firstDiff(got, want); i >= 0 {
		return fmt.Errorf("%s: byte at %#x is %#02x, want %#02x (%d of %d bytes differ)", what, off+int64(i), got[i], want[i], countDiff(got, want), len(want))
	}
	return nil
}

func (d *dut) expectErased(off, n int64, what string) error {
	return d.expect(off, bytes.Repeat([]byte{0xFF}, int(n)), what)
}

// prepare erases count blocks at b and programs them with random data in
// one WriteAt, returning the data.
func (d *dut) prepare(b, count int64) ([]byte, error) {
	off, n := d.block(b), count*d.g.EraseSize
	if err := d.erase(off, n); err != nil {
		return nil, err
	}
	data := d.random(n)
	if err := d.program(data, off); err != nil {
		return nil, err
	}
	return data, nil
}

func firstDiff(a, b []byte) int {
	for i := range min(len(a), len(b)) {
		if a[i] != b[i] {
			return i
		}
	}
	if len(a) != len(b) {
		return min(len(a), len(b))
	}
	return -1
}

func countDiff(a, b []byte) int {
	n := 0
	for i := range min(len(a), len(b)) {
		if a[i] != b[i] {
			n++
		}
	}
	return n
}

// rejected checks that err is an *hal.OpError for op wrapping want.
func rejected(err error, op string, want error, call string) error {
	if err == nil {
		return fmt.Errorf("%s succeeded, want an error wrapping %q", call, want)
	}
	if !errors.Is(err, want) {
		return fmt.Errorf("%s: error %q does not wrap %q", call, err, want)
	}
	var oe *hal.OpError
	if !errors.As(err, &oe) {
		return fmt.Errorf("%s: error %q (%T) is not an *hal.OpError", call, err, err)
	}
	if op != "" && oe.Op != op {
		return fmt.Errorf("%s: OpError.Op is %q, want %q", call, oe.Op, op)
	}
	return nil
}
