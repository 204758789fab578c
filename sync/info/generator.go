package info

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"math"
	"math/rand/v2"
	"time"
)

// TypicalInterval is the sync interval the Generator's rates are defined
// for: in TypicalInterval of activity, Step changes about 1% of the
// region's payload bytes.
const TypicalInterval = 10 * time.Minute

// Ring append rates, per TypicalInterval, as a fraction of the ring's slots:
// power and fan telemetry 1%, node history 0.5%, SEL 0.8%, fault log 0.6%.
// On the standard 8 MiB region that is about 1,620 SEL entries, 200 fault
// entries, 675 power and 675 fan telemetry samples and 196 node samples per
// 10 minutes (a busy 16-node chassis). With rings 80% full this changes
// about 1% of the payload bytes per TypicalInterval.
var ringRate = [...]float64{Power: 0.010, Fan: 0.010, Node: 0.005, EventLog: 0.008, FaultLog: 0.006}

// Populated rings hold this fraction of their slots.
const populateFill = 0.8

// Other activity, as mean intervals between events.
const (
	nodeChangeEvery  = 20 * time.Minute    // a node power/health change, chassis-wide
	assetChangeEvery = 30 * 24 * time.Hour // a part replaced or an asset tag edited
)

// GeneratorEpoch is the generator's virtual time at creation.
var GeneratorEpoch = time.Date(2026, time.January, 1, 0, 0, 0, 0, time.UTC)

// Generator imitates a CMC's services writing the primary information
// region: the SEL and the fault log append entries (overwriting the oldest
// when their ring is full), PSU and fan readings and telemetry move often,
// node information sometimes, asset (FRU) information rarely. One seed
// drives every choice (math/rand/v2 PCG), so the same seed applied to the
// same region produces the same bytes. The generator keeps a virtual clock
// (Now) that Step advances; everything else it needs is read back from the
// region, so it can continue on a region another generator or
// Default contents left. A Generator is used by one goroutine at a time.
type Generator struct {
	seed  uint64
	rng   *rand.Rand
	now   time.Time
	carry [NumTypes + 1]float64 // fractional ring appends not yet made
}

// NewGenerator returns a generator seeded with seed, its clock at
// GeneratorEpoch.
func NewGenerator(seed uint64) *Generator {
	return &Generator{seed: seed, rng: rand.New(rand.NewPCG(seed, seed^0x5ca1ab1e0ddba11)), now: GeneratorEpoch}
}

// Seed returns the seed the generator was created with.
func (g *Generator) Seed() uint64 { return g.seed }

// Now returns the generator's virtual time: GeneratorEpoch plus every
// duration given to Step.
func (g *Generator) Now() time.Time { return g.now }

// slotsFor returns the ring slots t's payload has room for in capacity bytes.
func slotsFor(t Type, capacity int) uint32 {
	fixed, entry := layoutOf(t)
	if entry == 0 {
		return 0
	}
	n := (capacity - PayloadHeaderSize - fixed) / entry
	if n < 0 {
		return 0
	}
	return uint32(min(int64(n), math.MaxUint32))
}

// Populate fills every type with realistic contents: populated PSU, fan,
// node and FRU records, and each ring filled to 80% of the slots its extent
// holds, with entries time-stamped backwards from Now at the Step rates. It
// writes each type once through Region.Write.
func (g *Generator) Populate(r *Region) error {
	g.carry = [NumTypes + 1]float64{}
	for _, t := range All() {
		tb := newTable(t, slotsFor(t, r.Capacity(t)))
		g.populateFixed(tb)
		n := int(float64(tb.slots) * populateFill)
		if n > 0 {
			// spacing that matches the Step rate
			span := time.Duration(float64(TypicalInterval) * float64(n) / (ringRate[t] * float64(tb.slots)))
			start := g.now.Add(-span)
			tb.ring = make([]byte, 0, n*tb.entrySize)
			e := make([]byte, tb.entrySize)
			for i := 0; i < n; i++ {
				at := start.Add(time.Duration(float64(span) * float64(i+1) / float64(n)))
				g.entry(tb, at, e)
				tb.add(e)
			}
		}
		tb.updated = unix32(g.now)
		if err := r.Write(t, tb.encode()); err != nil {
			return fmt.Errorf("populate: %w", err)
		}
	}
	return nil
}

