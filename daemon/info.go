package daemon

import (
	"errors"
	"fmt"

	"github.com/cmcsync/cmcsync/source/collect"
	"github.com/cmcsync/cmcsync/sync/info"
)

// InfoPut is what PutInfo did.
type InfoPut struct {
	Changed bool   // the record was written (false: the payload was the stored one)
	Seq     uint64 // the record's sequence number after the put
	Size    int    // its payload's size
}

// PutInfo writes type t's record of the active chip's information region
// from input (collect.PutInput: a SEL file for the event log, a FRU image
// for an asset slot, a payload as info get prints it for every type), as
// a CMC service would, under the engine's round lock: it never
// interleaves with a round, and a round never sees it half written. An
// input that does not decode wraps collect.ErrInput and writes nothing.
func (d *Daemon) PutInfo(t info.Type, input []byte, o collect.Options) (InfoPut, error) {
	var res InfoPut
	err := d.engine.UpdateActiveRegion(func(r *info.Region) error {
		changed, err := collect.PutInput(r, t, input, o)
		if err != nil {
			return err
		}
		rec, err := r.Read(t)
		if err != nil {
			return fmt.Errorf("read back: %w", err)
		}
		res = InfoPut{Changed: changed, Seq: rec.Seq, Size: len(rec.Payload)}
		return nil
	})
	if errors.Is(err, collect.ErrInput) {
		return InfoPut{}, err // it names the type already: "event-log: not a SEL file ..."
	}
	if err != nil {
		return InfoPut{}, fmt.Errorf("put %v: %w", t, err)
	}
	return res, nil
}
