package main

import (
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/cmcsync/cmcsync/internal/jsonschema"
)

// requireSchema checks a --json output against its documented schema,
// docs/schema/NAME.json.
func requireSchema(t *testing.T, name, out string) {
	t.Helper()
	s, err := jsonschema.CompileFile(filepath.Join("..", "..", "docs", "schema", name+".json"))
	require.NoError(t, err)
	require.NoError(t, s.Validate([]byte(out)), "%s output:\n%s", name, out)
}

// TestOutputsMatchTheirSchemas: the --json outputs documented in
// docs/schema, from real runs.
func TestOutputsMatchTheirSchemas(t *testing.T) {
	dir, chips := pairFiles(t)
	for _, tc := range []struct {
		schema string
		args   []string
	}{
		{"version", []string{"version", "--json"}},
		{"config", append([]string{"config", "get", "--json"}, chips...)},
		{"config", append([]string{"config", "set", "--interval", "45s", "--json"}, chips...)},
		{"info-put", append([]string{"info", "put", "event-log", selFile(t, dir, 2), "--json"}, chips...)},
	} {
		out, _, err := runCLI(tc.args...)
		require.NoError(t, err, "%v", tc.args)
		requireSchema(t, tc.schema, out)
	}
	// A schema catches a wrong output: a Go field name.
	s, err := jsonschema.CompileFile(filepath.Join("..", "..", "docs", "schema", "version.json"))
	require.NoError(t, err)
	require.ErrorIs(t, s.Validate([]byte(`{"Module": "x", "version": "v", "modified": false, "go_version": "go", "os": "linux", "arch": "arm"}`)), jsonschema.ErrInvalid)
}