// Step applies d of CMC activity to the region and advances Now by d: for
// each ring, rate × slots × d/TypicalInterval entries appended (fractions
// carry over to the next Step), time-stamped across the interval; PSU and
// fan readings, the energy counter and fan hours updated; node state changes
// (about one per 20 minutes, chassis-wide) and asset changes (about one per
// 30 days) drawn at random. A type whose payload does not change is not
// written. d <= 0 does nothing. An unreadable record (ErrCorrupt) or a
// payload that is not in this package's table format stops Step with an
// error naming the type; types before it have been written.
func (g *Generator) Step(r *Region, d time.Duration) error {
	if d <= 0 {
		return nil
	}
	from := g.now
	g.now = g.now.Add(d)
	for _, t := range All() {
		rec, err := r.Read(t)
		if err != nil {
			return fmt.Errorf("step: %w", err)
		}
		tb, err := decodeTable(t, bytes.Clone(rec.Payload)) // tb is changed in place; rec stays what the chip holds
		if err != nil {
			return fmt.Errorf("step: %v record: %w", t, err)
		}
		tb = tb.resized(slotsFor(t, r.Capacity(t)))
		g.stepTable(tb, from, d)
		if err := r.writeOver(rec, tb.encode()); err != nil {
			return fmt.Errorf("step: %w", err)
		}
	}
	return nil
}

func (g *Generator) stepTable(tb *table, from time.Time, d time.Duration) {
	t := tb.typ
	changed := false
	if tb.entrySize > 0 && tb.slots > 0 {
		want := ringRate[t]*float64(tb.slots)*float64(d)/float64(TypicalInterval) + g.carry[t]
		n := math.Floor(want)
		g.carry[t] = want - n
		if n > float64(tb.slots) {
			n = float64(tb.slots)
		}
		e := make([]byte, tb.entrySize)
		for i := 0; i < int(n); i++ {
			at := from.Add(time.Duration(float64(d) * float64(i+1) / (n + 1)))
			g.entry(tb, at, e)
			tb.add(e)
			changed = true
		}
	}
	switch t {
	case Power, Fan:
		g.moveReadings(tb, d)
		changed = true
	case Node:
		for k := g.events(d, nodeChangeEvery); k > 0; k-- {
			g.nodeChange(tb)
			changed = true
		}
	case Asset:
		for k := g.events(d, assetChangeEvery); k > 0; k-- {
			i := g.rng.IntN(numFRUs)
			encodeFRU(tb.fixed[i*fruSize:(i+1)*fruSize], g.fru(i))
			changed = true
		}
	}
	if changed {
		tb.updated = unix32(g.now)
	}
}

// events returns how many events with the given mean spacing happen in d
// (Poisson, drawn by inversion; capped at 1000).
func (g *Generator) events(d, every time.Duration) int {
	lambda := float64(d) / float64(every)
	if lambda > 50 {
		return min(int(lambda+0.5), 1000)
	}
	u := g.rng.Float64()
	p := math.Exp(-lambda)
	k, cdf := 0, p
	for u > cdf && k < 1000 {
		k++
		p *= lambda / float64(k)
		cdf += p
	}
	return k
}

