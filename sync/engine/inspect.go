package engine

import (
	"github.com/cmcsync/cmcsync/hal"
	"github.com/cmcsync/cmcsync/sync/info"
	"github.com/cmcsync/cmcsync/sync/store"
)

// InfoTypeReport is one type of a chip's information region, with the
// digest a store would record for it (store.PayloadDigest), so a primary's
// information and a backup's generation compare directly.
type InfoTypeReport struct {
	Type   info.Type `json:"type"`
	Name   string    `json:"name"`
	Size   int64     `json:"size"`
	Seq    uint64    `json:"seq"`
	Digest string    `json:"digest,omitempty"`
	Error  string    `json:"error,omitempty"`
}

// Inspection is a read-only decoding of one chip: image header,
// information region and backup store. Each part that cannot be decoded
// has its error instead.
type Inspection struct {
	Device     string            `json:"device"`
	Geometry   string            `json:"geometry"`
	Layout     Layout            `json:"layout"`
	Image      *info.ImageHeader `json:"image,omitempty"`
	ImageError string            `json:"image_error,omitempty"`
	Info       []InfoTypeReport  `json:"info,omitempty"`
	// InfoError is the text of the error the information region did not
	// open with; InfoErr is that error, for errors.Is (an erased region
	// header wraps info.ErrRegionErased). Not encoded: a decoded
	// inspection has the text only.
	InfoError  string        `json:"info_error,omitempty"`
	InfoErr    error         `json:"-"`
	Store      *store.Report `json:"store,omitempty"`
	StoreError string        `json:"store_error,omitempty"`
}

// Inspect decodes f with layout l without writing anything. With verify it
// also reads and checks every committed chunk of the store.
func Inspect(f hal.Flash, l Layout, verify bool) Inspection {
	g := f.Geometry()
	in := Inspection{Device: g.Name, Geometry: g.String(), Layout: l}
	if l.ImageSize > 0 { // a real chip's layout has no cmcsync image header
		if h, err := info.ReadImageHeader(f); err != nil {
			in.ImageError = err.Error()
		} else {
			in.Image = &h
		}
	}
	if r, err := info.OpenRegion(f, l.InfoOff, l.InfoSize); err != nil {
		in.InfoError, in.InfoErr = err.Error(), err
	} else {
		for _, t := range info.All() {
			tr := InfoTypeReport{Type: t, Name: t.String()}
			rec, err := r.Read(t)
			if err != nil {
				tr.Error = err.Error()
			} else {
				off, _ := r.Extent(t)
				_, d := store.DigestPayload(rec.Payload, (off+info.RecordHeaderSize)%g.EraseSize, g.EraseSize)
				tr.Size, tr.Seq, tr.Digest = int64(len(rec.Payload)), rec.Seq, d.String()
			}
			in.Info = append(in.Info, tr)
		}
	}
	if rep, err := store.Inspect(f, l.StoreOff, l.StoreSize, verify); err != nil {
		in.StoreError = err.Error()
	} else {
		in.Store = rep
	}
	return in
}
