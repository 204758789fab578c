package store

import (
	"testing"

	"github.com/stretchr/testify/require"
)

// TestCompactionAlternatesAreas checks which journal area is in charge
// after each compaction: the area whose checkpoint-begin carries the
// higher epoch, the other area still holding its older checkpoint, with
// each epoch one above the last and the committed state carried over.
func TestCompactionAlternatesAreas(t *testing.T) {
	f, s := newStore(t)
	ps := payloads{1: randomBytes(1, 9000), 2: randomBytes(2, 500)}
	runRound(t, s, 1, ps)
	for i := 1; i <= 4; i++ {
		require.NoError(t, s.Compact())
		ps[2][i] ^= 1
		runRound(t, s, uint64(i+1), ps)
		rep, err := Inspect(f, testStoreOff, testStoreSize, false)
		require.NoError(t, err, "compaction %d", i)
		require.Equal(t, i%2, rep.Journal.Area, "compaction %d", i)
		require.Equal(t, uint64(1+i), rep.Journal.Epoch, "compaction %d", i)
		require.Equal(t, uint64(i+1), rep.Generation, "compaction %d", i)
		require.Empty(t, rep.Damage, "compaction %d", i)
		require.Equal(t, "checkpoint-begin", rep.Journal.Log[0].Kind)
		require.Equal(t, testStoreOff+int64(rep.Superblock.Journal[i%2])*rep.Superblock.EraseSize, rep.Journal.Log[0].Off)
		// The other area still starts with the previous checkpoint.
		other := 1 - i%2
		cands, torn, err := openTest(t, f, Options{ReadOnly: true}).areaStartsFresh()
		require.NoError(t, err)
		require.Empty(t, torn)
		require.Equal(t, []areaStart{{area: i % 2, epoch: uint64(1 + i), seq: rep.Journal.Log[0].Seq}, {area: other, epoch: uint64(i), seq: cands[1].seq}}, cands)
		require.Less(t, cands[1].seq, cands[0].seq)
		s = openTest(t, f, Options{})
		checkPayloads(t, s, ps)
	}
}

// areaStartsFresh runs areaStarts on an opened store.
func (s *Store) areaStartsFresh() ([]areaStart, []int, error) {
	return s.areaStarts(make([]byte, s.eraseSize))
}

// TestAreasWithTheSameEpoch: when both areas' checkpoint-begins carry the
// same epoch (damage a CRC cannot see), the one with the higher sequence
// number is tried first and the tie is reported on the other candidate.
func TestAreasWithTheSameEpoch(t *testing.T) {
	// After one compaction area 1 is in charge (epoch 2); after two, area
	// 0 (epoch 3). The other area's checkpoint-begin is given that epoch.
	for _, compactions := range []int{1, 2} {
		t.Run(itoa(compactions), func(t *testing.T) {
			f, s := newStore(t)
			ps := payloads{1: randomBytes(1, 9000), 2: randomBytes(2, 500)}
			runRound(t, s, 1, ps)
			for i := range compactions {
				require.NoError(t, s.Compact())
				ps[2][i] ^= 1
				runRound(t, s, uint64(i+2), ps)
			}
			gen, epoch := uint64(compactions+1), uint64(compactions+1)
			charge := compactions % 2
			sb := s.Superblock()
			areaOff := func(a int) int64 { return testStoreOff + int64(sb.Journal[a])*sb.EraseSize }
			rewriteRecord(t, f, areaOff(1-charge), func(_, body []byte) { le.PutUint64(body, epoch) })

			s = openTest(t, f, Options{ReadOnly: true})
			findings := s.Findings()
			require.Equal(t, gen, s.State().Generation)
			checkPayloads(t, s, ps)
			cands, _, err := s.areaStartsFresh()
			require.NoError(t, err)
			require.Len(t, cands, 2)
			require.Equal(t, charge, cands[0].area, "the higher sequence number first")
			require.Equal(t, 1-charge, cands[1].area)
			require.Equal(t, []uint64{epoch, epoch}, []uint64{cands[0].epoch, cands[1].epoch})
			require.Greater(t, cands[0].seq, cands[1].seq)
			var tie []Finding
			for _, x := range findings {
				if x.Kind == CheckpointDamaged {
					tie = append(tie, x)
				}
			}
			// The finding names the second area read (area 1).
			seq1 := cands[0].seq
			if charge == 0 {
				seq1 = cands[1].seq
			}
			require.Equal(t, []Finding{{Kind: CheckpointDamaged, Area: 1, Off: areaOff(1), Seq: seq1,
				Detail: "both journal areas carry epoch " + itoa(int(epoch)) + "; the one whose checkpoint-begin has the higher sequence number is tried first"}}, tie)
		})
	}
}
