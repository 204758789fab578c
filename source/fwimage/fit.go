package fwimage

import (
	"bytes"
	"crypto/md5"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/hex"
	"fmt"
	"hash"
	"hash/crc32"
	"io"
	"time"
)

// FIT is a Flattened Image Tree (U-Boot doc/usage/fit/source_file_format.rst):
// a flattened device tree whose root holds a description, a timestamp,
// /images (one node per component: kernel, device tree, firmware, ...) and
// /configurations.
type FIT struct {
	Description string
	Timestamp   time.Time // zero when the root has no timestamp
	// Version is the first version property found: the root's, the default
	// configuration's, then its firmware image's, then its kernel image's.
	Version       string
	DefaultConfig string // "" when there is no configuration
	Images        []FITImage
	// Size is the bytes the FIT spans: the blob (totalsize) and the
	// external data of its images.
	Size  int64
	CRC32 uint32 // CRC-32 (IEEE) of Size bytes
}

// FITImage is one node of /images.
type FITImage struct {
	Name        string // the node's unit name
	Description string
	Type        string // e.g. "kernel", "flat_dt", "firmware"
	Arch        string
	OS          string
	Compression string
	Version     string
	// DataOffset and DataSize locate the image's data from the start of the
	// FIT: inside the blob (a data property) or after it (data-offset,
	// data-position).
	DataOffset int64
	DataSize   int64
	External   bool
	Hashes     []FITHash
}

// FITHash is one hash node of an image.
type FITHash struct {
	Node  string // e.g. "hash-1"
	Algo  string // e.g. "sha256"
	Value []byte
	// Checked is true when the algorithm is one ReadFIT computes (crc32,
	// md5, sha1, sha256, sha384, sha512) and the value matched.
	Checked bool
}

// hashAlgos are the hash algorithms a FIT may name that ReadFIT computes
// (U-Boot's crc32 value is the CRC big-endian).
var hashAlgos = map[string]func() hash.Hash{
	"crc32":  func() hash.Hash { return crc32.NewIEEE() },
	"md5":    md5.New,
	"sha1":   sha1.New,
	"sha256": sha256.New,
	"sha384": sha512.New384,
	"sha512": sha512.New,
}

// ReadFIT reads and checks the FIT at the start of r, whose readable size
// is size bytes (a partition's size): the FDT header and blocks, the tree
// (every token inside the structure block, names inside the strings
// block), the root's timestamp, each image's data inside size, and each
// image hash of a known algorithm; then the CRC-32 of the whole FIT. It
// reads through small buffers and keeps only property values of at most
// 4 KiB. Errors wrap [ErrNotImage] (not an FDT, or a device tree without
// /images), [ErrFormat] or [ErrChecksum], or are I/O errors of r.
func ReadFIT(r io.ReaderAt, size int64) (*FIT, error) {
	h, err := readFDTHeader(r, size)
	if err != nil {
		return nil, err
	}
	root, err := readFDT(r, h)
	if err != nil {
		return nil, err
	}
	images := root.child("images")
	if images == nil || len(images.children) == 0 {
		return nil, fmt.Errorf("%w: a flattened device tree without /images nodes (a device tree blob, not a FIT)", ErrNotImage)
	}
	fit := &FIT{Size: h.totalSize}
	if fit.Description, err = propString(root, "description"); err != nil {
		return nil, err
	}
	ts, ok, err := propU32(root, "timestamp")
	if err != nil {
		return nil, err
	}
	if ok {
		fit.Timestamp = time.Unix(int64(ts), 0).UTC()
	}
	external := (h.totalSize + 3) &^ 3 // external data follows the blob, 4-byte aligned
	for _, n := range images.children {
		img, err := fitImage(n, external, size)
		if err != nil {
			return nil, err
		}
		if img.External {
			fit.Size = max(fit.Size, img.DataOffset+img.DataSize)
		}
		if err := checkHashes(r, &img); err != nil {
			return nil, err
		}
		fit.Images = append(fit.Images, img)
	}
	if err := fit.findVersion(root); err != nil {
		return nil, err
	}
	crc := crc32.NewIEEE()
	if err := digest(r, 0, fit.Size, crc, "FIT"); err != nil {
		return nil, err
	}
	fit.CRC32 = crc.Sum32()
	return fit, nil
}

