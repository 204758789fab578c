package mutate

import (
	"errors"
	"fmt"
	"go/scanner"
	"go/token"
)

// ErrNoToken is returned when the mutant's position does not hold a token
// its mutator rewrites (the source changed since Gremlins enumerated it).
var ErrNoToken = errors.New("no mutable token at the mutant's position")

// Edit is an applied mutation: the source with the token rewritten, and
// the token before and after.
type Edit struct {
	Src      []byte
	From, To token.Token
}

// Apply rewrites the token at m's line and column in src (the content of
// m.File) by m's mutator. It fails with ErrNoToken when that position does
// not start a token the mutator rewrites; src is not modified.
func Apply(src []byte, m Mutant) (Edit, error) {
	table, ok := mutations[m.Type]
	if !ok {
		return Edit{}, fmt.Errorf("%s: unknown mutator type %q", m.ID(), m.Type)
	}
	fset := token.NewFileSet()
	file := fset.AddFile(m.File, -1, len(src))
	var s scanner.Scanner
	s.Init(file, src, nil, 0)
	for {
		pos, tok, _ := s.Scan()
		if tok == token.EOF {
			break
		}
		p := fset.Position(pos)
		if p.Line < m.Line || (p.Line == m.Line && p.Column < m.Col) {
			continue
		}
		if p.Line != m.Line || p.Column != m.Col {
			break
		}
		to, ok := table[tok]
		if !ok {
			return Edit{}, fmt.Errorf("%w: %s: found %q", ErrNoToken, m.ID(), tok)
		}
		off := file.Offset(pos)
		out := make([]byte, 0, len(src)+2)
		out = append(out, src[:off]...)
		out = append(out, to.String()...)
		out = append(out, src[off+len(tok.String()):]...)
		return Edit{Src: out, From: tok, To: to}, nil
	}
	return Edit{}, fmt.Errorf("%w: %s", ErrNoToken, m.ID())
}
