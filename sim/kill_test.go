package sim

import (
	"bufio"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestKilledProcessLosesNothing runs a child process that programs and
// erases an image file, reports each acknowledged operation, and is killed
// (SIGKILL) without Sync or Close. Everything it acknowledged must be in
// the image and the wear file.
func TestKilledProcessLosesNothing(t *testing.T) {
	if dir := os.Getenv("SIM_KILL_CHILD"); dir != "" {
		killChild(dir)
		return
	}
	dir := t.TempDir()
	cmd := exec.Command(os.Args[0], "-test.run=^TestKilledProcessLosesNothing$")
	cmd.Env = append(os.Environ(), "SIM_KILL_CHILD="+dir)
	out, err := cmd.StdoutPipe()
	require.NoError(t, err)
	require.NoError(t, cmd.Start())
	defer func() { _ = cmd.Process.Kill(); _ = cmd.Wait() }()
	sc := bufio.NewScanner(out)
	acked := 0
	for sc.Scan() {
		if strings.HasPrefix(sc.Text(), "acked") {
			acked++
			if acked == 3 {
				break
			}
		}
	}
	require.Equal(t, 3, acked, "child did not report its operations")
	require.NoError(t, cmd.Process.Kill())
	_ = cmd.Wait()

	f := openImage(t, filepath.Join(dir, "chip.img"), norName, 256<<10)
	defer f.Close()
	got := make([]byte, 5)
	_, err = f.ReadAt(got, 100)
	require.NoError(t, err)
	require.Equal(t, "power", string(got))
	_, err = f.ReadAt(got, 8192)
	require.NoError(t, err)
	require.Equal(t, fill(5, 0xFF), got)
	require.Equal(t, int64(1), f.Wear(2))
}

// killChild is the child side: three acknowledged operations, then it
// blocks until killed.
func killChild(dir string) {
	f, err := OpenFile(filepath.Join(dir, "chip.img"), Options{Part: parts[0], Size: 256 << 10})
	if err != nil {
		panic(err)
	}
	ack := func(err error) {
		if err != nil {
			panic(err)
		}
		os.Stdout.WriteString("acked\n")
	}
	_, err = f.WriteAt([]byte("power"), 100)
	ack(err)
	_, err = f.WriteAt([]byte("lost?"), 8192)
	ack(err)
	ack(f.Erase(8192, 4096))
	time.Sleep(time.Hour) // until SIGKILL
}

func TestConcurrentUse(t *testing.T) {
	f := newChip(t, norName, 1<<20)
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			base := int64(w) * (256 << 10)
			buf := make([]byte, 512)
			for i := range 200 {
				off := base + int64(i%64)*4096
				_, err := f.WriteAt(fill(512, byte(i)), off)
				assert.NoError(t, err)
				_, err = f.ReadAt(buf, off)
				assert.NoError(t, err)
				if i%50 == 0 { // (a Restore here would undo the other workers' programs)
					_ = f.Snapshot()
					_ = f.Stats()
					_ = f.MaxWear()
					_ = f.BlockVersion(off >> 12)
				}
				if i%64 == 63 {
					assert.NoError(t, f.Erase(base, 256<<10))
				}
			}
		}()
	}
	wg.Wait()
	require.Equal(t, int64(800), f.Stats().Programs)
}
