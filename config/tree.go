package config

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
)

// node is a decoded JSON value with the line it starts on.
type node struct {
	line   int
	kind   byte // '{' object, '[' array, 's' string, 'n' number, 'b' bool, '0' null
	str    string
	num    json.Number
	b      bool
	fields []field // objects, in file order
	items  []*node // arrays
}

type field struct {
	key  string
	line int
	val  *node
}

// kindName names a node's JSON type for messages.
func (n *node) kindName() string {
	switch n.kind {
	case '{':
		return "an object"
	case '[':
		return "an array"
	case 's':
		return "a string"
	case 'n':
		return "a number"
	case 'b':
		return "a boolean"
	}
	return "null"
}

// parseTree decodes data into a tree, refusing duplicate keys and anything
// after the top-level value. Errors carry the line they occur on.
func parseTree(data []byte) (*node, error) {
	p := &treeParser{data: data, dec: json.NewDecoder(bytes.NewReader(data))}
	p.dec.UseNumber()
	n, err := p.value()
	if err != nil {
		return nil, err
	}
	if _, err := p.dec.Token(); err != io.EOF {
		return nil, fmt.Errorf("%d: trailing data after the configuration object", p.line())
	}
	return n, nil
}

type treeParser struct {
	data []byte
	dec  *json.Decoder
}

// line is the line of the decoder's position (1-based).
func (p *treeParser) line() int {
	off := min(int(p.dec.InputOffset()), len(p.data))
	return 1 + bytes.Count(p.data[:off], []byte{'\n'})
}

// lineAhead is the line of the next non-space byte after the position.
func (p *treeParser) lineAhead() int {
	off := min(int(p.dec.InputOffset()), len(p.data))
	for off < len(p.data) && bytes.IndexByte([]byte(" \t\r\n,:"), p.data[off]) >= 0 {
		off++
	}
	return 1 + bytes.Count(p.data[:off], []byte{'\n'})
}

func (p *treeParser) syntax(err error) error {
	var se *json.SyntaxError
	if errors.As(err, &se) {
		off := min(int(se.Offset), len(p.data))
		return fmt.Errorf("%d: JSON syntax: %v", 1+bytes.Count(p.data[:off], []byte{'\n'}), se)
	}
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return fmt.Errorf("%d: the file ends inside the configuration object", p.line())
	}
	return fmt.Errorf("%d: %w", p.line(), err)
}

func (p *treeParser) value() (*node, error) {
	line := p.lineAhead()
	tok, err := p.dec.Token()
	if err != nil {
		return nil, p.syntax(err)
	}
	n := &node{line: line}
	switch t := tok.(type) {
	case json.Delim:
		switch t {
		case '{':
			n.kind = '{'
			seen := map[string]int{}
			for p.dec.More() {
				kline := p.lineAhead()
				kt, err := p.dec.Token()
				if err != nil {
					return nil, p.syntax(err)
				}
				key := kt.(string) // the decoder only returns strings as keys
				if first, dup := seen[key]; dup {
					return nil, fmt.Errorf("%d: key %q given twice (first on line %d)", kline, key, first)
				}
				seen[key] = kline
				v, err := p.value()
				if err != nil {
					return nil, err
				}
				n.fields = append(n.fields, field{key: key, line: kline, val: v})
			}
		case '[':
			n.kind = '['
			for p.dec.More() {
				v, err := p.value()
				if err != nil {
					return nil, err
				}
				n.items = append(n.items, v)
			}
		}
		if _, err := p.dec.Token(); err != nil { // the closing delimiter
			return nil, p.syntax(err)
		}
	case string:
		n.kind, n.str = 's', t
	case json.Number:
		n.kind, n.num = 'n', t
	case bool:
		n.kind, n.b = 'b', t
	case nil:
		n.kind = '0'
	}
	return n, nil
}