// resized returns tb with a ring of slots entries, keeping the newest
// entries in oldest-to-newest order when the ring shrinks or a full ring
// grows.
func (tb *table) resized(slots uint32) *table {
	if tb.entrySize == 0 || slots == tb.slots {
		return tb
	}
	ordered := tb.ring
	if tb.count == tb.slots && tb.next != 0 {
		cut := int(tb.next) * tb.entrySize
		ordered = append(append([]byte(nil), tb.ring[cut:]...), tb.ring[:cut]...)
	}
	count := tb.count
	if count > slots {
		ordered = ordered[int(count-slots)*tb.entrySize:]
		count = slots
	}
	nt := *tb
	nt.slots = slots
	nt.count = count
	nt.ring = append([]byte(nil), ordered...)
	nt.next = count
	if count == slots {
		nt.next = 0
	}
	return &nt
}

func unix32(t time.Time) uint32 { return uint32(t.Unix()) }

func putStr(b []byte, s string) {
	clear(b)
	copy(b, s)
}

var le = binary.LittleEndian

// populateFixed fills tb's fixed section with a populated chassis.
func (g *Generator) populateFixed(tb *table) {
	b := tb.fixed
	switch tb.typ {
	case Power:
		b[0], b[1], b[2] = 1, 1, numPSUs  // N+1, cap on
		le.PutUint16(b[4:], 9000)         // cap W
		le.PutUint16(b[6:], numPSUs*2400) // rated total
		le.PutUint32(b[8:], 100000+g.rng.Uint32N(500000))
		models := []string{"PWS-2K41A-1R", "DPS-2400AB-1", "PSU-2400W-TI"}
		model := models[g.rng.IntN(len(models))]
		for i := 0; i < numPSUs; i++ {
			r := b[powerPolicySize+i*psuRecordSize:][:psuRecordSize]
			r[0], r[1], r[2] = byte(i+1), 1, 1
			le.PutUint16(r[4:], 2400)
			putStr(r[16:36], model)
			putStr(r[36:52], fmt.Sprintf("P%02d%011d", i+1, g.rng.Uint64N(1e11)))
			putStr(r[52:60], "1.7.3")
		}
		if g.rng.IntN(4) == 0 { // one PSU failed earlier
			b[powerPolicySize+g.rng.IntN(numPSUs)*psuRecordSize+2] = 3
		}
		g.moveReadings(tb, time.Minute)
	case Fan:
		b[0], b[1], b[2], b[3], b[4] = 0, 0, 25, 27, numFans
		for i := 0; i < numFans; i++ {
			r := b[fanModeSize+i*fanRecordSize:][:fanRecordSize]
			r[0], r[1], r[2], r[3] = byte(i+1), 1, 1, byte(35+g.rng.IntN(20))
			le.PutUint16(r[8:], 16000)
			r[10] = byte(i/4 + 1)
			le.PutUint32(r[12:], 1000+g.rng.Uint32N(30000))
		}
		g.moveReadings(tb, time.Minute)
	case Node:
		bios := fmt.Sprintf("U%02d.%d.%02d", 30+g.rng.IntN(5), g.rng.IntN(4), g.rng.IntN(20))
		bmc := fmt.Sprintf("%d.%02d.%02d", 5+g.rng.IntN(2), g.rng.IntN(20), g.rng.IntN(40))
		for i := 0; i < numNodes; i++ {
			r := b[i*nodeRecordSize:][:nodeRecordSize]
			r[0] = byte(i + 1)
			if g.rng.IntN(8) == 0 {
				continue // empty slot
			}
			r[1], r[2], r[3] = 1, 1, 1 // present, on, ok
			le.PutUint16(r[4:], 650)
			le.PutUint32(r[8:], 10+g.rng.Uint32N(400))
			le.PutUint32(r[12:], unix32(g.now.Add(-time.Duration(g.rng.IntN(90*24))*time.Hour)))
			putStr(r[16:32], bios)
			putStr(r[32:48], bmc)
			putStr(r[48:80], fmt.Sprintf("node%02d.rack12.dc1", i+1))
			copy(r[80:84], []byte{10, 12, 0, byte(11 + i)})
			copy(r[84:90], []byte{0x3c, 0xec, 0xef, byte(g.rng.IntN(256)), byte(g.rng.IntN(256)), byte(i + 1)})
			le.PutUint32(r[92:], le.Uint32(r[12:]))
		}
	case EventLog:
		b[0] = 0x51
		le.PutUint16(b[2:], 1)
	case FaultLog:
		le.PutUint32(b[0:], 1)
	case Asset:
		for i := 0; i < numFRUs; i++ {
			encodeFRU(b[i*fruSize:(i+1)*fruSize], g.fru(i))
		}
	}
}

