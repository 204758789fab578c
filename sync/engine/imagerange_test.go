package engine

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/cmcsync/cmcsync/sim"
	"github.com/cmcsync/cmcsync/sim/simtest"
	"github.com/cmcsync/cmcsync/sync/info"
)

// TestRangeDigestImageID: the digest of exactly the range, read from the
// chip's own device when one is given for chips 0 and 1, else from the
// reader handed in; an empty range or a negative offset is refused.
func TestRangeDigestImageID(t *testing.T) {
	data := []byte("0123456789abcdef")
	dev0, dev1 := bytes.NewReader([]byte("AAAAAAAAAAAAAAAA")), bytes.NewReader([]byte("BBBBBBBBBBBBBBBB"))
	sum := func(b []byte) string { s := sha256.Sum256(b); return "sha256:" + hex.EncodeToString(s[:]) }
	r := RangeDigest{Off: 2, Size: 4, Devices: [2]io.ReaderAt{dev0, dev1}}
	for _, tc := range []struct {
		chip int
		want []byte
	}{
		{0, []byte("AAAA")},
		{1, []byte("BBBB")},
		{2, data[2:6]},
		{-1, data[2:6]},
	} {
		id, err := r.ImageID(tc.chip, bytes.NewReader(data))
		require.NoError(t, err)
		require.Equal(t, sum(tc.want), id, "chip %d", tc.chip)
	}
	id, err := RangeDigest{Off: 0, Size: 1}.ImageID(0, bytes.NewReader(data))
	require.NoError(t, err)
	require.Equal(t, sum(data[:1]), id)
	for _, bad := range []RangeDigest{{Off: -1, Size: 4}, {Off: 0, Size: 0}, {Off: 0, Size: -1}} {
		_, err := bad.ImageID(0, bytes.NewReader(data))
		require.ErrorContains(t, err, fmt.Sprintf("image range %#x+%d: want a non-negative offset and a positive size", bad.Off, bad.Size))
	}
	// A range running past the end of the device is refused, not hashed
	// as far as the device goes.
	for _, past := range []RangeDigest{{Off: 8, Size: 16}, {Off: 16, Size: 1}, {Off: 15, Size: 2}} {
		_, err := past.ImageID(0, bytes.NewReader(data))
		require.ErrorIs(t, err, io.ErrUnexpectedEOF, "%+v", past)
		require.ErrorContains(t, err, fmt.Sprintf("read image range %#x+%d: the device ends %d bytes into it", past.Off, past.Size, max(int64(len(data))-past.Off, 0)))
	}
	id, err = RangeDigest{Off: 12, Size: 4}.ImageID(0, bytes.NewReader(data))
	require.NoError(t, err, "a range ending at the device's end")
	require.Equal(t, sum(data[12:]), id)
	_, err = RangeDigest{Off: 8, Size: 16}.ImageID(0, failingReader{})
	require.ErrorContains(t, err, "read image range 0x8+16: gone")
}

// failingReader fails every read.
type failingReader struct{}

func (failingReader) ReadAt([]byte, int64) (int, error) { return 0, errors.New("gone") }

// fixedIdentity returns its id for every chip.
type fixedIdentity string

func (f fixedIdentity) ImageID(int, io.ReaderAt) (string, error) { return string(f), nil }

// TestImageIDLength: an identity longer than MaxImageIDLen is cut to it;
// one of that length or blank is kept or refused as is.
func TestImageIDLength(t *testing.T) {
	a, b := simtest.Pair(t, "mx66l1g45g", sim.Options{Size: 8 << 20, Clock: simtest.NewClock()})
	for _, tc := range []struct {
		id, want string
	}{
		{strings.Repeat("x", MaxImageIDLen+1), strings.Repeat("x", MaxImageIDLen)},
		{strings.Repeat("y", MaxImageIDLen), strings.Repeat("y", MaxImageIDLen)},
		{"v1", "v1"},
	} {
		e := &Engine{opts: Options{Image: fixedIdentity(tc.id)}}
		e.chips[0], e.chips[1] = a, b
		h, err := e.imageID(1, b, info.ImageHeader{Version: "probed"})
		require.NoError(t, err)
		require.Equal(t, tc.want, h.Version)
	}
	e := &Engine{opts: Options{Image: fixedIdentity(" ")}}
	e.chips[0], e.chips[1] = a, b
	_, err := e.imageID(1, b, info.ImageHeader{})
	require.ErrorIs(t, err, ErrImageIdentity)
	require.ErrorContains(t, err, "the identity source returned an empty identity")
}

// TestEventLogBound: the event log keeps the newest maxEvents events.
func TestEventLogBound(t *testing.T) {
	e := &Engine{clock: simtest.NewClock()}
	for i := range maxEvents + 2 {
		e.event(EventCommit, uint64(i), fmt.Sprint(i))
	}
	evs := e.Events()
	require.Len(t, evs, maxEvents)
	require.Equal(t, "2", evs[0].Detail)
	require.Equal(t, fmt.Sprint(maxEvents+1), evs[maxEvents-1].Detail)
}

// TestPayloadClass: the least c with 1<<c >= n; a pooled buffer has the
// length asked and the class's capacity.
func TestPayloadClass(t *testing.T) {
	for n, c := range map[int]int{0: 0, 1: 0, 2: 1, 3: 2, 4: 2, 5: 3, 4096: 12, 4097: 13} {
		require.Equal(t, c, payloadClass(n), "n=%d", n)
		b := getPayload(n)
		require.Len(t, b, n)
		require.Equal(t, 1<<c, cap(b), "n=%d", n)
		putPayload(b)
	}
}
