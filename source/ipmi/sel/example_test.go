package sel_test

import (
	"fmt"

	"github.com/cmcsync/cmcsync/source/ipmi/sel"
)

// A file saved by `ipmitool sel save` holds system events without IDs or
// times; a SEL device assigns both as it adds each record.
func Example() {
	saved := []byte(`0x04 0x01 0x30 0x01 0x57 0x52 0x50 # Temperature #0x30 Upper Non-critical going high
0x04 0x0c 0x70 0xef 0xa0 0xff 0x03 # Memory #0x70 Correctable ECC
`)
	recs, format, err := sel.Parse(saved, sel.LayoutIpmitool)
	if err != nil {
		fmt.Println(err)
		return
	}
	id := uint16(0xFFFE)
	for i := range recs {
		recs[i].SetID(id)
		recs[i].SetTimestamp(1767225600 + uint32(i)) // 2026-01-01 00:00:00 UTC
		id = sel.NextID(id)
	}
	fmt.Println(format, "file")
	for _, r := range recs {
		fmt.Println(r)
	}
	raw := sel.AppendRaw(nil, recs, sel.LayoutIPMI)
	fmt.Println(len(raw), "bytes as a raw file or ring entries")

	_, err = sel.ParseRaw(raw[:20], sel.LayoutIPMI)
	fmt.Println(err)
	// Output:
	// text file
	// id 0xfffe type 0x02 (system event) at 2026-01-01T00:00:00Z gen 0x0041 evm 0x04 sensor type 0x01 #0x30 event type 0x01 assert data 57 52 50
	// id 0x0001 type 0x02 (system event) at 2026-01-01T00:00:01Z gen 0x0041 evm 0x04 sensor type 0x0c #0x70 event type 0x6f deassert data a0 ff 03
	// 32 bytes as a raw file or ring entries
	// malformed SEL data: 20 bytes is not a whole number of 16-byte records: the last 4 bytes, at offset 0x10, are a partial record
}