// fru returns populated FRU fields for FRU slot i: 0 chassis, 1..16 nodes,
// 17..22 PSUs.
func (g *Generator) fru(i int) fruInfo {
	serial := fmt.Sprintf("%c%c%010d", 'A'+g.rng.IntN(26), 'A'+g.rng.IntN(26), g.rng.Uint64N(1e10))
	mfg := uint32(g.now.Sub(time.Date(1996, 1, 1, 0, 0, 0, 0, time.UTC)).Minutes()) - g.rng.Uint32N(525600)
	fi := fruInfo{MfgMinutes: mfg & 0xFFFFFF, BoardSerial: serial, ProdSerial: serial, ProdVersion: "A0" + string(rune('0'+g.rng.IntN(4)))}
	switch {
	case i == 0:
		fi.BoardMfr, fi.BoardName, fi.BoardPart = "Acme Systems", "CMC-MB-16", "CMCMB-0016"
		fi.ProdMfr, fi.ProdName, fi.ProdModel = "Acme Systems", "Chassis 16N", "CH16N-4U"
		fi.AssetTag = fmt.Sprintf("DC1-R12-CH%02d", 1+g.rng.IntN(40))
	case i <= numNodes:
		fi.BoardMfr, fi.BoardName, fi.BoardPart = "Acme Systems", "Node MB X13", "X13DPT-B"
		fi.ProdMfr, fi.ProdName, fi.ProdModel = "Acme Systems", "Compute Node", "CN-2S-X13"
		fi.AssetTag = fmt.Sprintf("DC1-R12-N%02d", i)
	default:
		fi.BoardMfr, fi.BoardName, fi.BoardPart = "PowerCo", "PSU 2400W", "PWS-2K41A-1R"
		fi.ProdMfr, fi.ProdName, fi.ProdModel = "PowerCo", "PSU 2400W Ti", "PWS-2K41A"
		fi.AssetTag = fmt.Sprintf("PSU-%d", i-numNodes)
	}
	return fi
}

// moveReadings updates PSU or fan readings after d of operation.
func (g *Generator) moveReadings(tb *table, d time.Duration) {
	b := tb.fixed
	switch tb.typ {
	case Power:
		energy := le.Uint32(b[8:])
		var total int
		for i := 0; i < numPSUs; i++ {
			r := b[powerPolicySize+i*psuRecordSize:][:psuRecordSize]
			if r[1] == 0 || r[2] != 1 {
				le.PutUint16(r[6:], 0)
				le.PutUint16(r[8:], 0)
				continue
			}
			in := 900 + g.rng.IntN(700)
			le.PutUint16(r[6:], uint16(in))
			le.PutUint16(r[8:], uint16(in*94/100))
			le.PutUint16(r[10:], uint16(2280+g.rng.IntN(60)))
			r[12] = byte(30 + g.rng.IntN(15))
			r[13] = byte(30 + g.rng.IntN(40))
			total += in
		}
		energy += uint32(float64(total) * d.Hours() / 1000) // kWh
		le.PutUint32(b[8:], energy)
	case Fan:
		for i := 0; i < numFans; i++ {
			r := b[fanModeSize+i*fanRecordSize:][:fanRecordSize]
			if r[1] == 0 || r[2] != 1 {
				continue
			}
			pwm := int(r[3]) + g.rng.IntN(11) - 5
			pwm = max(int(b[2]), min(pwm, 100))
			r[3] = byte(pwm)
			target := 16000 * pwm / 100
			le.PutUint16(r[6:], uint16(target))
			le.PutUint16(r[4:], uint16(target-150+g.rng.IntN(300)))
			le.PutUint32(r[12:], le.Uint32(r[12:])+uint32(d.Hours()))
		}
	}
}

