package history

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
)

// payloads returns n distinct payloads of about size bytes.
func payloads(n, size int) [][]byte {
	out := make([][]byte, n)
	for i := range out {
		out[i] = []byte(fmt.Sprintf("record %04d %s", i, bytes.Repeat([]byte{'x'}, size)))
	}
	return out
}

func appendAll(t *testing.T, l *Log, ps [][]byte) {
	t.Helper()
	for _, p := range ps {
		_, err := l.Append(p)
		require.NoError(t, err)
	}
}

func TestReopenKeepsRecords(t *testing.T) {
	dir := t.TempDir()
	l, loaded, err := Open(dir, Options{})
	require.NoError(t, err)
	require.Empty(t, loaded.Records)
	require.Empty(t, loaded.Damage)
	want := payloads(10, 20)
	appendAll(t, l, want)
	require.NoError(t, l.Close())

	l, loaded, err = Open(dir, Options{})
	require.NoError(t, err)
	defer l.Close()
	require.Equal(t, want, loaded.Records)
	require.Empty(t, loaded.Damage)
}

// TestTornTail cuts the last record at every byte: Open keeps the records
// before it, reports the torn tail, and records appended afterwards load.
func TestTornTail(t *testing.T) {
	ps := payloads(3, 10)
	recLen := len(encodeRecord(ps[2]))
	for cut := 1; cut < recLen; cut++ {
		t.Run(fmt.Sprint(cut), func(t *testing.T) {
			dir := t.TempDir()
			l, _, err := Open(dir, Options{})
			require.NoError(t, err)
			appendAll(t, l, ps)
			require.NoError(t, l.Close())
			path := filepath.Join(dir, CurrentFile)
			fi, err := os.Stat(path)
			require.NoError(t, err)
			require.NoError(t, os.Truncate(path, fi.Size()-int64(recLen-cut)))

			l, loaded, err := Open(dir, Options{})
			require.NoError(t, err)
			require.Equal(t, ps[:2], loaded.Records)
			require.Len(t, loaded.Damage, 1)
			require.Contains(t, loaded.Damage[0], "cut short")
			appendAll(t, l, [][]byte{[]byte("after")})
			require.NoError(t, l.Close())

			_, loaded, err = Open(dir, Options{})
			require.NoError(t, err)
			require.Equal(t, append(ps[:2:2], []byte("after")), loaded.Records)
			require.Empty(t, loaded.Damage, "the torn tail was cut off")
		})
	}
}

func TestDamage(t *testing.T) {
	tests := []struct {
		name   string
		damage func(data []byte) []byte
		keep   int    // records still loaded
		says   string // in Loaded.Damage
	}{
		{"flipped payload bit", func(d []byte) []byte { d[len(d)-3] ^= 0x10; return d }, 2, "CRC"},
		{"flipped CRC bit", func(d []byte) []byte { d[len(Magic)+4] ^= 1; return d }, 0, "CRC"},
		{"zero length", func(d []byte) []byte { copy(d[len(Magic):], []byte{0, 0, 0, 0}); return d }, 0, "impossible record length 0"},
		{"huge length", func(d []byte) []byte { copy(d[len(Magic):], []byte{0xff, 0xff, 0xff, 0x7f}); return d }, 0, "impossible record length"},
		{"garbage appended", func(d []byte) []byte { return append(d, 1, 0, 0, 0, 9, 9, 9, 9, 0) }, 3, "CRC"},
		{"not a segment", func(d []byte) []byte { d[0] = 'X'; return d }, 0, "not a history segment"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			l, _, err := Open(dir, Options{})
			require.NoError(t, err)
			ps := payloads(3, 10)
			appendAll(t, l, ps)
			require.NoError(t, l.Close())
			path := filepath.Join(dir, CurrentFile)
			data, err := os.ReadFile(path)
			require.NoError(t, err)
			require.NoError(t, os.WriteFile(path, tt.damage(data), 0o600))

			l, loaded, err := Open(dir, Options{})
			require.NoError(t, err)
			defer l.Close()
			require.Len(t, loaded.Records, tt.keep)
			for i, r := range loaded.Records {
				require.Equal(t, ps[i], r)
			}
			require.Len(t, loaded.Damage, 1)
			require.Contains(t, loaded.Damage[0], tt.says)
		})
	}
}

// TestRotationBound appends far more than two segments hold: the files
// never exceed 2 × MaxBytes, and what loads is the newest records, in
// order, with no gap.
func TestRotationBound(t *testing.T) {
	dir := t.TempDir()
	const maxBytes = 1024
	l, _, err := Open(dir, Options{MaxBytes: maxBytes})
	require.NoError(t, err)
	ps := payloads(500, 30)
	rotations := 0
	for _, p := range ps {
		rotated, err := l.Append(p)
		require.NoError(t, err)
		if rotated {
			rotations++
		}
		var total int64
		for _, name := range []string{CurrentFile, PreviousFile} {
			if fi, err := os.Stat(filepath.Join(dir, name)); err == nil {
				require.LessOrEqual(t, fi.Size(), int64(maxBytes), name)
				total += fi.Size()
			}
		}
		require.LessOrEqual(t, total, int64(2*maxBytes))
	}
	require.Greater(t, rotations, 10)
	require.NoError(t, l.Close())

	_, loaded, err := Open(dir, Options{MaxBytes: maxBytes})
	require.NoError(t, err)
	require.Empty(t, loaded.Damage)
	n := len(loaded.Records)
	require.Greater(t, n, maxBytes/len(encodeRecord(ps[0])), "at least one full segment is kept")
	require.Equal(t, ps[len(ps)-n:], loaded.Records, "the newest records, in order, without a gap")
}

func TestAppendRefusesTooLarge(t *testing.T) {
	l, _, err := Open(t.TempDir(), Options{MaxBytes: 100})
	require.NoError(t, err)
	defer l.Close()
	for _, p := range [][]byte{nil, make([]byte, 100), make([]byte, MaxRecord+1)} {
		_, err := l.Append(p)
		require.ErrorIs(t, err, ErrTooLarge)
	}
	_, err = l.Append([]byte("fits"))
	require.NoError(t, err)
}

func TestOpenRefusesTinySegments(t *testing.T) {
	_, _, err := Open(t.TempDir(), Options{MaxBytes: 10})
	require.ErrorContains(t, err, "holds no record")
}

func TestClosedLog(t *testing.T) {
	l, _, err := Open(t.TempDir(), Options{})
	require.NoError(t, err)
	require.NoError(t, l.Close())
	require.NoError(t, l.Close(), "closing twice is harmless")
	_, err = l.Append([]byte("late"))
	require.ErrorContains(t, err, "closed")
	require.ErrorContains(t, l.Sync(), "closed")
}
