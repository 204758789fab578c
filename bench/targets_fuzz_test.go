package bench

import (
	"encoding/json"
	"testing"
)

// FuzzTargetJSON: a bench report's target (value and bound under keys
// that name their unit) decodes from any bytes without a panic, and what
// decodes encodes to JSON that decodes to the same target.
func FuzzTargetJSON(f *testing.F) {
	for _, s := range []string{
		`{"id":"a","name":"latency","erase_model":"4k","gated":true,"met":false,"rows":20,"worst":7.6,"where":"mx66l1g45g/typical/4k/8MiB/scattered-1pct","unit":"seconds","detail":"","value_seconds":1.03,"bound_seconds":0.135,"status":"MISSED"}`,
		`{"id":"e","unit":"ratio","value_ratio":1.26,"bound_ratio":2}`,
		`{"id":"e","unit":"ratio","value_seconds":3,"bound_ratio":2}`,
		`{}`, `null`, `[]`, `{"value_seconds":"x"}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		var first Target
		if json.Unmarshal(b, &first) != nil {
			return
		}
		enc, err := json.Marshal(first)
		if err != nil {
			t.Fatalf("%s decoded to %+v, which does not encode: %v", b, first, err)
		}
		var back Target
		if err := json.Unmarshal(enc, &back); err != nil || back != first {
			t.Fatalf("%s decoded to %+v, encoded as %s, decoded again to %+v (%v)", b, first, enc, back, err)
		}
	})
}