// nodeChange powers a node on or off, or changes its health, and logs the
// change in the node ring.
func (g *Generator) nodeChange(tb *table) {
	i := g.rng.IntN(numNodes)
	r := tb.fixed[i*nodeRecordSize:][:nodeRecordSize]
	if r[1] == 0 {
		return
	}
	old := r[2]
	switch g.rng.IntN(3) {
	case 0: // power off/on
		if r[2] == 1 {
			r[2] = 0
		} else {
			r[2] = 1
			le.PutUint32(r[8:], le.Uint32(r[8:])+1)
			le.PutUint32(r[12:], unix32(g.now))
		}
	case 1: // reboot
		r[2] = 1
		le.PutUint32(r[8:], le.Uint32(r[8:])+1)
		le.PutUint32(r[12:], unix32(g.now))
	default: // health
		r[3] = byte(1 + g.rng.IntN(3))
	}
	le.PutUint32(r[92:], unix32(g.now))
	if tb.slots > 0 {
		e := make([]byte, sampleSize)
		le.PutUint32(e[0:], unix32(g.now))
		e[4], e[5], e[6], e[7], e[13] = byte(i+1), 1, r[2], r[3], old
		e[12] = byte(g.rng.IntN(256))
		tb.add(e)
	}
}

// SEL sensor types and their share of events.
var selSensors = []struct {
	typ, num, evType byte
	weight           int
}{
	{0x01, 0x30, 0x01, 30}, // temperature, threshold
	{0x02, 0x40, 0x01, 10}, // voltage, threshold
	{0x04, 0x50, 0x01, 20}, // fan, threshold
	{0x08, 0x60, 0x6f, 10}, // power supply, sensor-specific
	{0x0c, 0x70, 0x6f, 12}, // memory (ECC)
	{0x07, 0x80, 0x6f, 5},  // processor
	{0x23, 0x90, 0x6f, 3},  // watchdog 2
	{0x12, 0xa0, 0x6f, 5},  // system event
	{0x1d, 0xb0, 0x6f, 5},  // system boot
}

var faultMessages = []string{
	"PSU%d input lost", "PSU%d output over current", "Fan %d below lower critical",
	"Node %d inlet temp over upper critical", "Node %d CPU1 IERR", "Node %d DIMM A%d uncorrectable ECC",
	"Node %d BMC not responding", "Node %d power fault", "Chassis intrusion", "Node %d PCIe bus error",
}