// fitImage reads an /images node; external is where external data starts
// and size the bytes available.
func fitImage(n *fdtNode, external, size int64) (FITImage, error) {
	img := FITImage{Name: n.name}
	for _, f := range []struct {
		prop string
		dst  *string
	}{
		{"description", &img.Description}, {"type", &img.Type}, {"arch", &img.Arch}, {"os", &img.OS},
		{"compression", &img.Compression}, {"version", &img.Version},
	} {
		v, err := propString(n, f.prop)
		if err != nil {
			return FITImage{}, err
		}
		*f.dst = v
	}
	dataSize, hasSize, err := propU32(n, "data-size")
	if err != nil {
		return FITImage{}, err
	}
	offset, hasOffset, err := propU32(n, "data-offset")
	if err != nil {
		return FITImage{}, err
	}
	position, hasPosition, err := propU32(n, "data-position")
	if err != nil {
		return FITImage{}, err
	}
	switch data := n.prop("data"); {
	case data != nil:
		img.DataOffset, img.DataSize = data.offset, data.size
	case (hasOffset || hasPosition) && hasSize:
		img.External, img.DataSize = true, int64(dataSize)
		img.DataOffset = external + int64(offset)
		if hasPosition {
			img.DataOffset = int64(position)
		}
	default:
		return FITImage{}, fmt.Errorf("%w: FIT image %q at 0x%x has no data (neither data nor data-offset or data-position with data-size)",
			ErrFormat, n.name, n.offset)
	}
	if end := img.DataOffset + img.DataSize; end > size {
		return FITImage{}, fmt.Errorf("%w: FIT image %q: data [0x%x, 0x%x) runs past the %d bytes available (truncated image?)",
			ErrFormat, n.name, img.DataOffset, end, size)
	}
	for _, c := range n.children {
		algo, err := propString(c, "algo")
		if err != nil {
			return FITImage{}, err
		}
		value := c.prop("value")
		if algo == "" || value == nil {
			continue // a signature node, or a hash mkimage has not filled in
		}
		img.Hashes = append(img.Hashes, FITHash{Node: c.name, Algo: algo, Value: value.value})
	}
	return img, nil
}

// checkHashes computes each hash of img whose algorithm is known and
// compares it with its value.
func checkHashes(r io.ReaderAt, img *FITImage) error {
	for i := range img.Hashes {
		hs := &img.Hashes[i]
		newHash, ok := hashAlgos[hs.Algo]
		if !ok {
			continue
		}
		h := newHash()
		if len(hs.Value) != h.Size() {
			return fmt.Errorf("%w: FIT image %q %s (%s): value is %d bytes, want %d", ErrFormat, img.Name, hs.Node, hs.Algo, len(hs.Value), h.Size())
		}
		if err := digest(r, img.DataOffset, img.DataSize, h, "FIT image "+img.Name); err != nil {
			return err
		}
		if got := h.Sum(nil); !bytes.Equal(got, hs.Value) {
			return fmt.Errorf("%w: FIT image %q %s (%s): value %s, computed %s over its %d data bytes",
				ErrChecksum, img.Name, hs.Node, hs.Algo, hex.EncodeToString(hs.Value), hex.EncodeToString(got), img.DataSize)
		}
		hs.Checked = true
	}
	return nil
}

// findVersion sets DefaultConfig and Version from the root, the default
// configuration (or the first) and its firmware and kernel images.
func (fit *FIT) findVersion(root *fdtNode) error {
	v, err := propString(root, "version")
	if err != nil {
		return err
	}
	var conf *fdtNode
	if confs := root.child("configurations"); confs != nil && len(confs.children) > 0 {
		name, err := propString(confs, "default")
		if err != nil {
			return err
		}
		if conf = confs.child(name); name == "" {
			conf = confs.children[0]
		} else if conf == nil {
			return fmt.Errorf("%w: FIT /configurations default %q names no configuration", ErrFormat, name)
		}
		fit.DefaultConfig = conf.name
	}
	if v == "" && conf != nil {
		if v, err = propString(conf, "version"); err != nil {
			return err
		}
		for _, role := range []string{"firmware", "kernel"} {
			if v != "" {
				break
			}
			name, err := propString(conf, role)
			if err != nil {
				return err
			}
			img := fit.image(name)
			if name != "" && img == nil {
				return fmt.Errorf("%w: FIT configuration %q: %s %q names no image", ErrFormat, conf.name, role, name)
			}
			if img != nil {
				v = img.Version
			}
		}
	}
	fit.Version = v
	return nil
}

func (fit *FIT) image(name string) *FITImage {
	for i := range fit.Images {
		if fit.Images[i].Name == name {
			return &fit.Images[i]
		}
	}
	return nil
}

// Identity returns the FIT's identity; without a version property, its
// version is the first version-like word of the description ([VersionIn]).
func (fit *FIT) Identity() Identity {
	v := fit.Version
	if v == "" {
		v = VersionIn(fit.Description)
	}
	return Identity{Format: FormatFIT, Name: fit.Description, Version: v, BuildTime: fit.Timestamp, Size: fit.Size, CRC32: fit.CRC32}
}
