// Package shellquote writes command lines that a POSIX shell reads back as
// the words they were made from. Every command line cmcsync prints for a
// user to run (a hint in an error, a replay line) is made here, so a flash
// spec or path holding a space, comma, quote, parenthesis or $ is one word
// to the shell and means what it meant to cmcsync.
package shellquote

import "strings"

// plain are the bytes no POSIX shell treats specially anywhere in a word
// that is not the command's first (= and , included; ~ excluded: it
// expands at a word's start).
const plain = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-+=.,:/@%"

// Quote returns s as one shell word: as it is when every byte of it is
// plain, else in single quotes, each single quote in s written as '\”.
// The empty string is ”.
func Quote(s string) string {
	if s != "" && strings.Trim(s, plain) == "" {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// Join returns words as a command line, each quoted by Quote and separated
// by one space.
func Join(words ...string) string {
	q := make([]string, len(words))
	for i, w := range words {
		q[i] = Quote(w)
	}
	return strings.Join(q, " ")
}
