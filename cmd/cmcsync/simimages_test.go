package main

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestSimImages: per spec, the simulated image file and whether it and
// its wear file exist; specs of no file, of another backend, or that do
// not parse name none (the open reports them).
func TestSimImages(t *testing.T) {
	dir := t.TempDir()
	p := func(n string) string { return filepath.Join(dir, n) }
	require.NoError(t, os.WriteFile(p("both.img"), nil, 0o644))
	require.NoError(t, os.WriteFile(p("both.img.wear"), nil, 0o644))
	require.NoError(t, os.WriteFile(p("nowear.img"), nil, 0o644))
	const sim = testChipSpec
	for _, tc := range []struct {
		spec    string
		want    simImage
		created []string
	}{
		{spec: sim + p("both.img"), want: simImage{file: p("both.img")}},
		{spec: sim + p("nowear.img"), want: simImage{file: p("nowear.img"), wearMissing: true}, created: []string{p("nowear.img.wear")}},
		{spec: sim + p("new.img"), want: simImage{file: p("new.img"), missing: true, wearMissing: true}, created: []string{p("new.img"), p("new.img.wear")}},
		{spec: "sim:part=mx66l1g45g,size=8M"},
		{spec: "mtd:" + p("new.img")},
		{spec: "sim:part=nope,file=" + p("new.img")},
	} {
		got := simImages(tc.spec)
		require.Len(t, got, 1)
		require.Equal(t, tc.want, got[0], tc.spec)
		require.Equal(t, tc.created, got[0].created(), tc.spec)
		require.Equal(t, tc.created, newSimFiles(tc.spec), tc.spec)
	}
}
