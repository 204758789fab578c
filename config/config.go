package config

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"io/fs"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/cmcsync/cmcsync/faults"
	"github.com/cmcsync/cmcsync/hal"
	"github.com/cmcsync/cmcsync/internal/flashspec"
	"github.com/cmcsync/cmcsync/web"
)

// ErrConfig is wrapped by every error about a file's contents.
var ErrConfig = errors.New("bad configuration file")

// Setting is one key of a file, as the flag it stands for.
type Setting struct {
	Key   string // dotted path in the file, e.g. "chips.primary.device"
	Line  int    // where the key is
	Flag  string // the flag it sets, e.g. "primary"
	Value string // the value in the flag's own syntax
}

// File is a decoded configuration file.
type File struct {
	Name     string    // the path, for messages
	Settings []Setting // in file order
}

// Load reads and decodes the file at path. A file that cannot be read is
// an error wrapping ErrConfig too: the command line named it.
func Load(path string) (*File, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		var pe *fs.PathError
		if errors.As(err, &pe) {
			err = pe.Err // the path is named below, once
		}
		return nil, fmt.Errorf("%w: %s: %w (give the path of a configuration file, docs/CONFIG.md)", ErrConfig, path, err)
	}
	return Decode(path, b)
}

// Decode decodes a configuration file's contents; name is the file's path
// for messages.
func Decode(name string, data []byte) (*File, error) {
	f := &File{Name: name}
	if len(bytes.TrimSpace(data)) == 0 {
		return nil, f.errorf(1, "", "the file is empty: write one JSON object (docs/CONFIG.md)")
	}
	root, err := parseTree(data)
	if err != nil {
		return nil, fmt.Errorf("%w: %s:%w", ErrConfig, name, err)
	}
	if root.kind != '{' {
		return nil, f.errorf(root.line, "", "the file must hold one JSON object, not %s", root.kindName())
	}
	if err := f.object(root, "", schema); err != nil {
		return nil, err
	}
	return f, f.checkPair()
}

// errorf returns an error naming the file, the line and the key.
func (f *File) errorf(line int, key, format string, a ...any) error {
	msg := fmt.Sprintf(format, a...)
	if key != "" {
		msg = key + ": " + msg
	}
	return fmt.Errorf("%w: %s:%d: %s", ErrConfig, f.Name, line, msg)
}

// object decodes the fields of n against the schema s.
func (f *File) object(n *node, prefix string, s map[string]entry) error {
	for _, fl := range n.fields {
		key := prefix + fl.key
		e, ok := s[fl.key]
		if !ok {
			return f.errorf(fl.line, key, "unknown key (known here: %s)", strings.Join(keys(s), ", "))
		}
		if e.sub != nil {
			if fl.val.kind != '{' {
				return f.errorf(fl.line, key, "want an object, not %s", fl.val.kindName())
			}
			if err := f.object(fl.val, key+".", e.sub); err != nil {
				return err
			}
			continue
		}
		v, err := e.kind.decode(fl.val)
		if err != nil {
			return f.errorf(fl.line, key, "%v", err)
		}
		f.Settings = append(f.Settings, Setting{Key: key, Line: fl.line, Flag: e.flag, Value: v})
	}
	return nil
}

// checkPair refuses chips whose places differ: the engine lays both chips
// out alike.
func (f *File) checkPair() error {
	first := map[string]Setting{}
	for _, s := range f.Settings {
		if !strings.HasPrefix(s.Key, "chips.") || s.Flag == "primary" || s.Flag == "backup" {
			continue
		}
		if p, ok := first[s.Flag]; ok && p.Value != s.Value {
			return f.errorf(s.Line, s.Key, "%s differs from %s (%s, line %d): both chips of a pair use one layout", s.Value, p.Key, p.Value, p.Line)
		}
		first[s.Flag] = s
	}
	return nil
}

// Lookup returns the setting of a flag.
func (f *File) Lookup(flagName string) (Setting, bool) {
	for _, s := range f.Settings {
		if s.Flag == flagName {
			return s, true
		}
	}
	return Setting{}, false
}

// Apply sets each flag of fs the file has a setting for, unless the command
// line set it (flags override the file). Settings for flags fs does not
// define (a daemon's key read by cmcsync sync) are left out. A value the
// flag refuses is an error naming the file, line and key.
func (f *File) Apply(fs *flag.FlagSet) error {
	set := map[string]bool{}
	fs.Visit(func(fl *flag.Flag) { set[fl.Name] = true })
	for _, s := range f.Settings {
		if set[s.Flag] || fs.Lookup(s.Flag) == nil {
			continue
		}
		if err := fs.Set(s.Flag, s.Value); err != nil {
			return f.errorf(s.Line, s.Key, "%v", err)
		}
		set[s.Flag] = true // a pair's second chip repeats the layout
	}
	return nil
}

// Keys lists every key the file may hold, dotted, with the flag each
// stands for; for documentation and its test.
func Keys() map[string]string {
	out := map[string]string{}
	var walk func(prefix string, s map[string]entry)
	walk = func(prefix string, s map[string]entry) {
		for k, e := range s {
			if e.sub != nil {
				walk(prefix+k+".", e.sub)
				continue
			}
			out[prefix+k] = e.flag
		}
	}
	walk("", schema)
	return out
}

func keys(s map[string]entry) []string {
	ks := make([]string, 0, len(s))
	for k := range s {
		ks = append(ks, k)
	}
	slices.Sort(ks)
	return ks
}

