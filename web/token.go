package web

import (
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// TokenFile is the name of the API token file in the state folder.
const TokenFile = "api-token"

// minTokenLen is the shortest token LoadOrCreateToken accepts from a file.
const minTokenLen = 16

// LoadOrCreateToken returns the API token kept in dir/api-token. On first
// use it creates a random 256-bit token (crypto/rand, base64url) in a file
// of mode 0600 and reports created = true, so the caller prints it once.
//
// An existing token file that others can read (group or world permission
// bits) is refused with a hint, as is one that is empty or too short.
func LoadOrCreateToken(dir string) (token string, created bool, err error) {
	path := filepath.Join(dir, TokenFile)
	fi, err := os.Stat(path)
	switch {
	case err == nil:
		if fi.Mode().Perm()&0o077 != 0 {
			return "", false, fmt.Errorf("token file %s has mode %v: others could read it (run: chmod 600 %s)", path, fi.Mode().Perm(), path)
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return "", false, fmt.Errorf("read token: %w", err)
		}
		token = strings.TrimSpace(string(b))
		if len(token) < minTokenLen || strings.ContainsAny(token, " \t\r\n") {
			return "", false, fmt.Errorf("token file %s holds no valid token (delete it to make a new one)", path)
		}
		return token, false, nil
	case errors.Is(err, fs.ErrNotExist):
	default:
		return "", false, fmt.Errorf("token: %w", err)
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return "", false, fmt.Errorf("token: %w", err)
	}
	var raw [32]byte
	if _, err := rand.Read(raw[:]); err != nil {
		return "", false, fmt.Errorf("token: %w", err)
	}
	token = base64.RawURLEncoding.EncodeToString(raw[:])
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return "", false, fmt.Errorf("create token: %w", err)
	}
	if _, err := f.WriteString(token + "\n"); err != nil {
		f.Close()
		os.Remove(path)
		return "", false, fmt.Errorf("write token: %w", err)
	}
	if err := f.Sync(); err != nil {
		f.Close()
		os.Remove(path)
		return "", false, fmt.Errorf("write token: %w", err)
	}
	if err := f.Close(); err != nil {
		os.Remove(path)
		return "", false, fmt.Errorf("write token: %w", err)
	}
	return token, true, nil
}
