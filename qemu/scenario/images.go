package scenario

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/cmcsync/cmcsync/cmcsim"
	"github.com/cmcsync/cmcsync/hal"
	"github.com/cmcsync/cmcsync/sim"
	"github.com/cmcsync/cmcsync/sync/engine"
	"github.com/cmcsync/cmcsync/sync/info"
	"github.com/cmcsync/cmcsync/sync/store"
)

// prepareImages creates fresh primary and backup chip images on the host,
// formats them with the engine (firmware image, information region, store
// on each), fills the primary's information region with the CMC's content
// (cmcsim.Generator, seeded) and, if initialSync, runs one engine round on
// the host so that the backup starts at generation 1.
func prepareImages(ctx context.Context, e *env, cfg engine.Config, initialSync bool) (engine.Layout, error) {
	for _, p := range []string{e.primary, e.backup} {
		for _, f := range []string{p, p + ".wear"} {
			if err := os.Remove(f); err != nil && !errors.Is(err, os.ErrNotExist) {
				return engine.Layout{}, err
			}
		}
	}
	pf, err := openImage(e.primary, "flash0")
	if err != nil {
		return engine.Layout{}, err
	}
	defer pf.Close()
	bf, err := openImage(e.backup, "flash1")
	if err != nil {
		return engine.Layout{}, err
	}
	defer bf.Close()
	clock := sim.NewClock(time.Now())
	opts := engine.Options{Clock: clock, Config: cfg}
	l, err := engine.FormatAndFill(pf, bf, opts, cmcsim.New(e.o.Seed).Populate)
	if err != nil {
		return engine.Layout{}, fmt.Errorf("format images: %w", err)
	}
	if initialSync {
		eng, err := engine.Open(ctx, pf, bf, engine.Options{Clock: clock})
		if err != nil {
			return engine.Layout{}, err
		}
		rep, err := eng.Round(ctx)
		if err != nil {
			return engine.Layout{}, fmt.Errorf("initial sync on the host: %w", err)
		}
		e.logf("initial sync on the host: generation %d, %s written", rep.Generation, hal.FormatSize(rep.BytesWritten))
	}
	for _, f := range []*sim.Flash{pf, bf} {
		if err := f.Sync(); err != nil {
			return engine.Layout{}, err
		}
	}
	return l, nil
}

// typeData is one information type as found on an image.
type typeData struct {
	Seq    uint64 `json:"seq"`
	Size   int    `json:"size"`
	Digest string `json:"sha256"`
}

func digestOf(p []byte) string {
	s := sha256.Sum256(p)
	return hex.EncodeToString(s[:])
}

// imageState is what the host decodes from the two chip images.
type imageState struct {
	// PrimaryPrefix is the sha256 of the primary chip's image and
	// information region (everything before its store).
	PrimaryPrefix string
	// ImageErr is the primary firmware image's CRC check.
	ImageErr error
	// Primary holds the primary region's records (by type); PrimaryErr the
	// types whose record does not decode.
	Primary    map[info.Type]typeData
	PrimaryErr map[info.Type]error
	// Backup is the backup store's committed generation; BackupData its
	// payloads as read back (digest-checked); ChunkErrors the committed
	// chunks that fail their digests; Interrupted an unpurged round.
	Backup      store.State
	BackupData  map[info.Type]typeData
	ChunkErrors []store.ChunkError
	Interrupted *store.Interrupted
	Damage      []string
	// Live marks the data blocks the committed generation uses; DataOff
	// and ChunkSize place data block b at DataOff + b*ChunkSize.
	Live      map[uint32]bool
	DataOff   int64
	ChunkSize int64
	// ActiveStore is the role recorded in the newest store.
	Role store.Role
}

// readImages decodes both fuji-bmc chip images (read only).
func readImages(primary, backup string, l engine.Layout) (*imageState, error) {
	return readChipImages(norChip, norChip, primary, backup, l)
}

