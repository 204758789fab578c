package scenario

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/cmcsync/cmcsync/source/fwimage"
)

func TestReplacePartitions(t *testing.T) {
	dts := "\t\tspi@1e620000 {\n\t\t\tflash@0 {\n\t\t\t\tpartitions {\n\t\t\t\t\tu-boot@0 {\n\t\t\t\t\t\treg = <0x00 0xe0000>;\n\t\t\t\t\t};\n\t\t\t\t};\n\t\t\t};\n" +
		"\t\t\tflash@1 {\n\t\t\t\tpartitions {\n\t\t\t\t\tflash1@0 {\n\t\t\t\t\t\treg = <0x00 0x8000000>;\n\t\t\t\t\t};\n\t\t\t\t};\n\t\t\t};\n\t\t};\n"
	out, err := replacePartitions(dts)
	require.NoError(t, err)
	require.Equal(t, 2, strings.Count(out, `label = "cmc-info"`))
	require.Contains(t, out, "reg = <0x6a00000 0x400000>;")
	require.Contains(t, out, `label = "flash0"`)
	require.Contains(t, out, `label = "flash1"`)
	require.NotContains(t, out, "0xe0000>")
	require.Equal(t, strings.Count(out, "{"), strings.Count(out, "}"))
	_, err = replacePartitions("/ { };")
	require.ErrorContains(t, err, "no FMC node")
}

// TestCMCImages: the provisioned images carry valid uImages in u-boot and
// kernel, a formatted store the reference decoder reads, and formatting
// left every partition outside the region and the store as written.
func TestCMCImages(t *testing.T) {
	if testing.Short() {
		t.Skip("writes two 128 MiB images")
	}
	dir := t.TempDir()
	paths := []string{filepath.Join(dir, "primary.img"), filepath.Join(dir, "backup.img")}
	require.NoError(t, writeCMCImages(paths, 1))
	before, err := outsideDigests(paths[0])
	require.NoError(t, err)
	require.NoError(t, formatCMCImages(context.Background(), paths[0], paths[1], 1))
	after, err := outsideDigests(paths[0])
	require.NoError(t, err)
	require.Equal(t, before, after)
	img, err := os.ReadFile(paths[0])
	require.NoError(t, err)
	for _, name := range []string{"u-boot", "kernel"} {
		p := cmcPartNamed(name)
		id, err := fwimage.Identify(bytes.NewReader(img[p.off:p.off+p.size]), p.size)
		require.NoError(t, err, name)
		require.Equal(t, fwimage.FormatUImage, id.Format)
	}
	// The two chips carry different kernel images (same name and time,
	// other data): a failover changes the active image's identity, which
	// the engine must not take for an upgrade (engine
	// TestFailoverToAnotherImageIsNoUpgrade).
	k := cmcPartNamed("kernel")
	other, err := os.ReadFile(paths[1])
	require.NoError(t, err)
	idA, err := fwimage.Identify(bytes.NewReader(img[k.off:k.off+k.size]), k.size)
	require.NoError(t, err)
	idB, err := fwimage.Identify(bytes.NewReader(other[k.off:k.off+k.size]), k.size)
	require.NoError(t, err)
	require.Equal(t, idA.Name, idB.Name)
	require.False(t, idA.Same(idB), "kernel identities %v and %v", idA, idB)
	gen, pending, bad := decodeStore(paths[1], cmcPartNamed("cmc-store"))
	require.Empty(t, bad)
	require.False(t, pending)
	require.Zero(t, gen)
	// The check catches a write outside: one byte of rwfs.
	img[cmcPartNamed("rwfs").off+5] ^= 1
	require.NoError(t, os.WriteFile(paths[0], img, 0o644))
	changed, err := outsideDigests(paths[0])
	require.NoError(t, err)
	require.NotEqual(t, before["rwfs"], changed["rwfs"])
}
