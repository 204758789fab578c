package cmcsim

import (
	"encoding/binary"
	"fmt"
	"time"

	"github.com/cmcsync/cmcsync/sync/info"
)

func unix32(t time.Time) uint32 { return uint32(t.Unix()) }

func putStr(b []byte, s string) {
	clear(b)
	copy(b, s)
}

var le = binary.LittleEndian

// populateFixed fills tb's fixed section with a populated chassis.
func (g *Generator) populateFixed(tb *info.Table) {
	b := tb.Fixed
	switch tb.Type {
	case info.Power:
		b[0], b[1], b[2] = 1, 1, info.NumPSUs  // N+1, cap on
		le.PutUint16(b[4:], 9000)              // cap W
		le.PutUint16(b[6:], info.NumPSUs*2400) // rated total
		le.PutUint32(b[8:], 100000+g.rng.Uint32N(500000))
		models := []string{"PWS-2K41A-1R", "DPS-2400AB-1", "PSU-2400W-TI"}
		model := models[g.rng.IntN(len(models))]
		for i := 0; i < info.NumPSUs; i++ {
			r := b[info.PowerPolicySize+i*info.PSURecordSize:][:info.PSURecordSize]
			r[0], r[1], r[2] = byte(i+1), 1, 1
			le.PutUint16(r[4:], 2400)
			putStr(r[16:36], model)
			putStr(r[36:52], fmt.Sprintf("P%02d%011d", i+1, g.rng.Uint64N(1e11)))
			putStr(r[52:60], "1.7.3")
		}
		if g.rng.IntN(4) == 0 { // one PSU failed earlier
			b[info.PowerPolicySize+g.rng.IntN(info.NumPSUs)*info.PSURecordSize+2] = 3
		}
		g.moveReadings(tb, time.Minute)
	case info.Fan:
		b[0], b[1], b[2], b[3], b[4] = 0, 0, 25, 27, info.NumFans
		for i := 0; i < info.NumFans; i++ {
			r := b[info.FanModeSize+i*info.FanRecordSize:][:info.FanRecordSize]
			r[0], r[1], r[2], r[3] = byte(i+1), 1, 1, byte(35+g.rng.IntN(20))
			le.PutUint16(r[8:], 16000)
			r[10] = byte(i/4 + 1)
			le.PutUint32(r[12:], 1000+g.rng.Uint32N(30000))
		}
		g.moveReadings(tb, time.Minute)
	case info.Node:
		bios := fmt.Sprintf("U%02d.%d.%02d", 30+g.rng.IntN(5), g.rng.IntN(4), g.rng.IntN(20))
		bmc := fmt.Sprintf("%d.%02d.%02d", 5+g.rng.IntN(2), g.rng.IntN(20), g.rng.IntN(40))
		for i := 0; i < info.NumNodes; i++ {
			r := b[i*info.NodeRecordSize:][:info.NodeRecordSize]
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
	case info.EventLog:
		b[0] = 0x51
		le.PutUint16(b[2:], 1)
	case info.FaultLog:
		le.PutUint32(b[0:], 1)
	case info.Asset:
		for i := 0; i < info.NumFRUs; i++ {
			encodeFRU(b[i*info.FRUSize:(i+1)*info.FRUSize], g.fru(i))
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
	case i <= info.NumNodes:
		fi.BoardMfr, fi.BoardName, fi.BoardPart = "Acme Systems", "Node MB X13", "X13DPT-B"
		fi.ProdMfr, fi.ProdName, fi.ProdModel = "Acme Systems", "Compute Node", "CN-2S-X13"
		fi.AssetTag = fmt.Sprintf("DC1-R12-N%02d", i)
	default:
		fi.BoardMfr, fi.BoardName, fi.BoardPart = "PowerCo", "PSU 2400W", "PWS-2K41A-1R"
		fi.ProdMfr, fi.ProdName, fi.ProdModel = "PowerCo", "PSU 2400W Ti", "PWS-2K41A"
		fi.AssetTag = fmt.Sprintf("PSU-%d", i-info.NumNodes)
	}
	return fi
}

// moveReadings updates PSU or fan readings after d of operation.
func (g *Generator) moveReadings(tb *info.Table, d time.Duration) {
	b := tb.Fixed
	switch tb.Type {
	case info.Power:
		energy := le.Uint32(b[8:])
		var total int
		for i := 0; i < info.NumPSUs; i++ {
			r := b[info.PowerPolicySize+i*info.PSURecordSize:][:info.PSURecordSize]
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
	case info.Fan:
		for i := 0; i < info.NumFans; i++ {
			r := b[info.FanModeSize+i*info.FanRecordSize:][:info.FanRecordSize]
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
func (g *Generator) nodeChange(tb *info.Table) {
	i := g.rng.IntN(info.NumNodes)
	r := tb.Fixed[i*info.NodeRecordSize:][:info.NodeRecordSize]
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
	if tb.Slots > 0 {
		e := make([]byte, info.SampleSize)
		le.PutUint32(e[0:], unix32(g.now))
		e[4], e[5], e[6], e[7], e[13] = byte(i+1), 1, r[2], r[3], old
		e[12] = byte(g.rng.IntN(256))
		tb.Add(e)
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
func (g *Generator) entry(tb *info.Table, at time.Time, e []byte) {
	clear(e)
	ts := unix32(at)
	le.PutUint32(e[0:], ts)
	switch tb.Type {
	case info.Power:
		in := 5000 + g.rng.IntN(3000)
		le.PutUint16(e[4:], uint16(in))
		le.PutUint16(e[6:], uint16(in*94/100))
		le.PutUint16(e[8:], le.Uint16(tb.Fixed[4:]))
		e[10], e[11] = 0x3f, info.NumPSUs
		le.PutUint16(e[12:], uint16(in+g.rng.IntN(400)))
		le.PutUint16(e[14:], uint16(in-g.rng.IntN(400)))
	case info.Fan:
		f := g.rng.IntN(info.NumFans)
		pwm := 30 + g.rng.IntN(50)
		e[4], e[5] = byte(f+1), byte(pwm)
		le.PutUint16(e[6:], uint16(16000*pwm/100-150+g.rng.IntN(300)))
		e[8], e[9], e[10], e[11] = byte(22+g.rng.IntN(6)), byte(35+g.rng.IntN(15)), byte(f/4+1), 1
		le.PutUint16(e[12:], uint16(16000*pwm/100))
	case info.Node:
		n := g.rng.IntN(info.NumNodes)
		r := tb.Fixed[n*info.NodeRecordSize:][:info.NodeRecordSize]
		e[4], e[5], e[6], e[7] = byte(n+1), 0, r[2], r[3]
		if r[2] == 1 {
			le.PutUint16(e[8:], uint16(250+g.rng.IntN(400)))
			e[10] = byte(45 + g.rng.IntN(40))
		}
		e[11] = byte(20 + g.rng.IntN(8))
	case info.EventLog:
		// IPMI SEL record: ID, type 0x02, timestamp, generator, EvM rev, sensor type,
		// sensor number, event dir/type, event data 1-3.
		selInfo := tb.Fixed
		id := le.Uint16(selInfo[2:])
		if id == 0 || id == 0xFFFF {
			id = 1
		}
		le.PutUint16(e[0:], id)
		e[2] = 0x02
		le.PutUint32(e[3:], ts)
		node := g.rng.IntN(info.NumNodes)
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
		le.PutUint16(selInfo[2:], next)
		le.PutUint32(selInfo[4:], ts)
		le.PutUint32(selInfo[12:], le.Uint32(selInfo[12:])+1)
		if tb.Count == tb.Slots && tb.Slots > 0 {
			selInfo[1] = 1 // overflow: the oldest entries are being overwritten
		}
	case info.FaultLog:
		faultInfo := tb.Fixed
		id := le.Uint32(faultInfo[0:])
		le.PutUint32(e[4:], id)
		le.PutUint32(faultInfo[0:], id+1)
		node := g.rng.IntN(info.NumNodes) + 1
		sev := byte(1 + g.rng.IntN(3))
		state := byte(1 + g.rng.IntN(2)) // asserted, cleared
		m := g.rng.IntN(len(faultMessages))
		e[8], e[9], e[10], e[11] = byte(node), sev, byte(m+1), state
		le.PutUint32(e[12:], uint32(0x0A00+m)<<8|uint32(sev))
		msg := faultMessages[m]
		switch m {
		case 0, 1:
			msg = fmt.Sprintf(msg, 1+g.rng.IntN(info.NumPSUs))
		case 2:
			msg = fmt.Sprintf(msg, 1+g.rng.IntN(info.NumFans))
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
		active := le.Uint32(faultInfo[4:])
		if state == 1 {
			active++
		} else if active > 0 {
			active--
		}
		le.PutUint32(faultInfo[4:], active)
		le.PutUint32(faultInfo[8:], ts)
	}
}
