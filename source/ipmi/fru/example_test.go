package fru_test

import (
	"fmt"
	"time"

	"github.com/cmcsync/cmcsync/source/ipmi/fru"
)

// A PSU's FRU image, written for a 256-byte asset slot and read back.
func Example() {
	img := &fru.Image{
		Board: &fru.Board{
			Language:     fru.LanguageEnglish,
			MfgTime:      time.Date(2025, 3, 14, 9, 26, 0, 0, time.UTC),
			Manufacturer: fru.TextField("PowerCo"),
			ProductName:  fru.TextField("PSU 2400W"),
			SerialNumber: fru.TextField("PC2400-000123"),
			PartNumber:   fru.TextField("PWS-2K41A-1R"),
		},
		Product: &fru.Product{
			Manufacturer: fru.TextField("PowerCo"),
			Name:         fru.TextField("PSU 2400W Ti"),
			Version:      fru.Field{Encoding: fru.ASCII6, Value: "A01X"},
			AssetTag:     fru.TextField("PSU-1"),
		},
	}
	b, err := fru.Encode(img)
	if err != nil {
		fmt.Println(err)
		return
	}
	slot, err := fru.FitSlot(b, 256)
	if err != nil {
		fmt.Println(err)
		return
	}
	back, err := fru.Decode(slot)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Printf("%d bytes of FRU data in a %d-byte slot\n", len(b), len(slot))
	fmt.Println(back.Board.Manufacturer, "/", back.Board.ProductName, "made", back.Board.MfgTime.Format(time.DateTime))
	fmt.Println(back.Product.Name, "version", back.Product.Version, "asset tag", back.Product.AssetTag)

	slot[20] ^= 0x01 // a flipped bit in the board area
	_, err = fru.Decode(slot)
	fmt.Println(err)
	// Output:
	// 104 bytes of FRU data in a 256-byte slot
	// PowerCo / PSU 2400W made 2025-03-14 09:26:00
	// PSU 2400W Ti version A01X asset tag PSU-1
	// malformed FRU data: checksum mismatch: board info area at 0x8: checksum 0x43 (byte 0x3f), want 0x44
}
