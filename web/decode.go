package web

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"reflect"
	"slices"
	"strings"
)

// Request bodies are decoded strictly, as docs/API.md ("Security") promises.
// encoding/json alone is lenient in three ways this decoder closes: it
// matches member names case-insensitively ("Interval" sets interval), it
// lets a later duplicate member overwrite an earlier one, and it names no
// member in the errors of a custom decoder such as [Duration]. So the body
// is read member by member: each name must be exactly (case included) one
// of the target struct's JSON names and appear once; each value is decoded
// on its own so that any error names its member.

// decodeObject decodes body, one JSON object and nothing after it, into the
// struct v points to. An empty body is allowed only with allowEmpty (and
// leaves v as it is). Errors about one member are [*FieldError]s naming it.
func decodeObject(body []byte, v any, allowEmpty bool) error {
	_, err := decodeMembers(body, v, allowEmpty)
	return err
}

// decodeMembers is decodeObject that also returns the member names the
// body gave.
func decodeMembers(body []byte, v any, allowEmpty bool) (map[string]bool, error) {
	seen := map[string]bool{}
	if len(bytes.TrimSpace(body)) == 0 {
		if allowEmpty {
			return seen, nil
		}
		return nil, errors.New("request body is empty: send a JSON object")
	}
	if err := decodeInto(body, v, seen); err != nil {
		return nil, err
	}
	return seen, nil
}

// decodeInto decodes the non-empty body into v, adding each member name
// to seen.
func decodeInto(body []byte, v any, seen map[string]bool) error {
	fields := jsonFields(v)
	dec := json.NewDecoder(bytes.NewReader(body))
	tok, err := dec.Token()
	if err != nil {
		return malformed(err)
	}
	if d, ok := tok.(json.Delim); !ok || d != '{' {
		return fmt.Errorf("want a JSON object, not %s", describeToken(tok))
	}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return malformed(err)
		}
		name := tok.(string) // inside an object, Token returns names as strings
		if seen[name] {
			return &FieldError{capText(name, maxNameEcho), "listed twice: send each member once"}
		}
		seen[name] = true
		field, ok := fields[name]
		if !ok {
			return unknownMember(name, fields)
		}
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return malformed(err)
		}
		if string(raw) == "null" { // encoding/json would leave the member as it was: unsaid, not null
			return &FieldError{name, fmt.Sprintf("want %s, not null (leave a member out only where docs/API.md says it is optional)", describeType(field.Type()))}
		}
		if err := checkNoDuplicateNames(raw); err != nil {
			return &FieldError{name, err.Error()}
		}
		if err := json.Unmarshal(raw, field.Addr().Interface()); err != nil {
			return &FieldError{name, describeValueError(err)}
		}
	}
	if _, err := dec.Token(); err != nil { // the closing brace
		return malformed(err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return errors.New("malformed request: extra data after the JSON object")
	}
	return nil
}

// maxNameEcho bounds a member name repeated in an error.
const maxNameEcho = 64

// jsonFields maps the JSON names of the struct v points to onto its fields.
func jsonFields(v any) map[string]reflect.Value {
	s := reflect.ValueOf(v).Elem()
	fields := map[string]reflect.Value{}
	for i := range s.NumField() {
		f := s.Type().Field(i)
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if !f.IsExported() || name == "-" {
			continue
		}
		if name == "" {
			name = f.Name
		}
		fields[name] = s.Field(i)
	}
	return fields
}

// unknownMember explains a member name the target does not have, pointing
// at the right spelling when only the case differs.
func unknownMember(name string, fields map[string]reflect.Value) error {
	known := make([]string, 0, len(fields))
	for k := range fields {
		known = append(known, k)
	}
	slices.Sort(known)
	shown := capText(name, maxNameEcho)
	for _, k := range known {
		if strings.EqualFold(k, name) {
			return &FieldError{shown, fmt.Sprintf("unknown field: names are case-sensitive, write %q", k)}
		}
	}
	if len(known) == 0 {
		return &FieldError{shown, "unknown field: send an empty object {} or no body"}
	}
	return &FieldError{shown, "unknown field (known: " + strings.Join(known, ", ") + ")"}
}

