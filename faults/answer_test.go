package faults

import (
	"bytes"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/cmcsync/cmcsync/hal"
)

// timedClock is a fake clock that tells the time.
type timedClock struct{ fakeClock }

func (c *timedClock) Now() time.Time { return time.Unix(0, 0).Add(c.t) }

// TestAnswers: every operation's answer says when it was issued and
// returned (a delay included), whether it failed, and whether a read saw
// bytes a flip or scribble changed, and since which operation.
func TestAnswers(t *testing.T) {
	clk := &timedClock{}
	var answers []Answer
	_, p, b, _, _ := pair(t, "(seed 3) (on (at 1) (delay 2s)) (on (at 2) (fail timeout)) "+
		"(on (at 3) (scribble primary 0x100 0x140)) (on (at 5) (flip primary 0x2000 0x2001 1))",
		Options{Clock: clk, Answered: func(a Answer) { answers = append(answers, a) }})
	buf := make([]byte, 64)
	for _, off := range []int64{0, 0, 0, 0x200, 0x100, 0x2000, 0x100} {
		_, _ = p.ReadAt(buf, off) // #0..#6
	}
	require.NoError(t, b.Erase(0, 4096)) // #7
	require.Len(t, answers, 8)
	require.True(t, answers[0].Answered())
	require.Equal(t, time.Duration(0), answers[0].Duration())
	require.Equal(t, 2*time.Second, answers[1].Duration(), "the delay is part of the answer's time")
	require.True(t, answers[1].Answered(), "a slow answer is still an answer; the caller judges the time")
	require.ErrorIs(t, answers[2].Err, hal.ErrTimeout)
	require.False(t, answers[2].Answered())
	require.True(t, answers[3].Answered(), "the scribble at #3 changed bytes #3 does not read")
	require.False(t, answers[4].Answered(), "#4 reads scribbled bytes")
	require.Equal(t, Answer{Op: Op{Index: 4, DevIndex: 4, Role: Primary, Kind: Read, Off: 0x100, Len: 64},
		Start: answers[4].Start, End: answers[4].End, Corrupted: true, CorruptedAt: 3}, answers[4])
	require.True(t, answers[5].Corrupted, "a flip before the read it strikes")
	require.Equal(t, int64(5), answers[5].CorruptedAt)
	require.True(t, answers[6].Corrupted, "corruption stays until erased")
	require.Equal(t, Kind(Erase), answers[7].Op.Kind)
	spans := p.injector.Corrupted(Primary)
	require.Equal(t, Span{Off: 0x2000, Len: 1, At: 5}, spans[len(spans)-1])
	for _, sp := range spans[:len(spans)-1] {
		require.Equal(t, int64(3), sp.At, "the scribble's changes: %+v", sp)
		require.True(t, sp.Off >= 0x100 && sp.Off+sp.Len <= 0x140, "the scribble's changes lie in its range: %+v", sp)
	}
}

// TestEraseEndsCorruption: an erase through the injector ends the change a
// scribble made; reads then answer right.
func TestEraseEndsCorruption(t *testing.T) {
	var answers []Answer
	in, _, b, _, _ := pair(t, "(seed 1) (on (at 0) (scribble backup 0x1000 0x1100))", Options{Answered: func(a Answer) { answers = append(answers, a) }})
	buf := make([]byte, 16)
	_, _ = b.ReadAt(buf, 0x1000) // #0
	require.NoError(t, b.Erase(0x1000, 4096))
	_, _ = b.ReadAt(buf, 0x1000) // #2
	require.True(t, answers[0].Corrupted)
	require.False(t, answers[2].Corrupted)
	require.Empty(t, in.Corrupted(Backup))
}

// TestSilentErase: the erase reports success and leaves the block
// unchanged, or partly erased.
func TestSilentErase(t *testing.T) {
	for _, tc := range []struct {
		text    string
		partial bool
	}{{"(on erase (silent-erase unchanged))", false}, {"(seed 2) (on erase (silent-erase partial))", true}} {
		t.Run(tc.text, func(t *testing.T) {
			in, _, b, _, bm := pair(t, tc.text, Options{})
			for i := range bm.data[:4096] {
				bm.data[i] = 0
			}
			require.NoError(t, b.Erase(0, 4096), "a silent erase failure reports success")
			require.Zero(t, bm.erases, "the device never erased")
			if tc.partial {
				require.NotEqual(t, make([]byte, 4096), bm.data[:4096], "some bits went to 1")
				require.NotEqual(t, bytes.Repeat([]byte{0xff}, 4096), bm.data[:4096], "not all of them")
			} else {
				require.Equal(t, make([]byte, 4096), bm.data[:4096])
			}
			require.Len(t, in.Fired(), 1)
			require.False(t, in.PoweredOff())
			_, err := b.WriteAt([]byte{0}, 0)
			require.NoError(t, err, "a program is not an erase: it runs")
		})
	}
}

