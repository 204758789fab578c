package faults_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"hash/crc32"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/cmcsync/cmcsync/faults"
	"github.com/cmcsync/cmcsync/sync/info"
)

func TestForgeSameCheck(t *testing.T) {
	sha := func(p []byte) uint64 { s := sha256.Sum256(p); return binary.LittleEndian.Uint64(s[:]) }
	crc := func(p []byte) uint64 { return uint64(crc32.ChecksumIEEE(p)) }
	for _, tc := range []struct {
		name  string
		check func([]byte) uint64
		ok    bool
	}{
		{"block check (two CRCs)", info.BlockCheck, true},
		{"one CRC-32", crc, true},
		{"not affine (SHA-256)", sha, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := bytes.Repeat([]byte{0x3C, 0xA7, 0x11}, 4096/3+1)[:4096]
			orig := bytes.Clone(b)
			err := faults.ForgeSameCheck(b, 100, tc.check)
			if !tc.ok {
				require.Error(t, err)
				require.Equal(t, orig, b, "a failed forge leaves the bytes")
				return
			}
			require.NoError(t, err)
			require.NotEqual(t, orig, b, "the bytes changed")
			require.Equal(t, orig[100]^0x5A, b[100])
			require.Equal(t, tc.check(orig), tc.check(b), "the check did not")
			require.Equal(t, orig[:100], b[:100])
			require.Equal(t, orig[180:], b[180:], "only byte at and the 16 bytes from at+64 change")
		})
	}
	require.Error(t, faults.ForgeSameCheck(make([]byte, 179), 100, info.BlockCheck), "too short")
}
