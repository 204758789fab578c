package fru_test

import (
	"testing"
	"time"

	"github.com/cmcsync/cmcsync/internal/infotest"
	"github.com/cmcsync/cmcsync/sim"
	"github.com/cmcsync/cmcsync/sim/simtest"
	"github.com/cmcsync/cmcsync/source/ipmi/fru"
	"github.com/cmcsync/cmcsync/sync/info"
	"github.com/stretchr/testify/require"
)

// assetSlots returns the FRU slots of an asset payload.
func assetSlots(t *testing.T, payload []byte) [][]byte {
	t.Helper()
	tb, err := info.DecodeTable(info.Asset, payload)
	require.NoError(t, err)
	var slots [][]byte
	for i := 0; i < info.NumFRUs; i++ {
		slots = append(slots, tb.Fixed[i*info.FRUSize:(i+1)*info.FRUSize])
	}
	return slots
}

// TestAssetSlotsAreFRUImages: every asset slot (docs/FORMAT.md, "3.1
// Payloads") of the defaults and of the simulated CMC is a valid FRU image,
// and this package's encoder writes it byte for byte.
func TestAssetSlotsAreFRUImages(t *testing.T) {
	chip := simtest.Chip(t, "w25q256jv", sim.Options{Size: 1 << 20, Name: "primary"})
	region, _ := infotest.Populated(t, chip, 0, 1<<20, 3)
	rec, err := region.Read(info.Asset)
	require.NoError(t, err)

	for name, payload := range map[string][]byte{"defaults": info.Default(info.Asset), "simulated CMC": rec.Payload} {
		for i, slot := range assetSlots(t, payload) {
			img, err := fru.Decode(slot)
			require.NoError(t, err, "%s slot %d", name, i)
			require.NotNil(t, img.Board, "%s slot %d", name, i)
			require.NotNil(t, img.Product, "%s slot %d", name, i)
			enc, err := fru.Encode(img)
			require.NoError(t, err)
			fitted, err := fru.FitSlot(enc, info.FRUSize)
			require.NoError(t, err)
			require.Equal(t, slot, fitted, "%s slot %d: Encode writes the slot's bytes", name, i)
		}
	}

	// The chassis slot of the simulated CMC, decoded.
	chassis, err := fru.Decode(assetSlots(t, rec.Payload)[0])
	require.NoError(t, err)
	require.Equal(t, "Acme Systems", chassis.Board.Manufacturer.Value)
	require.Equal(t, "Chassis 16N", chassis.Product.Name.Value)
	require.True(t, chassis.Board.MfgTime.After(time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)))

	// The blank image of the defaults: a board and a product area whose
	// fields are all empty 8-bit text.
	blank, err := fru.Encode(&fru.Image{Board: &fru.Board{
		Manufacturer: fru.TextField(""), ProductName: fru.TextField(""), SerialNumber: fru.TextField(""),
		PartNumber: fru.TextField(""), FRUFileID: fru.TextField(""),
	}, Product: &fru.Product{
		Manufacturer: fru.TextField(""), Name: fru.TextField(""), PartNumber: fru.TextField(""), Version: fru.TextField(""),
		SerialNumber: fru.TextField(""), AssetTag: fru.TextField(""), FRUFileID: fru.TextField(""),
	}})
	require.NoError(t, err)
	fitted, err := fru.FitSlot(blank, info.FRUSize)
	require.NoError(t, err)
	require.Equal(t, assetSlots(t, info.Default(info.Asset))[0], fitted)
}