// TestWeakProgram: a weak program reads right once through the injector,
// then differently; a program over it settles it; ExpireWeak makes a
// range not yet read unstable at once.
func TestWeakProgram(t *testing.T) {
	in, _, b, _, _ := pair(t, "(seed 5) (on (and program (addr 0x0 0x100)) weak)", Options{})
	data := bytes.Repeat([]byte{0x0f}, 256)
	_, err := b.WriteAt(data, 0)
	require.NoError(t, err)
	got := make([]byte, 256)
	_, err = b.ReadAt(got, 0)
	require.NoError(t, err)
	require.Equal(t, data, got, "the first read is right")
	differ, _ := readsDiffer(t, b, 256, data, 10)
	require.True(t, differ, "later reads differ")
	requireEraseSettles(t, b, 256)

	_, err = b.WriteAt(data, 0)
	require.NoError(t, err)
	in.ExpireWeak()
	differ, _ = readsDiffer(t, b, 256, data, 10)
	require.True(t, differ, "expired: the first read already differs")
}

// TestStackedInjectors: an injector wrapped over another one's device
// pokes and tears the simulated chip below both (each phase of a run may
// have its own injector).
func TestStackedInjectors(t *testing.T) {
	s, err := ParseSchedule("(seed 1) (on (at 0) (scribble backup 0x0 0x10)) (on (at 1) (torn bits))")
	require.NoError(t, err)
	m := newMem("flash1", 64<<10)
	below := NewInjector(Schedule{}, Options{Disarmed: true})
	above := NewInjector(s, Options{})
	w := above.Wrap(below.Wrap(m, Backup), Backup)
	_, err = w.ReadAt(make([]byte, 4), 0x1000) // #0: scribble
	require.NoError(t, err)
	require.NotEqual(t, bytes.Repeat([]byte{0xff}, 16), m.data[:16])
	_, err = w.WriteAt(make([]byte, 256), 0x2000) // #1: torn
	require.ErrorIs(t, err, hal.ErrPowerLoss)
	require.NoError(t, above.Err())
	require.NotEqual(t, bytes.Repeat([]byte{0xff}, 256), m.data[0x2000:0x2100], "some bits programmed")
}

// TestMisdirect: a range written over another range of the same device;
// the bytes that changed read as corrupted, the source is left as it was,
// a range past the device's end is clipped, and the text reads back.
func TestMisdirect(t *testing.T) {
	var answers []Answer
	in, _, b, _, bm := pair(t, "(on (at 0) (misdirect backup 0x10 0x2000 4))", Options{Answered: func(a Answer) { answers = append(answers, a) }})
	copy(bm.data[0x10:], []byte{0x12, 0xff, 0x34, 0x56})
	src := bytes.Clone(bm.data[0x10:0x14])
	_, err := b.ReadAt(make([]byte, 4), 0) // #0: the misdirected write
	require.NoError(t, err)
	require.Equal(t, src, bm.data[0x2000:0x2004])
	require.Equal(t, src, bm.data[0x10:0x14])
	require.Equal(t, []Span{{Off: 0x2000, Len: 1}, {Off: 0x2002, Len: 2}}, in.Corrupted(Backup))
	_, err = b.ReadAt(make([]byte, 8), 0x1ffc) // #1
	require.NoError(t, err)
	require.True(t, answers[1].Corrupted)
	size := int64(len(bm.data))
	in, _, b, _, bm = pair(t, fmt.Sprintf("(on (at 0) (misdirect backup 0 %#x 64))", size-4), Options{})
	copy(bm.data, []byte{1, 2, 3, 4, 5, 6})
	_, err = b.ReadAt(make([]byte, 4), 0)
	require.NoError(t, err)
	require.Equal(t, []byte{1, 2, 3, 4}, bm.data[size-4:])
	require.Equal(t, []Span{{Off: size - 4, Len: 4}}, in.Corrupted(Backup))
	s, err := ParseSchedule("(on (at 3) (misdirect primary 0x100 0x200 16))")
	require.NoError(t, err)
	require.Equal(t, Misdirect{Role: Primary, From: 0x100, To: 0x200, Len: 16}, s.Rules[0].Do)
	require.Equal(t, "(misdirect primary 0x100 0x200 16)", s.Rules[0].Do.String())
	_, err = ParseSchedule("(on (at 0) (misdirect backup 0x10 0x20 0))")
	require.ErrorIs(t, err, ErrSyntax)
}

// TestCopy: a device re-imaged from the other one's dump; the bytes that
// changed read as corrupted.
func TestCopy(t *testing.T) {
	var answers []Answer
	in, p, b, pm, bm := pair(t, "(on (at 0) (copy primary backup))", Options{Answered: func(a Answer) { answers = append(answers, a) }})
	pm.data[0x10], pm.data[0x2000] = 0x12, 0x34
	_, err := p.ReadAt(make([]byte, 4), 0) // #0: the copy
	require.NoError(t, err)
	require.Equal(t, pm.data, bm.data)
	_, err = b.ReadAt(make([]byte, 32), 0) // #1
	require.NoError(t, err)
	require.True(t, answers[1].Corrupted)
	require.Equal(t, []Span{{Off: 0x10, Len: 1}, {Off: 0x2000, Len: 1}}, in.Corrupted(Backup))
	_, err = ParseSchedule("(on (at 0) (copy backup backup))")
	require.ErrorIs(t, err, ErrSyntax)
}