// entry is one key of the schema: a value for a flag, or an object.
type entry struct {
	flag string
	kind kind
	sub  map[string]entry
}

// chipSchema is a chip's object: its device and the places of the
// information region and the store on it.
var chipSchema = func(flagName string) map[string]entry {
	return map[string]entry{
		"device": {flag: flagName, kind: kSpec},
		"info":   {sub: map[string]entry{"offset": {flag: "info-offset", kind: kSize}, "size": {flag: "info-size", kind: kSize}}},
		"store":  {sub: map[string]entry{"offset": {flag: "store-offset", kind: kSize}, "size": {flag: "store-size", kind: kSize}}},
	}
}

var schema = map[string]entry{
	"chips":     {sub: map[string]entry{"primary": {sub: chipSchema("primary")}, "backup": {sub: chipSchema("backup")}}},
	"state_dir": {flag: "state", kind: kString},
	"listen":    {flag: "listen", kind: kString},
	"tls_cert":  {flag: "tls-cert", kind: kString},
	"tls_key":   {flag: "tls-key", kind: kString},
	// The web server's connection limits (cmcsync serve; docs/API.md,
	// Connections); their range is web.CheckConnLimits's.
	"max_conns":            {flag: "max-conns", kind: kUint},
	"max_conns_per_client": {flag: "max-conns-per-client", kind: kUint},
	"cmc_step":             {flag: "cmc-step", kind: kDuration},
	"scrub_every":          {flag: "scrub-every", kind: kDuration},
	"stuck_after":          {flag: "stuck-after", kind: kDuration},
	"seed":                 {flag: "seed", kind: kUint},
	"pace":                 {flag: "pace", kind: kBool},
	"faults":               {flag: "faults", kind: kFaults},
	"select":               {flag: "select", kind: kTypes},
	// The places of the information region and the store as partition
	// names of each chip or OFF+SIZE (chipstate.Places), and the image
	// identity source.
	"info_place":   {flag: "info", kind: kString},
	"store_place":  {flag: "store", kind: kString},
	"image_id":     {flag: "image-id", kind: kString},
	"simulate_cmc": {flag: "simulate-cmc", kind: kBool},
	// The failover action (cmcsync serve) and its timeout.
	"on_failover":         {flag: "on-failover", kind: kString},
	"on_failover_timeout": {flag: "on-failover-timeout", kind: kDuration},
}

// kind is a value's syntax.
type kind int

const (
	kString kind = iota
	kDuration
	kSize
	kUint
	kBool
	kTypes
	kSpec
	kFaults
)

// decode checks a value and returns it in its flag's syntax.
func (k kind) decode(n *node) (string, error) {
	switch k {
	case kBool:
		if n.kind != 'b' {
			return "", fmt.Errorf("want true or false, not %s", n.kindName())
		}
		return strconv.FormatBool(n.b), nil
	case kUint:
		if n.kind != 'n' {
			return "", fmt.Errorf("want a number, not %s", n.kindName())
		}
		v, err := strconv.ParseUint(n.num.String(), 10, 64)
		if err != nil {
			return "", fmt.Errorf("%s is not a whole number from 0 to 2^64-1", n.num)
		}
		return strconv.FormatUint(v, 10), nil
	case kSize:
		var s string
		switch n.kind {
		case 's':
			s = n.str
		case 'n':
			s = n.num.String()
		default:
			return "", fmt.Errorf("want a size (a number of bytes, \"8M\" or \"0x800000\"), not %s", n.kindName())
		}
		v, err := ParseSize(s)
		if err != nil {
			return "", err
		}
		return strconv.FormatInt(v, 10), nil
	}
	if n.kind != 's' {
		return "", fmt.Errorf("want a string, not %s", n.kindName())
	}
	s := n.str
	if strings.TrimSpace(s) == "" {
		return "", errors.New("empty value (leave the key out for the default)")
	}
	switch k {
	case kDuration:
		d, err := time.ParseDuration(s)
		if err != nil {
			return "", fmt.Errorf("%q is not a duration such as \"30s\" or \"24h\"", s)
		}
		if d < 0 {
			return "", fmt.Errorf("duration %q is negative", s)
		}
	case kTypes:
		if _, err := ParseTypes(s); err != nil {
			var fe *web.FieldError
			if errors.As(err, &fe) {
				return "", errors.New(fe.Msg) // the key names the field
			}
			return "", err
		}
	case kSpec:
		if _, err := flashspec.Parse(s); err != nil {
			return "", err
		}
	case kFaults:
		// Parsed here, so that a schedule that does not parse is named by
		// the file, line and key, not as the --faults flag it sets.
		if _, err := faults.ParseSchedule(s); err != nil {
			return "", err
		}
	}
	return s, nil
}

// ParseSize parses a size or offset: a number of bytes with an optional K,
// M or G binary suffix (hal.ParseSize), or a hexadecimal number with 0x,
// as mtdparts and /proc/mtd write them.
func ParseSize(s string) (int64, error) {
	t := strings.TrimSpace(s)
	if h, ok := strings.CutPrefix(strings.ToLower(t), "0x"); ok {
		// Only digits: strconv takes a sign ("0x+10", "0x-0"), which no
		// mtdparts or /proc/mtd size has.
		v, err := strconv.ParseInt(h, 16, 64)
		if err != nil || v < 0 || strings.Trim(strings.ToLower(h), "0123456789abcdef") != "" {
			return 0, fmt.Errorf("size %q: not a hexadecimal number of bytes", s)
		}
		return v, nil
	}
	return hal.ParseSize(t)
}
