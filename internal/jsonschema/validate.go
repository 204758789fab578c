// Package jsonschema validates JSON documents against the small subset of
// JSON Schema (draft 2020-12) that cmcsync's documented output schemas
// (docs/schema) use: type (one name or a list), properties, required,
// additionalProperties (a boolean), items, enum, minimum, and $ref to
// "#/$defs/NAME". Any other keyword is an error when the schema is
// compiled, so a schema never relies on a check this validator does not
// make.
package jsonschema

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"slices"
	"sort"
	"strings"
)

// ErrSchema is wrapped by the errors of a schema that uses what this
// validator does not check, or is malformed.
var ErrSchema = errors.New("unsupported or malformed schema")

// ErrInvalid is wrapped by the errors of a document the schema refuses.
var ErrInvalid = errors.New("document does not match the schema")

// Schema is a compiled schema.
type Schema struct {
	root map[string]any
	defs map[string]any
}

// known are the keywords Compile accepts.
var known = []string{"$schema", "$id", "$defs", "$ref", "title", "description", "type", "properties", "required", "additionalProperties", "items", "enum", "minimum"}

// Compile parses a schema and checks that it uses only the supported
// keywords.
func Compile(b []byte) (*Schema, error) {
	var root map[string]any
	if err := json.Unmarshal(b, &root); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrSchema, err)
	}
	s := &Schema{root: root}
	if d, ok := root["$defs"]; ok {
		if s.defs, ok = d.(map[string]any); !ok {
			return nil, fmt.Errorf("%w: $defs is not an object", ErrSchema)
		}
	}
	if err := s.check(root, "#"); err != nil {
		return nil, err
	}
	return s, nil
}

func (s *Schema) check(node map[string]any, at string) error {
	for k, v := range node {
		if !slices.Contains(known, k) {
			return fmt.Errorf("%w: %s: keyword %q is not supported", ErrSchema, at, k)
		}
		switch k {
		case "properties", "$defs":
			m, ok := v.(map[string]any)
			if !ok {
				return fmt.Errorf("%w: %s/%s is not an object", ErrSchema, at, k)
			}
			for name, sub := range m {
				sm, ok := sub.(map[string]any)
				if !ok {
					return fmt.Errorf("%w: %s/%s/%s is not a schema", ErrSchema, at, k, name)
				}
				if err := s.check(sm, at+"/"+k+"/"+name); err != nil {
					return err
				}
			}
		case "items":
			sm, ok := v.(map[string]any)
			if !ok {
				return fmt.Errorf("%w: %s/items is not a schema", ErrSchema, at)
			}
			if err := s.check(sm, at+"/items"); err != nil {
				return err
			}
		case "additionalProperties":
			if _, ok := v.(bool); !ok {
				return fmt.Errorf("%w: %s: additionalProperties must be true or false here", ErrSchema, at)
			}
		case "$ref":
			if _, err := s.resolve(v); err != nil {
				return fmt.Errorf("%s: %w", at, err)
			}
		}
	}
	return nil
}

func (s *Schema) resolve(ref any) (map[string]any, error) {
	r, _ := ref.(string)
	name, ok := strings.CutPrefix(r, "#/$defs/")
	if !ok {
		return nil, fmt.Errorf("%w: $ref %q: only #/$defs/NAME is supported", ErrSchema, r)
	}
	d, ok := s.defs[name].(map[string]any)
	if !ok {
		return nil, fmt.Errorf("%w: $ref %q: no such definition", ErrSchema, r)
	}
	return d, nil
}

// Validate checks the JSON document doc against the schema; the error
// names the first place that does not match, as a JSON pointer.
func (s *Schema) Validate(doc []byte) error {
	d := json.NewDecoder(bytes.NewReader(doc))
	d.UseNumber()
	var v any
	if err := d.Decode(&v); err != nil {
		return fmt.Errorf("%w: %w", ErrInvalid, err)
	}
	return s.validate(s.root, v, "")
}

func typeOf(v any) string {
	switch x := v.(type) {
	case nil:
		return "null"
	case bool:
		return "boolean"
	case string:
		return "string"
	case json.Number:
		if f, err := x.Float64(); err == nil && f == math.Trunc(f) && !strings.ContainsAny(string(x), ".eE") {
			return "integer"
		}
		return "number"
	case []any:
		return "array"
	case map[string]any:
		return "object"
	}
	return fmt.Sprintf("%T", v)
}

func (s *Schema) validate(node map[string]any, v any, at string) error {
	fail := func(format string, a ...any) error {
		where := at
		if where == "" {
			where = "/"
		}
		return fmt.Errorf("%w: %s: %s", ErrInvalid, where, fmt.Sprintf(format, a...))
	}
	if ref, ok := node["$ref"]; ok {
		d, err := s.resolve(ref)
		if err != nil {
			return err
		}
		if err := s.validate(d, v, at); err != nil {
			return err
		}
	}
	if t, ok := node["type"]; ok {
		var want []string
		switch x := t.(type) {
		case string:
			want = []string{x}
		case []any:
			for _, e := range x {
				n, _ := e.(string)
				want = append(want, n)
			}
		}
		got := typeOf(v)
		if !slices.Contains(want, got) && !(got == "integer" && slices.Contains(want, "number")) {
			return fail("%s, want %s", got, strings.Join(want, " or "))
		}
	}
	if e, ok := node["enum"].([]any); ok {
		found := false
		for _, c := range e {
			found = found || fmt.Sprint(c) == fmt.Sprint(v)
		}
		if !found {
			return fail("%v is not one of %v", v, e)
		}
	}
	if m, ok := node["minimum"].(float64); ok {
		if n, isNum := v.(json.Number); isNum {
			if f, _ := n.Float64(); f < m {
				return fail("%v is below the minimum %v", n, m)
			}
		}
	}
	if obj, ok := v.(map[string]any); ok {
		props, _ := node["properties"].(map[string]any)
		if req, ok := node["required"].([]any); ok {
			for _, r := range req {
				if _, ok := obj[r.(string)]; !ok {
					return fail("member %q is required", r)
				}
			}
		}
		keys := make([]string, 0, len(obj))
		for k := range obj {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			sub, ok := props[k].(map[string]any)
			if !ok {
				if ap, set := node["additionalProperties"].(bool); set && !ap {
					return fail("member %q is not in the schema", k)
				}
				continue
			}
			if err := s.validate(sub, obj[k], at+"/"+k); err != nil {
				return err
			}
		}
	}
	if arr, ok := v.([]any); ok {
		if items, ok := node["items"].(map[string]any); ok {
			for i, e := range arr {
				if err := s.validate(items, e, fmt.Sprintf("%s/%d", at, i)); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

// CompileFile reads and compiles the schema in the file at path.
func CompileFile(path string) (*Schema, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	s, err := Compile(b)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return s, nil
}
