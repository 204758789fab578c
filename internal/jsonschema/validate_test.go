package jsonschema

import (
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
)

const testSchema = `{
  "type": "object",
  "required": ["name", "n"],
  "additionalProperties": false,
  "properties": {
    "name": {"type": "string", "enum": ["a", "b"]},
    "n": {"type": "integer", "minimum": 1},
    "x": {"type": ["number", "null"]},
    "list": {"type": "array", "items": {"$ref": "#/$defs/item"}}
  },
  "$defs": {"item": {"type": "object", "required": ["ok"], "properties": {"ok": {"type": "boolean"}}}}
}`

func TestValidate(t *testing.T) {
	s, err := Compile([]byte(testSchema))
	require.NoError(t, err)
	for _, tc := range []struct {
		doc, want string // want: "" valid, else a piece of the error
	}{
		{`{"name": "a", "n": 1}`, ""},
		{`{"name": "b", "n": 3, "x": 0.5, "list": [{"ok": true}, {"ok": false, "more": 1}]}`, ""},
		{`{"name": "b", "n": 3, "x": null}`, ""},
		{`{"name": "c", "n": 1}`, "/name: c is not one of"},
		{`{"name": "a"}`, `member "n" is required`},
		{`{"name": "a", "n": 0}`, "/n: 0 is below the minimum 1"},
		{`{"name": "a", "n": 1.5}`, "/n: number, want integer"},
		{`{"name": "a", "n": "1"}`, "/n: string, want integer"},
		{`{"name": "a", "n": 1, "Name": "a"}`, `member "Name" is not in the schema`},
		{`{"name": "a", "n": 1, "x": "0.5"}`, "/x: string, want number or null"},
		{`{"name": "a", "n": 1, "list": [{"ok": 1}]}`, "/list/0/ok: integer, want boolean"},
		{`{"name": "a", "n": 1, "list": [{}]}`, `/list/0: member "ok" is required`},
		{`[1]`, "/: array, want object"},
		{`{`, "document does not match"},
	} {
		err := s.Validate([]byte(tc.doc))
		if tc.want == "" {
			require.NoError(t, err, tc.doc)
			continue
		}
		require.ErrorIs(t, err, ErrInvalid, tc.doc)
		require.ErrorContains(t, err, tc.want, tc.doc)
	}
}

func TestCompileRefusesWhatItDoesNotCheck(t *testing.T) {
	for _, bad := range []string{
		`{"type": "string", "pattern": "^a"}`,
		`{"properties": {"a": {"oneOf": []}}}`,
		`{"additionalProperties": {"type": "string"}}`,
		`{"$ref": "other.json#/x"}`,
		`{"$ref": "#/$defs/missing"}`,
		`{"items": true}`,
		`not json`,
	} {
		_, err := Compile([]byte(bad))
		require.ErrorIs(t, err, ErrSchema, bad)
	}
}

// TestDocumentedSchemasCompile: every schema in docs/schema uses only
// what the validator checks.
func TestDocumentedSchemasCompile(t *testing.T) {
	files, err := filepath.Glob("../../docs/schema/*.json")
	require.NoError(t, err)
	require.NotEmpty(t, files)
	for _, f := range files {
		_, err := CompileFile(f)
		require.NoError(t, err)
	}
}
