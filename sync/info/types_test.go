package info

import (
	"testing"

	"github.com/stretchr/testify/require"
)

func TestTypeNames(t *testing.T) {
	tests := []struct {
		typ  Type
		name string
	}{
		{Power, "power"}, {Fan, "fan"}, {Node, "node"},
		{EventLog, "event-log"}, {FaultLog, "fault-log"}, {Asset, "asset"},
	}
	require.Len(t, All(), NumTypes)
	for i, tc := range tests {
		require.Equal(t, tc.typ, All()[i], "layout order")
		require.Equal(t, Type(i+1), tc.typ, "stored value must not change")
		require.Equal(t, tc.name, tc.typ.String())
		got, err := ParseType(tc.name)
		require.NoError(t, err)
		require.Equal(t, tc.typ, got)
		got, err = ParseType(" " + string([]byte(tc.name)[:1]) + tc.name[1:] + " ")
		require.NoError(t, err)
		require.Equal(t, tc.typ, got)
	}
	for alias, want := range map[string]Type{"SEL": EventLog, "eventlog": EventLog, "faultlog": FaultLog, "FRU": Asset, "Power": Power} {
		got, err := ParseType(alias)
		require.NoError(t, err, alias)
		require.Equal(t, want, got, alias)
	}
	require.Equal(t, "type(0)", Type(0).String())
	require.Equal(t, "type(7)", Type(7).String())
	require.False(t, Type(0).Valid())
	require.False(t, Type(7).Valid())
	// One type is never "all": the error does not offer it; a list's does.
	for _, tc := range []struct {
		parse   func(string) error
		in      string
		wantAll bool
	}{
		{func(s string) error { _, err := ParseType(s); return err }, "psu", false},
		{func(s string) error { _, err := ParseType(s); return err }, "all", false},
		{func(s string) error { _, err := ParseList(s); return err }, "psu", true},
		{func(s string) error { _, err := ParseList(s); return err }, "power,psu", true},
	} {
		err := tc.parse(tc.in)
		require.ErrorContains(t, err, `unknown information type "`, tc.in)
		require.ErrorContains(t, err, "power, fan, node, event-log, fault-log, asset", tc.in)
		if tc.wantAll {
			require.ErrorContains(t, err, ", or all)", tc.in)
		} else {
			require.NotContains(t, err.Error(), "all)", tc.in)
		}
	}
}

func TestParseList(t *testing.T) {
	tests := []struct {
		in      string
		want    []Type
		wantErr string
	}{
		{in: "power,fan", want: []Type{Power, Fan}},
		{in: "fan,power", want: []Type{Power, Fan}},
		{in: "asset, event-log ,power,power", want: []Type{Power, EventLog, Asset}},
		{in: "all", want: All()},
		{in: " ALL ", want: All()},
		{in: "power,fan,node,event-log,fault-log,asset", want: All()},
		{in: "sel,", want: []Type{EventLog}},
		{in: "", wantErr: "empty information type list"},
		{in: ",", wantErr: "empty information type list"},
		{in: "power,bogus", wantErr: `unknown information type "bogus"`},
	}
	for _, tc := range tests {
		got, err := ParseList(tc.in)
		if tc.wantErr != "" {
			require.ErrorContains(t, err, tc.wantErr, tc.in)
			continue
		}
		require.NoError(t, err, tc.in)
		require.Equal(t, tc.want, got, tc.in)
		back, err := ParseList(FormatList(got))
		require.NoError(t, err)
		require.Equal(t, got, back, "FormatList round trip of %q", tc.in)
	}
	require.Equal(t, "all", FormatList(All()))
	require.Equal(t, "power,fan", FormatList([]Type{Power, Fan}))
	require.Equal(t, "power,power,fan,node,event-log,fault-log", FormatList([]Type{Power, Power, Fan, Node, EventLog, FaultLog}))
}

func TestExplanations(t *testing.T) {
	titles := map[string]bool{}
	for _, ty := range All() {
		e := ty.Explanation()
		require.NotEmpty(t, e.Title, ty)
		require.False(t, titles[e.Title], "duplicate title %q", e.Title)
		titles[e.Title] = true
		require.Greater(t, len(e.Holds), 250, "%v: Holds must be detailed", ty)
		require.Greater(t, len(e.WhyBackup), 150, "%v: WhyBackup must be detailed", ty)
		require.NotEmpty(t, e.TypicalSize, ty)
		require.NotEmpty(t, e.ChangeRate, ty)
	}
	require.Contains(t, EventLog.Explanation().Holds, "16-byte IPMI SEL")
	require.Contains(t, Asset.Explanation().Holds, "FRU")
	require.Equal(t, Explanation{}, Type(0).Explanation())
	require.Equal(t, Explanation{}, Type(9).Explanation())
}

func TestDefault(t *testing.T) {
	for _, ty := range All() {
		p := Default(ty)
		tb, err := DecodeTable(ty, p)
		require.NoError(t, err, ty)
		require.Zero(t, tb.Count, ty)
		require.Zero(t, tb.Slots, ty)
		fixed, _ := PayloadSizes(ty)
		require.Len(t, p, PayloadHeaderSize+fixed)
		p[PayloadHeaderSize] ^= 0xFF
		require.NotEqual(t, p, Default(ty), "Default must return a new slice")
	}
	require.Nil(t, Default(0))
	require.Nil(t, Default(7))
	// Every asset slot holds the blank FRU image, zero-padded (cmcsim's
	// tests check the image is valid IPMI FRU and what its encoder writes).
	tb, err := DecodeTable(Asset, Default(Asset))
	require.NoError(t, err)
	slot := make([]byte, FRUSize)
	copy(slot, blankFRU[:])
	for i := 0; i < NumFRUs; i++ {
		require.Equal(t, slot, tb.Fixed[i*FRUSize:(i+1)*FRUSize], "FRU slot %d", i)
	}
}
