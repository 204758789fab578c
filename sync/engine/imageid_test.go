package engine

import (
	"bytes"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/cmcsync/cmcsync/sync/info"
)

// TestHeaderIdentity: the default identity source returns the version
// string of the CMCFWIMG header at offset 0, and an error when the header
// cannot be read or is not one.
func TestHeaderIdentity(t *testing.T) {
	valid := info.ImageHeader{Version: "2.10.1", Size: 4096, CRC: 0x1234, Built: time.Unix(1000, 0)}.Encode()
	erased := bytes.Repeat([]byte{0xff}, info.ImageHeaderSize)
	for _, tc := range []struct {
		name    string
		chip    []byte
		want    string
		wantErr string
	}{
		{"valid header", append(valid, make([]byte, 4096)...), "2.10.1", ""},
		{"header alone", valid, "2.10.1", ""},
		{"erased chip", erased, "", "no firmware image"},
		{"chip shorter than a header", valid[:10], "", "read image header"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			id, err := HeaderIdentity{}.ImageID(0, bytes.NewReader(tc.chip))
			if tc.wantErr != "" {
				require.ErrorContains(t, err, tc.wantErr)
				return
			}
			require.NoError(t, err)
			require.Equal(t, tc.want, id)
		})
	}
}
