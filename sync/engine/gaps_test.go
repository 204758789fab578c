package engine

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/cmcsync/cmcsync/hal"
	"github.com/cmcsync/cmcsync/sync/info"
)

// TestTypeListJSON: a type list decodes from names, from numbers and from
// a mix, encodes back to names, and refuses unknown names, bad numbers and
// values of other kinds.
func TestTypeListJSON(t *testing.T) {
	for _, tt := range []struct {
		in      string
		want    TypeList
		wantErr bool
	}{
		{in: `["fan","power"]`, want: TypeList{info.Fan, info.Power}},
		{in: `["event-log", 5]`, want: TypeList{info.EventLog, info.Type(5)}},
		{in: `[]`, want: TypeList{}},
		{in: `["fans"]`, wantErr: true},
		{in: `[true]`, wantErr: true},
		{in: `[300]`, wantErr: true},
		{in: `"fan"`, wantErr: true},
	} {
		t.Run(tt.in, func(t *testing.T) {
			var got TypeList
			err := json.Unmarshal([]byte(tt.in), &got)
			if tt.wantErr {
				require.Error(t, err)
				return
			}
			require.NoError(t, err)
			require.Equal(t, tt.want, got)
			b, err := json.Marshal(got)
			require.NoError(t, err)
			var back TypeList
			require.NoError(t, json.Unmarshal(b, &back))
			require.Equal(t, got, back, "names decode to the same list")
		})
	}
}

// TestOptionsDefaults: fill sets the documented probe cadence (20 ms
// between probes, 5 ms between retries) and keeps values a caller set.
func TestOptionsDefaults(t *testing.T) {
	g := hal.Geometry{Name: "a", Kind: hal.NOR, Size: 64 << 20, EraseSize: 4096, WriteSize: 1, PageSize: 256}
	o := Options{Clock: hal.SystemClock{}}
	require.NoError(t, o.fill(g))
	require.Equal(t, 20*time.Millisecond, o.ProbeEvery)
	require.Equal(t, 5*time.Millisecond, o.ProbeRetry)
	require.Equal(t, DefaultImageVersion, o.ImageVersion)
	require.NotEqual(t, Layout{}, o.Layout)

	o = Options{Clock: hal.SystemClock{}, ProbeEvery: time.Second, ProbeRetry: 3 * time.Millisecond, ImageVersion: "v9"}
	require.NoError(t, o.fill(g))
	require.Equal(t, time.Second, o.ProbeEvery)
	require.Equal(t, 3*time.Millisecond, o.ProbeRetry)
	require.Equal(t, "v9", o.ImageVersion)

	require.Error(t, (&Options{}).fill(g), "a clock is required")
}
