package info

import (
	"bytes"
	"testing"
	"time"
)

// Every decoder: no panic on any input, and whatever decodes re-encodes to
// the same bytes (so no two encodings mean the same thing).

func FuzzDecodeRegionHeader(f *testing.F) {
	for _, size := range []int64{60 << 10, 8 << 20} {
		h, err := PlanRegion(size, 4<<10)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(h.Encode())
		// The same layout as a version 1 region (no change tables).
		h.Version = RegionVersionPlain
		for i := range h.Extents {
			h.Extents[i].Table = 0
		}
		f.Add(h.Encode())
	}
	f.Add(bytes.Repeat([]byte{0xFF}, RegionHeaderSize))
	f.Add([]byte(RegionMagic))
	f.Fuzz(func(t *testing.T, b []byte) {
		h, err := DecodeRegionHeader(b)
		if err != nil {
			return
		}
		if got := h.Encode(); !bytes.Equal(got, b[:len(got)]) {
			t.Fatalf("decoded %+v re-encodes differently:\n got %x\nwant %x", h, got, b[:len(got)])
		}
		// A valid header always describes a region PlanRegion-like code can use.
		for _, e := range h.Extents {
			if e.Off+e.Capacity > h.Size || e.Off%h.EraseSize != 0 {
				t.Fatalf("accepted a bad extent %+v in %+v", e, h)
			}
		}
	})
}

func FuzzDecodeRecordHeader(f *testing.F) {
	f.Add(encodeRecordHeader(RecordHeader{Type: Power, Seq: 1, PayloadLen: 424, PayloadCRC: 1}))
	f.Add(encodeRecordHeader(RecordHeader{Type: Asset, Seq: 1 << 40, PayloadLen: 0, PayloadCRC: 0}))
	f.Add(bytes.Repeat([]byte{0xFF}, RecordHeaderSize))
	f.Add([]byte{0x49, 0x52, 0x45, 0x43})
	f.Fuzz(func(t *testing.T, b []byte) {
		h, err := DecodeRecordHeader(b)
		if err != nil {
			return
		}
		if !h.Type.Valid() {
			t.Fatalf("accepted type %d", h.Type)
		}
		if got := encodeRecordHeader(h); !bytes.Equal(got, b[:RecordHeaderSize]) {
			t.Fatalf("decoded %+v re-encodes differently", h)
		}
	})
}

func FuzzDecodeImageHeader(f *testing.F) {
	f.Add(ImageHeader{Version: "2.10.1", Size: 1 << 20, CRC: 5, Built: time.Unix(1767225600, 0)}.Encode())
	f.Add(ImageHeader{Version: "12345678901234567890", Size: 0}.Encode())
	f.Add(bytes.Repeat([]byte{0xFF}, ImageHeaderSize))
	f.Add([]byte(ImageMagic))
	f.Fuzz(func(t *testing.T, b []byte) {
		h, err := DecodeImageHeader(b)
		if err != nil {
			return
		}
		if got := h.Encode(); !bytes.Equal(got, b[:ImageHeaderSize]) {
			t.Fatalf("decoded %+v re-encodes differently", h)
		}
	})
}

func FuzzDecodePayload(f *testing.F) {
	for _, ty := range All() {
		f.Add(uint8(ty), Default(ty))
	}
	tb := NewTable(EventLog, 3)
	for i := 0; i < 5; i++ {
		tb.Add(bytes.Repeat([]byte{byte(i)}, SELEntrySize))
	}
	f.Add(uint8(EventLog), tb.Encode())
	f.Fuzz(func(t *testing.T, ty uint8, p []byte) {
		d, derr := DescribePayload(Type(ty), p)
		tb, err := DecodeTable(Type(ty), p)
		if (err == nil) != (derr == nil) {
			t.Fatalf("DescribePayload and DecodeTable disagree: %v, %v", derr, err)
		}
		if err != nil {
			return
		}
		if d.Entries > d.Slots || d.Entries*d.EntrySize+d.FixedSize+PayloadHeaderSize != len(p) {
			t.Fatalf("inconsistent description %+v of %d bytes", d, len(p))
		}
		if got := tb.Encode(); !bytes.Equal(got, p) {
			t.Fatalf("payload re-encodes differently")
		}
		// Growing, shrinking and appending keep it well-formed.
		for _, slots := range []uint32{0, 1, tb.Slots + 2} {
			nt := tb.Resized(slots)
			if tb.EntrySize > 0 {
				nt.Add(make([]byte, tb.EntrySize))
			}
			if _, err := DecodeTable(Type(ty), nt.Encode()); err != nil {
				t.Fatalf("after resize to %d: %v", slots, err)
			}
		}
	})
}
