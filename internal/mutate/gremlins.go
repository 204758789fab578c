package mutate

import (
	"encoding/json"
	"errors"
	"fmt"
	"go/token"
	"path"
	"sort"
)

// ErrGremlinsOutput is returned for a Gremlins output file this package
// cannot read.
var ErrGremlinsOutput = errors.New("unreadable gremlins output")

// Mutant is one mutation: the token at File:Line:Col (File relative to the
// module root, slash-separated; Col a 1-based byte column) rewritten by
// Gremlins' mutator Type.
type Mutant struct {
	File string `json:"file"`
	Line int    `json:"line"`
	Col  int    `json:"col"`
	Type string `json:"type"`
	// Covered is Gremlins' verdict from the package's own tests'
	// coverage; informative only (every sampled mutant is run).
	Covered bool `json:"covered"`
}

// ID names the mutant: file:line:col/TYPE.
func (m Mutant) ID() string { return fmt.Sprintf("%s:%d:%d/%s", m.File, m.Line, m.Col, m.Type) }

// gremlinsOutput is the part of Gremlins' -o JSON this package reads.
type gremlinsOutput struct {
	Files []struct {
		Name      string `json:"file_name"`
		Mutations []struct {
			Type   string `json:"type"`
			Status string `json:"status"`
			Line   int    `json:"line"`
			Column int    `json:"column"`
		} `json:"mutations"`
	} `json:"files"`
}

// ParseGremlins reads Gremlins' -o output for the package in pkgDir (the
// module-relative directory Gremlins ran on: its file names are relative
// to it) and returns the mutants sorted by ID.
func ParseGremlins(data []byte, pkgDir string) ([]Mutant, error) {
	var out gremlinsOutput
	if err := json.Unmarshal(data, &out); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrGremlinsOutput, err)
	}
	var ms []Mutant
	for _, f := range out.Files {
		if f.Name == "" {
			return nil, fmt.Errorf("%w: a file without a name", ErrGremlinsOutput)
		}
		for _, m := range f.Mutations {
			if _, ok := mutations[m.Type]; !ok {
				return nil, fmt.Errorf("%w: %s: unknown mutator type %q", ErrGremlinsOutput, f.Name, m.Type)
			}
			if m.Line < 1 || m.Column < 1 {
				return nil, fmt.Errorf("%w: %s: position %d:%d", ErrGremlinsOutput, f.Name, m.Line, m.Column)
			}
			ms = append(ms, Mutant{
				File: path.Join(pkgDir, f.Name), Line: m.Line, Col: m.Column, Type: m.Type,
				Covered: m.Status != "NOT COVERED",
			})
		}
	}
	sort.Slice(ms, func(i, j int) bool { return less(ms[i], ms[j]) })
	return ms, nil
}

func less(a, b Mutant) bool {
	if a.File != b.File {
		return a.File < b.File
	}
	if a.Line != b.Line {
		return a.Line < b.Line
	}
	if a.Col != b.Col {
		return a.Col < b.Col
	}
	return a.Type < b.Type
}

// mutations is Gremlins' (v0.6.0) table of token rewrites by mutator type.
var mutations = map[string]map[token.Token]token.Token{
	"ARITHMETIC_BASE": {
		token.ADD: token.SUB, token.MUL: token.QUO, token.QUO: token.MUL,
		token.REM: token.MUL, token.SUB: token.ADD,
	},
	"CONDITIONALS_BOUNDARY": {
		token.GEQ: token.GTR, token.GTR: token.GEQ, token.LEQ: token.LSS, token.LSS: token.LEQ,
	},
	"CONDITIONALS_NEGATION": {
		token.EQL: token.NEQ, token.GEQ: token.LSS, token.GTR: token.LEQ,
		token.LEQ: token.GTR, token.LSS: token.GEQ, token.NEQ: token.EQL,
	},
	"INCREMENT_DECREMENT": {token.DEC: token.INC, token.INC: token.DEC},
	"INVERT_ASSIGNMENTS": {
		token.ADD_ASSIGN: token.SUB_ASSIGN, token.MUL_ASSIGN: token.QUO_ASSIGN,
		token.QUO_ASSIGN: token.MUL_ASSIGN, token.REM_ASSIGN: token.REM_ASSIGN,
		token.SUB_ASSIGN: token.ADD_ASSIGN,
	},
	"INVERT_BITWISE": {
		token.AND: token.OR, token.OR: token.AND, token.XOR: token.AND,
		token.AND_NOT: token.AND, token.SHL: token.SHR, token.SHR: token.SHL,
	},
	"INVERT_BWASSIGN": {
		token.AND_ASSIGN: token.OR_ASSIGN, token.OR_ASSIGN: token.AND_ASSIGN,
		token.XOR_ASSIGN: token.AND_ASSIGN, token.AND_NOT_ASSIGN: token.AND_ASSIGN,
		token.SHL_ASSIGN: token.SHR_ASSIGN, token.SHR_ASSIGN: token.SHL_ASSIGN,
	},
	"INVERT_LOGICAL":   {token.LAND: token.LOR, token.LOR: token.LAND},
	"INVERT_LOOPCTRL":  {token.BREAK: token.CONTINUE, token.CONTINUE: token.BREAK},
	"INVERT_NEGATIVES": {token.SUB: token.ADD},
	"REMOVE_SELF_ASSIGNMENTS": {
		token.ADD_ASSIGN: token.ASSIGN, token.AND_ASSIGN: token.ASSIGN,
		token.AND_NOT_ASSIGN: token.ASSIGN, token.MUL_ASSIGN: token.ASSIGN,
		token.OR_ASSIGN: token.ASSIGN, token.QUO_ASSIGN: token.ASSIGN,
		token.REM_ASSIGN: token.ASSIGN, token.SHL_ASSIGN: token.ASSIGN,
		token.SHR_ASSIGN: token.ASSIGN, token.SUB_ASSIGN: token.ASSIGN,
		token.XOR_ASSIGN: token.ASSIGN,
	},
}
