package engine

import (
	"context"
	"encoding/json"
	"testing"
)

// FuzzConfigJSON: decoding a configuration from JSON never panics, and a
// valid decoded configuration encodes back to itself.
func FuzzConfigJSON(f *testing.F) {
	b, _ := json.Marshal(DefaultConfig())
	f.Add(b)
	f.Add([]byte(`{"types":["power",2],"interval":1000000000,"threshold":5}`))
	f.Add([]byte(`{"types":"x"}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		var c Config
		if json.Unmarshal(b, &c) != nil || c.Validate() != nil {
			return
		}
		out, err := json.Marshal(c)
		if err != nil {
			t.Fatal(err)
		}
		var back Config
		if err := json.Unmarshal(out, &back); err != nil || !back.Equal(c) {
			t.Fatalf("%s does not round-trip: %v", out, err)
		}
	})
}

// FuzzParseNames: the name parsers never panic and accept only names
// that print back the same.
func FuzzParseNames(f *testing.F) {
	for _, m := range Mutants() {
		f.Add(m.Name)
	}
	f.Add("keep-upgraded")
	f.Add("")
	f.Fuzz(func(t *testing.T, s string) {
		if m, err := ParseMutant(s); err == nil && s != "" && m.String() != s {
			t.Fatalf("mutant %q parses to %v", s, m)
		}
		if u, err := ParseUpgradeChoice(s); err == nil && u.String() != s {
			t.Fatalf("choice %q parses to %v", s, u)
		}
	})
}

// FuzzInspect writes fuzz bytes over a synced chip (image header, region,
// store metadata): Inspect never panics.
func FuzzInspect(f *testing.F) {
	p := newPair(f, 8<<20, 1<<20, DefaultConfig())
	e := p.open(f)
	if _, err := e.Round(context.Background()); err != nil {
		f.Fatal(err)
	}
	snap := p.chipB.Snapshot()
	l := p.opts.Layout
	f.Add(uint32(0), []byte("junk"))
	f.Add(uint32(l.InfoOff), []byte("junk"))
	f.Add(uint32(l.StoreOff+2*4096), make([]byte, 300))
	f.Fuzz(func(t *testing.T, at uint32, junk []byte) {
		p.chipB.Restore(snap)
		if len(junk) > 4096 {
			junk = junk[:4096]
		}
		off := int64(at) % (l.StoreOff + 64*4096)
		p.chipB.Poke(off, junk)
		in := Inspect(p.chipB, l, true)
		_, _ = json.Marshal(in)
	})
}