// checkNoDuplicateNames reports an object inside raw, at any depth, that
// names a member twice.
func checkNoDuplicateNames(raw []byte) error {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()             // a number beyond a float64 (1e400) is the value's decoder's to refuse, with its member's words
	var stack []map[string]bool // one set of names per open object; nil for an array
	expectName := func() bool { return len(stack) > 0 && stack[len(stack)-1] != nil }
	for {
		if expectName() && dec.More() {
			tok, err := dec.Token()
			if err != nil {
				return err
			}
			name := tok.(string)
			if stack[len(stack)-1][name] {
				return fmt.Errorf("an object inside lists %q twice: send each member once", capText(name, maxNameEcho))
			}
			stack[len(stack)-1][name] = true
		}
		tok, err := dec.Token()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
		switch tok {
		case json.Delim('{'):
			stack = append(stack, map[string]bool{})
		case json.Delim('['):
			stack = append(stack, nil)
		case json.Delim('}'), json.Delim(']'):
			stack = stack[:len(stack)-1]
		}
	}
}

// malformed explains a syntax error of a request body.
func malformed(err error) error {
	var se *json.SyntaxError
	switch {
	case errors.As(err, &se):
		return fmt.Errorf("malformed JSON at byte %d: %v", se.Offset, err)
	case errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, io.EOF):
		return errors.New("malformed JSON: the body ends too early")
	}
	return fmt.Errorf("malformed request: %v", err)
}

// describeValueError explains why one member's value was refused.
func describeValueError(err error) string {
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		return fmt.Sprintf("want %s, not %s", describeType(te.Type), capText(te.Value, maxNameEcho)) // Value holds a number's digits: up to the whole body
	}
	return err.Error()
}

// describeType names the JSON value a Go type decodes from, in the words of
// docs/API.md rather than Go's ("a list of strings", not "[]string").
func describeType(t reflect.Type) string {
	if t == nil {
		return "another JSON value"
	}
	switch k := t.Kind(); {
	case k == reflect.String:
		return "a string"
	case k == reflect.Bool:
		return "true or false"
	case isIntKind(k):
		return "a whole number"
	case isNumberKind(k):
		return "a number"
	case k == reflect.Slice || k == reflect.Array:
		return "a list of " + strings.TrimPrefix(strings.TrimPrefix(describeType(t.Elem()), "a "), "an ") + "s"
	case k == reflect.Struct || k == reflect.Map:
		return "an object"
	case k == reflect.Pointer:
		return describeType(t.Elem())
	}
	return "another JSON value"
}

func isIntKind(k reflect.Kind) bool {
	return k >= reflect.Int && k <= reflect.Uint64
}

func isNumberKind(k reflect.Kind) bool {
	return isIntKind(k) || k == reflect.Float32 || k == reflect.Float64
}

// describeToken names the kind of a JSON value's first token.
func describeToken(tok json.Token) string {
	switch t := tok.(type) {
	case json.Delim:
		if t == '[' {
			return "an array"
		}
	case string:
		return "a string"
	case float64, json.Number:
		return "a number"
	case bool:
		return "a boolean"
	case nil:
		return "null"
	}
	return fmt.Sprintf("%v", tok)
}

// decodeConfig decodes a PUT /api/config body and validates it against the
// known type names. The PUT replaces the whole configuration, so every
// member is required: a member left out would otherwise silently become
// its zero value (a client that omits verify would turn verification off).
func decodeConfig(body []byte, known []string) (Config, error) {
	var c Config
	seen, err := decodeMembers(body, &c, false)
	if err != nil {
		return Config{}, err
	}
	if !seen["types"] {
		return Config{}, &FieldError{"types", "missing: list the chosen information types (at least one)"}
	}
	for _, name := range configMembers {
		if !seen[name] {
			return Config{}, &FieldError{name, "missing: PUT /api/config replaces the whole configuration, so send every member (" + strings.Join(configMembers, ", ") + "; GET /api/config has the current ones)"}
		}
	}
	if err := c.Validate(known); err != nil {
		return Config{}, err
	}
	return c, nil
}

