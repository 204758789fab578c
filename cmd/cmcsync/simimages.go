package main

import (
	"errors"
	"os"

	"github.com/cmcsync/cmcsync/internal/flashspec"
)

// simImage is what a chip spec's simulated image file is before the chip
// is opened: opening a simulated chip creates its image file erased when
// the file does not exist, and its wear file beside it.
type simImage struct {
	// file is the image file; "" for a spec that names no simulated chip
	// with file= (an MTD device, a chip in memory) or does not parse (the
	// open reports that).
	file string
	// missing: file does not exist (os.Stat says so; any other answer
	// counts as there, and the open reports it). wearMissing: neither does
	// file's wear file.
	missing, wearMissing bool
}

// simImages returns, spec by spec, its simulated image file and whether
// it and its wear file exist. It is the one place the commands look: the
// refusals of missing image files (refuseNewPair, refuseMissingImage,
// missingImage) and the list of files an open creates (newSimFiles).
func simImages(specs ...string) []simImage {
	out := make([]simImage, len(specs))
	for i, text := range specs {
		s, err := flashspec.Parse(text)
		if err != nil || s.Backend != flashspec.Sim || s.File == "" {
			continue
		}
		out[i] = simImage{file: s.File, missing: notExist(s.File), wearMissing: notExist(s.File + ".wear")}
	}
	return out
}

// created lists the files opening the chip creates: its image file and
// its wear file, those of them that do not exist yet.
func (c simImage) created() []string {
	var out []string
	if c.file != "" && c.missing {
		out = append(out, c.file)
	}
	if c.file != "" && c.wearMissing {
		out = append(out, c.file+".wear")
	}
	return out
}

func notExist(path string) bool {
	_, err := os.Stat(path)
	return errors.Is(err, os.ErrNotExist)
}

// newSimFiles lists the files that opening the simulated chips of specs
// would create: an image file that does not exist yet, and its wear file
// if that does not exist either. Specs that do not parse list nothing
// (openPair reports them).
func newSimFiles(specs ...string) []string {
	var out []string
	for _, c := range simImages(specs...) {
		out = append(out, c.created()...)
	}
	return out
}
