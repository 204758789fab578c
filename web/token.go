package web

import (
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/cmcsync/cmcsync/internal/atomicfile"
)

// TokenFile is the name of the API token file in the state folder.
const TokenFile = "api-token"

// TokenLen is the length of a token LoadOrCreateToken generates (32 random
// bytes in unpadded base64url); a token file holding a shorter one is
// refused.
const TokenLen = 43

// minTokenLen is the shortest Options.Token New accepts.
const minTokenLen = 16

// maxTokenFileBytes bounds what LoadOrCreateToken reads from a token file.
const maxTokenFileBytes = 4 << 10

// Sentinel errors of LoadOrCreateToken and CheckStateDir.
var (
	// ErrUnsafeStateDir means the state folder could be changed by another
	// user: its token file (and the simulated chips' images) could be
	// replaced.
	ErrUnsafeStateDir = errors.New("unsafe state folder")
	// ErrUnsafeTokenFile means the token file could be read or replaced by
	// another user, or holds no usable token.
	ErrUnsafeTokenFile = errors.New("unsafe token file")
)

// CheckStateDir refuses a state folder that another user could change: it
// must be a folder (a symbolic link to one is followed) owned by the user
// running the server, with no write permission for group or others. The
// daemon calls it before it keeps anything in dir; LoadOrCreateToken calls
// it too.
func CheckStateDir(dir string) error {
	fi, err := os.Stat(dir)
	if err != nil {
		return fmt.Errorf("state folder: %w", err)
	}
	if !fi.IsDir() {
		return fmt.Errorf("%w: %s is not a folder (give a folder of your own)", ErrUnsafeStateDir, dir)
	}
	return checkPrivate(ErrUnsafeStateDir, dir, fi, 0o022, os.Geteuid(), "chmod go-w "+dir)
}

// checkPrivate refuses fi (of path) when it is owned by another user than
// uid (where the platform tells owners) or has any of the forbidden
// permission bits; fix is the command that clears them.
func checkPrivate(kind error, path string, fi fs.FileInfo, forbidden fs.FileMode, uid int, fix string) error {
	if owner, known := fileOwner(fi); known && owner != uid {
		return fmt.Errorf("%w: %s belongs to user id %d, not to the user running the server (%d), who must own it alone (run the server as its owner, or use a state folder of your own)", kind, path, owner, uid)
	}
	if m := fi.Mode().Perm(); m&forbidden != 0 {
		return fmt.Errorf("%w: %s has mode %v: other users could change or read it (run: %s)", kind, path, m, fix)
	}
	return nil
}

// LoadOrCreateToken returns the API token kept in dir/api-token, creating
// dir (mode 0700) if needed. On first use it creates a random 256-bit token
// (crypto/rand, base64url, TokenLen characters) in a file of mode 0600 and
// reports created = true, so the caller prints it once.
//
// It refuses, with a hint, a state folder that fails CheckStateDir and a
// token file that is not a regular file (a symbolic link is not followed),
// belongs to another user, has any group or other permission bit, or holds
// a token shorter than TokenLen or with spaces or control characters. A
// private token file of 0 bytes (a creation cut by a power cut, by an older
// version that wrote it in place) is replaced by a new token (created).
func LoadOrCreateToken(dir string) (token string, created bool, err error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return "", false, fmt.Errorf("token: %w", err)
	}
	if err := CheckStateDir(dir); err != nil {
		return "", false, err
	}
	path := filepath.Join(dir, TokenFile)
	token, err = readTokenFile(path)
	switch {
	case err == nil:
		return token, false, nil
	case errors.Is(err, errEmptyToken):
		// A creation cut before its data reached the disk (by a
		// version that wrote the file in place): no client has it.
	case !errors.Is(err, fs.ErrNotExist):
		return "", false, err
	}
	atomicfile.RemoveTemps(path) // of a creation killed before its rename
	token, err = createTokenFile(path)
	if err != nil {
		return "", false, err
	}
	return token, true, nil
}

// readTokenFile reads and checks an existing token file. A missing one is
// an error wrapping fs.ErrNotExist.
func readTokenFile(path string) (string, error) {
	remedy := "delete it and a new token is made, which every client then needs"
	f, err := openNoFollow(path)
	if errors.Is(err, errSymlink) {
		return "", fmt.Errorf("%w: %s is a symbolic link, which is not followed (%s)", ErrUnsafeTokenFile, path, remedy)
	}
	if err != nil {
		return "", fmt.Errorf("token: %w", err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return "", fmt.Errorf("token: %w", err)
	}
	if !fi.Mode().IsRegular() {
		return "", fmt.Errorf("%w: %s is not a regular file but %v (%s)", ErrUnsafeTokenFile, path, fi.Mode().Type(), remedy)
	}
	if err := checkPrivate(ErrUnsafeTokenFile, path, fi, 0o077, os.Geteuid(), "chmod 600 "+path); err != nil {
		return "", err
	}
	if fi.Size() == 0 {
		return "", errEmptyToken
	}
	b, err := io.ReadAll(io.LimitReader(f, maxTokenFileBytes+1))
	if err != nil {
		return "", fmt.Errorf("read token: %w", err)
	}
	token := strings.TrimSpace(string(b))
	if len(b) > maxTokenFileBytes || len(token) < TokenLen || strings.IndexFunc(token, func(r rune) bool { return r <= ' ' || r > '~' }) >= 0 {
		return "", fmt.Errorf("%w: %s holds no valid token: want one line of at least %d printable characters without spaces (%s)", ErrUnsafeTokenFile, path, TokenLen, remedy)
	}
	return token, nil
}

// errEmptyToken is readTokenFile's error for a private, regular token
// file of 0 bytes, which LoadOrCreateToken replaces.
var errEmptyToken = errors.New("token: the token file is empty")

// createTokenFile writes a new random token to path atomically
// (internal/atomicfile: a temporary file in the folder, fsynced, renamed
// to path, the folder fsynced), so a kill or a power cut leaves no token
// file or a whole one. A symbolic link at path is replaced, never
// followed.
func createTokenFile(path string) (string, error) {
	var raw [32]byte
	if _, err := rand.Read(raw[:]); err != nil {
		return "", fmt.Errorf("token: %w", err)
	}
	token := base64.RawURLEncoding.EncodeToString(raw[:])
	if err := atomicfile.WriteFile(path, []byte(token+"\n"), 0o600); err != nil {
		return "", fmt.Errorf("write token: %w", err)
	}
	return token, nil
}
