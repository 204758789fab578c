package campaign

import (
	"bytes"
	"errors"

	"github.com/cmcsync/cmcsync/faults/reference"
	"github.com/cmcsync/cmcsync/sync/engine"
	"github.com/cmcsync/cmcsync/sync/info"
)

// checkFailoverRestored (failover): a round that failed over (a failover
// event) and returned no error made chip B the active image with the
// newest committed generation in it: right after the round, before any
// restart, chip B's information region holds every type of the
// generation committed on its store (reference decoder, pre) with the
// committed payload, as a CMC booting from chip B would read it. Judged
// when the round was not cut, the cells read the same from read to read
// and no self-test state was made wrong.
func (w *worker) checkFailoverRestored(vs verdicts, t *trial, pre *storeView) {
	if t.roundErr != nil || t.powerLost || !w.stable || t.tamper != nil || pre == nil || pre.err != nil || pre.backup == nil {
		return
	}
	failedOver := false
	for _, ev := range t.preEvents {
		failedOver = failedOver || ev.Kind == engine.EventFailover
	}
	if !failedOver {
		return
	}
	w.quiet(func() {
		l := w.bench.layout
		region, err := info.OpenRegion(w.chips[1], l.InfoOff, l.InfoSize)
		if err != nil {
			vs.fail(Failover, "the round failed over without an error, but chip B's information region does not open: %v", err)
			return
		}
		read := map[info.Type][]byte{}
		for _, t := range pre.backup.Committed.Types {
			want, crc, err := w.payloadCRC(pre, 1, t.Type)
			if err != nil && !errors.Is(err, reference.ErrNoType) {
				return // damage on the store: not judged here
			}
			// ReadEqual returns nil exactly when Read returns a valid
			// record whose payload is want, without allocating it or
			// computing its CRC; otherwise Read judges, as it always did.
			if w.regionBuf, err = region.ReadEqual(info.Type(t.Type), want, crc, w.regionBuf); err == nil {
				read[info.Type(t.Type)] = want
				continue
			}
			rec, err := region.Read(info.Type(t.Type))
			if err != nil || !bytes.Equal(rec.Payload, want) {
				vs.fail(Failover, "the round failed over without an error, but chip B's %v record is not the committed generation %d's (read error %v)", info.Type(t.Type), pre.generation, err)
				return
			}
			read[info.Type(t.Type)] = rec.Payload
		}
		w.noteRegion(1, read)
	})
}