// entry fills e with the next ring entry of tb's type at time at, updating
// the fixed-section counters that go with it.
func (g *Generator) entry(tb *table, at time.Time, e []byte) {
	clear(e)
	ts := unix32(at)
	le.PutUint32(e[0:], ts)
	switch tb.typ {
	case Power:
		in := 5000 + g.rng.IntN(3000)
		le.PutUint16(e[4:], uint16(in))
		le.PutUint16(e[6:], uint16(in*94/100))
		le.PutUint16(e[8:], le.Uint16(tb.fixed[4:]))
		e[10], e[11] = 0x3f, numPSUs
		le.PutUint16(e[12:], uint16(in+g.rng.IntN(400)))
		le.PutUint16(e[14:], uint16(in-g.rng.IntN(400)))
	case Fan:
		f := g.rng.IntN(numFans)
		pwm := 30 + g.rng.IntN(50)
		e[4], e[5] = byte(f+1), byte(pwm)
		le.PutUint16(e[6:], uint16(16000*pwm/100-150+g.rng.IntN(300)))
		e[8], e[9], e[10], e[11] = byte(22+g.rng.IntN(6)), byte(35+g.rng.IntN(15)), byte(f/4+1), 1
		le.PutUint16(e[12:], uint16(16000*pwm/100))
	case Node:
		n := g.rng.IntN(numNodes)
		r := tb.fixed[n*nodeRecordSize:][:nodeRecordSize]
		e[4], e[5], e[6], e[7] = byte(n+1), 0, r[2], r[3]
		if r[2] == 1 {
			le.PutUint16(e[8:], uint16(250+g.rng.IntN(400)))
			e[10] = byte(45 + g.rng.IntN(40))
		}
		e[11] = byte(20 + g.rng.IntN(8))
	case EventLog:
		// IPMI SEL record: ID, type 0x02, timestamp, generator, EvM rev, sensor type,
		// sensor number, event dir/type, event data 1-3.
		info := tb.fixed
		id := le.Uint16(info[2:])
		if id == 0 || id == 0xFFFF {
			id = 1
		}
		le.PutUint16(e[0:], id)
		e[2] = 0x02
		le.PutUint32(e[3:], ts)
		node := g.rng.IntN(numNodes)
		le.PutUint16(e[7:], uint16(0x20+2*node))
		e[9] = 0x04
		w := g.rng.IntN(100)
		s := selSensors[len(selSensors)-1]
		for _, c := range selSensors {
			if w < c.weight {
				s = c
				break
			}
			w -= c.weight
		}
		e[10], e[11] = s.typ, s.num+byte(g.rng.IntN(8))
		e[12] = s.evType
		if g.rng.IntN(3) == 0 {
			e[12] |= 0x80 // deassertion
		}
		if s.evType == 0x01 {
			e[13] = 0x50 | byte(g.rng.IntN(6)) // threshold offset, trigger reading in byte 2
			e[14] = byte(g.rng.IntN(256))
			e[15] = byte(g.rng.IntN(256))
		} else {
			e[13] = 0xa0 | byte(g.rng.IntN(8))
			e[14] = 0xff
			e[15] = byte(g.rng.IntN(16))
		}
		next := id + 1
		if next == 0xFFFF {
			next = 1
		}
		le.PutUint16(info[2:], next)
		le.PutUint32(info[4:], ts)
		le.PutUint32(info[12:], le.Uint32(info[12:])+1)
		if tb.count == tb.slots && tb.slots > 0 {
			info[1] = 1 // overflow: the oldest entries are being overwritten
		}
	case FaultLog:
		info := tb.fixed
		id := le.Uint32(info[0:])
		le.PutUint32(e[4:], id)
		le.PutUint32(info[0:], id+1)
		node := g.rng.IntN(numNodes) + 1
		sev := byte(1 + g.rng.IntN(3))
		state := byte(1 + g.rng.IntN(2)) // asserted, cleared
		m := g.rng.IntN(len(faultMessages))
		e[8], e[9], e[10], e[11] = byte(node), sev, byte(m+1), state
		le.PutUint32(e[12:], uint32(0x0A00+m)<<8|uint32(sev))
		msg := faultMessages[m]
		switch m {
		case 0, 1:
			msg = fmt.Sprintf(msg, 1+g.rng.IntN(numPSUs))
		case 2:
			msg = fmt.Sprintf(msg, 1+g.rng.IntN(numFans))
		case 5:
			msg = fmt.Sprintf(msg, node, 1+g.rng.IntN(8))
		case 8:
		default:
			msg = fmt.Sprintf(msg, node)
		}
		if state == 2 {
			msg += " cleared"
		}
		putStr(e[20:64], msg)
		active := le.Uint32(info[4:])
		if state == 1 {
			active++
		} else if active > 0 {
			active--
		}
		le.PutUint32(info[4:], active)
		le.PutUint32(info[8:], ts)
	}
}

