package store

import (
	"testing"

	"github.com/stretchr/testify/require"
)

// TestIntentChunksFraming: an intent-chunks body is u64 generation, u16 c
// and exactly c entries (docs/FORMAT.md); c may be 0, so the shortest
// well-formed body is its 10 bytes of framing. Shorter is truncated, and
// a count that does not match the bytes after the framing is refused.
func TestIntentChunksFraming(t *testing.T) {
	entry := IntentEntry{Type: 2, Index: 3, Block: 17, Check: 0xC0FFEE, Digest: Digest{1, 2, 3}}
	body := func(gen uint64, c int, entries ...IntentEntry) []byte {
		var b enc
		b.u64(gen)
		b.u16(uint16(c))
		for _, x := range entries {
			b.u8(x.Type)
			b.u32(x.Index)
			b.u32(x.Block)
			b.u64(x.Check)
			b.raw(x.Digest[:])
		}
		return b.buf
	}
	for _, tc := range []struct {
		name string
		body []byte
		want []IntentEntry // nil: refused
		err  string
	}{
		{name: "empty", body: nil, err: "truncated"},
		{name: "9 bytes", body: body(5, 0)[:9], err: "truncated"},
		{name: "no entries", body: body(5, 0), want: []IntentEntry{}},
		{name: "count 1, no entry", body: body(5, 1), err: "lists 1 entries in 10 bytes"},
		{name: "one entry", body: body(5, 1, entry), want: []IntentEntry{entry}},
		{name: "count 0, one entry", body: body(5, 0, entry), err: "lists 0 entries"},
		{name: "count 2, one entry", body: body(5, 2, entry), err: "lists 2 entries"},
		{name: "one entry less a byte", body: body(5, 1, entry)[:9+intentEntrySize], err: "lists 1 entries"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			gen, got, err := decodeIntentChunks(tc.body, []IntentEntry{})
			if tc.err != "" {
				require.ErrorIs(t, err, ErrCorrupt)
				require.ErrorContains(t, err, tc.err)
				return
			}
			require.NoError(t, err)
			require.Equal(t, uint64(5), gen)
			require.Equal(t, tc.want, got)
		})
	}
}