// configMembers are Config's JSON member names, in order: all required in
// a PUT /api/config.
var configMembers = []string{"types", "interval_seconds", "threshold_seconds", "verify", "group_size", "retry_at_once"}

// decodeSelection decodes a PUT /api/selection body.
func decodeSelection(body []byte, known []string) (Selection, error) {
	var sel Selection
	if err := decodeObject(body, &sel, false); err != nil {
		return Selection{}, err
	}
	if sel.Types == nil {
		return Selection{}, &FieldError{"types", "missing: list the chosen information types (at least one)"}
	}
	if err := validateTypes(sel.Types, known); err != nil {
		return Selection{}, err
	}
	return sel, nil
}

// decodeUpgrade decodes a POST /api/upgrade body.
func decodeUpgrade(body []byte) (UpgradeRequest, error) {
	var u UpgradeRequest
	if err := decodeObject(body, &u, false); err != nil {
		return UpgradeRequest{}, err
	}
	if !u.Choice.Valid() {
		return UpgradeRequest{}, &FieldError{"choice", fmt.Sprintf("unknown choice %q: want %q or %q", capText(string(u.Choice), maxNameEcho), KeepUpgraded, RestoreDefaults)}
	}
	return u, nil
}

// decodeEmpty decodes the body of an action that takes no arguments: none,
// or an empty object.
func decodeEmpty(body []byte) error {
	var empty struct{}
	return decodeObject(body, &empty, true)
}

// decodeInfoPut decodes a PUT /api/info/{type} body for type typ.
func decodeInfoPut(body []byte, typ string) (InfoPut, error) {
	var req InfoPutRequest
	if err := decodeObject(body, &req, false); err != nil {
		return InfoPut{}, err
	}
	if req.DataBase64 == "" && !req.AllowEmpty {
		return InfoPut{}, &FieldError{"data_base64", "missing or empty: the input in standard base64 (a SEL file, a FRU image, or a payload as info get prints it); an empty input, as an export that failed leaves it, would clear the record: to clear the event log on purpose send \"allow_empty\": true"}
	}
	if base64.StdEncoding.DecodedLen(len(req.DataBase64)) > MaxInfoBytes+2 {
		return InfoPut{}, &FieldError{"data_base64", fmt.Sprintf("the input is larger than %d bytes", MaxInfoBytes)}
	}
	data, err := base64.StdEncoding.DecodeString(req.DataBase64)
	if err != nil {
		return InfoPut{}, &FieldError{"data_base64", "not standard base64 (RFC 4648, with padding): " + err.Error()}
	}
	if len(data) > MaxInfoBytes {
		return InfoPut{}, &FieldError{"data_base64", fmt.Sprintf("the input is %d bytes, larger than %d", len(data), MaxInfoBytes)}
	}
	p := InfoPut{Type: typ, Data: data, SELLayout: req.SELLayout, AllowEmpty: req.AllowEmpty}
	switch p.SELLayout {
	case "":
		p.SELLayout = "ipmitool"
	case "ipmitool", "ipmi":
	default:
		return InfoPut{}, &FieldError{"sel_layout", fmt.Sprintf("unknown layout %q: want \"ipmitool\" or \"ipmi\"", capText(req.SELLayout, maxNameEcho))}
	}
	if req.Slot != nil {
		if *req.Slot < 0 || *req.Slot > 255 {
			return InfoPut{}, &FieldError{"slot", fmt.Sprintf("slot %d out of range (0 the chassis, 1-16 the nodes, 17-22 the PSUs)", *req.Slot)}
		}
		p.Slot = *req.Slot
	}
	return p, nil
}