// Mutate applies a synthetic change set for benchmarks: it changes
// round(fraction × total payload bytes) bytes of the region's payloads
// (capped at the bytes outside the payload headers), as contiguous runs of
// 256 B to 16 KiB when clustered or as single bytes spread uniformly when
// not, then writes every changed type back through Region.Write, so every
// record stays valid (its framing header untouched, its CRC recomputed).
// The values of the changed bytes are synthetic (each byte is XORed with a
// random non-zero value), so field contents such as FRU checksums are no
// longer meaningful. It returns the number of bytes changed. fraction must be
// in [0, 1]. Now does not advance.
func (g *Generator) Mutate(r *Region, fraction float64, clustered bool) (changedBytes int64, err error) {
	if !(fraction >= 0 && fraction <= 1) {
		return 0, fmt.Errorf("mutate: fraction %v is not in [0, 1]", fraction)
	}
	type seg struct {
		t     Type
		p     []byte
		start int64 // index of p[PayloadHeaderSize] in the mutable space
		prev  Record
	}
	var segs []seg
	var total, mutable int64
	for _, t := range All() {
		rec, err := r.Read(t)
		if err != nil {
			return 0, fmt.Errorf("mutate: %w", err)
		}
		total += int64(len(rec.Payload))
		if len(rec.Payload) <= PayloadHeaderSize {
			continue
		}
		segs = append(segs, seg{t: t, p: bytes.Clone(rec.Payload), start: mutable, prev: rec})
		mutable += int64(len(rec.Payload) - PayloadHeaderSize)
	}
	target := min(int64(math.Round(fraction*float64(total))), mutable)
	if target == 0 {
		return 0, nil
	}
	// byteAt maps a mutable-space index to its byte.
	byteAt := func(i int64) *byte {
		k := len(segs) - 1
		for k > 0 && segs[k].start > i {
			k--
		}
		return &segs[k].p[PayloadHeaderSize+int(i-segs[k].start)]
	}
	flip := func(i int64) { *byteAt(i) ^= byte(1 + g.rng.IntN(255)) }
	touched := make(map[Type]bool)
	touch := func(lo, hi int64) { // marks the types covering [lo, hi)
		for _, s := range segs {
			if s.start < hi && lo < s.start+int64(len(s.p)-PayloadHeaderSize) {
				touched[s.t] = true
			}
		}
	}
	if clustered {
		done := make([]uint64, (mutable+63)/64)
		isSet := func(i int64) bool { return done[i/64]&(1<<(i%64)) != 0 }
		var n int64
		for tries := 0; n < target && tries < 1<<20; tries++ {
			run := min(int64(256+g.rng.IntN(16<<10-256+1)), target-n)
			lo := g.rng.Int64N(mutable)
			hi := min(lo+run, mutable)
			for i := lo; i < hi && n < target; i++ {
				if !isSet(i) {
					done[i/64] |= 1 << (i % 64)
					flip(i)
					n++
				}
			}
			touch(lo, hi)
		}
		for i := int64(0); n < target && i < mutable; i++ { // dense leftovers
			if !isSet(i) {
				done[i/64] |= 1 << (i % 64)
				flip(i)
				touch(i, i+1)
				n++
			}
		}
		changedBytes = n
	} else if target*8 < mutable {
		// Sparse: draw positions, redrawing the few that repeat.
		done := make([]uint64, (mutable+63)/64)
		for n := int64(0); n < target; {
			i := g.rng.Int64N(mutable)
			if done[i/64]&(1<<(i%64)) != 0 {
				continue
			}
			done[i/64] |= 1 << (i % 64)
			flip(i)
			touch(i, i+1)
			n++
		}
		changedBytes = target
	} else {
		// Dense: selection sampling (Knuth's algorithm S), exactly target of mutable.
		need := target
		for i := int64(0); i < mutable && need > 0; i++ {
			if g.rng.Int64N(mutable-i) < need {
				flip(i)
				touch(i, i+1)
				need--
			}
		}
		changedBytes = target
	}
	for _, s := range segs {
		if touched[s.t] {
			if err := r.writeOver(s.prev, s.p); err != nil {
				return changedBytes, fmt.Errorf("mutate: %w", err)
			}
		}
	}
	return changedBytes, nil
}