// readChipImages decodes two chip images (read only).
func readChipImages(pc, bc chipSpec, primary, backup string, l engine.Layout) (*imageState, error) {
	pf, err := pc.open(primary, "flash0")
	if err != nil {
		return nil, err
	}
	defer pf.Close()
	bf, err := bc.open(backup, "flash1")
	if err != nil {
		return nil, err
	}
	defer bf.Close()
	s := &imageState{Primary: map[info.Type]typeData{}, PrimaryErr: map[info.Type]error{}, BackupData: map[info.Type]typeData{}}
	h := sha256.New()
	if _, err := io.Copy(h, io.NewSectionReader(pf, 0, l.StoreOff)); err != nil {
		return nil, err
	}
	s.PrimaryPrefix = hex.EncodeToString(h.Sum(nil))
	s.ImageErr = info.VerifyImage(pf)
	region, err := info.OpenRegion(pf, l.InfoOff, l.InfoSize)
	if err != nil {
		return nil, fmt.Errorf("primary information region: %w", err)
	}
	for _, t := range info.All() {
		rec, err := region.Read(t)
		if err != nil {
			s.PrimaryErr[t] = err
			continue
		}
		s.Primary[t] = typeData{Seq: rec.Seq, Size: len(rec.Payload), Digest: digestOf(rec.Payload)}
	}
	st, err := store.Open(bf, l.StoreOff, l.StoreSize, store.Options{ReadOnly: true})
	if err != nil {
		return nil, fmt.Errorf("backup store: %w", err)
	}
	s.Backup = st.State()
	s.Role = s.Backup.Role
	s.Interrupted = st.Interrupted()
	s.Damage = st.Damage()
	s.ChunkErrors = st.VerifyChunks()
	s.DataOff, s.ChunkSize = st.BlockOffset(0), st.ChunkSize()
	s.Live = map[uint32]bool{}
	for _, ts := range s.Backup.Types {
		for _, c := range ts.Chunks {
			s.Live[c.Block] = true
		}
	}
	for _, ts := range s.Backup.Types {
		p, err := st.ReadPayload(ts.Type)
		if err != nil {
			continue // counted in ChunkErrors
		}
		s.BackupData[info.Type(ts.Type)] = typeData{Seq: ts.Seq, Size: len(p), Digest: digestOf(p)}
	}
	return s, nil
}

// compareSynced checks that every type of the backup's committed
// generation equals the primary's record (same sequence number and
// payload digest) and returns the differences.
func compareSynced(s *imageState, types []info.Type) []string {
	var diffs []string
	for _, t := range types {
		p, okP := s.Primary[t]
		b, okB := s.BackupData[t]
		switch {
		case !okP:
			diffs = append(diffs, fmt.Sprintf("%v: primary record unreadable: %v", t, s.PrimaryErr[t]))
		case !okB:
			diffs = append(diffs, fmt.Sprintf("%v: not in the backup's generation %d", t, s.Backup.Generation))
		case p.Digest != b.Digest || p.Seq != b.Seq:
			diffs = append(diffs, fmt.Sprintf("%v: backup seq %d sha256 %.12s… != primary seq %d sha256 %.12s…", t, b.Seq, b.Digest, p.Seq, p.Digest))
		}
	}
	return diffs
}

// GuestThreshold is the response-time threshold of the configuration the
// sync and powercut scenarios format: the guest runs under TCG, and on a
// host loaded with other work one MTD read there has answered in over
// 2 s (the default): a failover the host's scheduling caused, not a slow
// chip. These scenarios judge rounds that commit; failover is the
// campaign's (virtual clock) and the daemon-powercut scenario's.
const GuestThreshold = 30 * time.Second

// guestConfig is the configuration the sync and powercut scenarios
// format: the default with GuestThreshold.
func guestConfig() engine.Config {
	c := engine.DefaultConfig()
	c.Threshold = GuestThreshold
	return c
}
