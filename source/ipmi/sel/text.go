package sel

import (
	"bytes"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// textValues names the seven values of a text line, in order.
var textValues = [7]string{
	"EvM revision", "sensor type", "sensor number", "event dir/type",
	"event data 1", "event data 2", "event data 3",
}

// ParseText parses the text format of `ipmitool sel add` and `ipmitool sel
// save` (see the package documentation): each non-blank line, after
// removing a '#' comment, holds exactly seven byte values. Each record is a
// system event with ID 0, timestamp 0 and generator ID [TextGeneratorID].
// Every error wraps [ErrFormat] and names the line and value.
func ParseText(b []byte) ([]Record, error) {
	var recs []Record
	for n, line := range bytes.Split(b, []byte("\n")) {
		lineNo := n + 1
		if i := bytes.IndexByte(line, '#'); i >= 0 {
			line = line[:i]
		}
		fields := strings.Fields(string(line))
		if len(fields) == 0 {
			continue
		}
		if len(fields) != len(textValues) {
			return nil, fmt.Errorf("%w: line %d: %d values, want %d (%s)",
				ErrFormat, lineNo, len(fields), len(textValues), strings.Join(textValues[:], ", "))
		}
		var v [7]byte
		for i, f := range fields {
			x, err := parseByte(f)
			if err != nil {
				return nil, fmt.Errorf("%w: line %d: %s %q: not a byte value (0–255: decimal, 0x-hex or 0-octal)",
					ErrFormat, lineNo, textValues[i], f)
			}
			v[i] = x
		}
		r := NewSystemEvent(0, 0, SystemEvent{
			GeneratorID: TextGeneratorID, EvMRev: v[0], SensorType: v[1], SensorNumber: v[2],
			EventDirType: v[3], EventData: [3]byte{v[4], v[5], v[6]},
		})
		if err := r.Validate(); err != nil {
			return nil, fmt.Errorf("line %d: %w", lineNo, err)
		}
		recs = append(recs, r)
	}
	return recs, nil
}

// parseByte reads a byte value as C's strtoul with base 0 does (decimal,
// 0x-hex, 0-octal), refusing the digit separators Go's base 0 also takes.
func parseByte(s string) (byte, error) {
	if strings.ContainsRune(s, '_') || strings.HasPrefix(s, "+") {
		return 0, strconv.ErrSyntax
	}
	if len(s) > 1 && s[0] == '0' && (s[1] == 'o' || s[1] == 'O' || s[1] == 'b' || s[1] == 'B') {
		return 0, strconv.ErrSyntax // strtoul knows neither 0o nor 0b
	}
	x, err := strconv.ParseUint(s, 0, 8)
	return byte(x), err
}

// AppendText appends the records to dst in the text format, one line each
// with a comment holding what the format cannot carry (record ID,
// timestamp, generator ID), and returns the extended slice. Only system
// events have a text form: an OEM record is an error wrapping [ErrFormat].
func AppendText(dst []byte, recs []Record) ([]byte, error) {
	for i, r := range recs {
		e, ok := r.SystemEvent()
		if !ok {
			return dst, fmt.Errorf("%w: record %d (id 0x%04x) is %s (type 0x%02x): only system events have a text form",
				ErrFormat, i, r.ID(), r.Kind(), r.Type())
		}
		dst = fmt.Appendf(dst, "0x%02x 0x%02x 0x%02x 0x%02x 0x%02x 0x%02x 0x%02x # id 0x%04x",
			e.EvMRev, e.SensorType, e.SensorNumber, e.EventDirType, e.EventData[0], e.EventData[1], e.EventData[2], r.ID())
		if t, ok := r.Time(); ok {
			dst = fmt.Appendf(dst, " at %s", t.Format(time.RFC3339))
		}
		dst = fmt.Appendf(dst, " gen 0x%04x\n", e.GeneratorID)
	}
	return dst, nil
}
