package main

import (
	"fmt"
	"strings"
)

// roundFailure is the message of a command (cmd: "sync", "upgrade keep")
// whose round did not commit, "CMD: round OUTCOME: ERR", with each part
// said once: the outcome is left out when it is empty (the round never
// started) or when the error names it already ("image upgrade pending",
// not "round upgrade-pending: image upgrade pending"), and a leading
// "WORD: " of the error that the command's name says already is dropped
// ("upgrade keep: the committed ...", not "upgrade keep: upgrade: the
// committed ...").
func roundFailure(cmd, outcome string, err error) string {
	msg := err.Error()
	for word := range strings.FieldsSeq(cmd) {
		msg = strings.TrimPrefix(msg, word+": ")
	}
	head, _, _ := strings.Cut(msg, ":")
	if outcome == "" || strings.Contains(head, strings.ReplaceAll(outcome, "-", " ")) {
		return fmt.Sprintf("%s: %s", cmd, msg)
	}
	return fmt.Sprintf("%s: round %s: %s", cmd, outcome, msg)
}
