package web

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// Client calls a running daemon's JSON API (docs/API.md): what cmcsync's
// commands use while cmcsync serve holds the chips.
type Client struct {
	URL   string       // e.g. "http://127.0.0.1:8080"
	Token string       // the API token (the state folder's TokenFile)
	HTTP  *http.Client // nil: a client with a 2-minute timeout (a change may wait for a round)
}

// ErrAPI is wrapped by the errors of answers other than 2xx; the error
// also wraps ErrInvalid (400, 413), ErrNoUpgrade or ErrConflict (409) and
// ErrTooManyWrites (429).
var ErrAPI = errors.New("daemon API")

func (c *Client) do(ctx context.Context, method, path string, in, out any) error {
	var body io.Reader
	change := method != http.MethodGet && method != http.MethodHead
	switch {
	case in != nil:
		b, err := json.Marshal(in)
		if err != nil {
			return err
		}
		body = bytes.NewReader(b)
	case change:
		// The server takes changes only as JSON (415 otherwise), as the
		// page sends them: an action without arguments sends {}.
		body = strings.NewReader("{}")
	}
	req, err := http.NewRequestWithContext(ctx, method, c.URL+path, body)
	if err != nil {
		return err
	}
	req.Header.Set("Accept", "application/json")
	if change {
		req.Header.Set("Content-Type", "application/json")
	}
	if c.Token != "" {
		req.Header.Set("Authorization", "Bearer "+c.Token)
	}
	hc := c.HTTP
	if hc == nil {
		hc = &http.Client{Timeout: 2 * time.Minute}
	}
	resp, err := hc.Do(req)
	if err != nil {
		return fmt.Errorf("%w: %s %s: %w", ErrAPI, method, path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 16<<20))
	if err != nil {
		return fmt.Errorf("%w: %s %s: %w", ErrAPI, method, path, err)
	}
	if resp.StatusCode/100 != 2 {
		var eb ErrorBody
		msg := string(b)
		if json.Unmarshal(b, &eb) == nil && eb.Error != "" {
			msg = eb.Error
		}
		var kind error
		switch resp.StatusCode {
		case http.StatusBadRequest, http.StatusRequestEntityTooLarge:
			kind = ErrInvalid
		case http.StatusConflict:
			kind = ErrConflict
			if eb.Error != "" && bytes.Contains(b, []byte(ErrNoUpgrade.Error())) {
				kind = ErrNoUpgrade
			}
		case http.StatusTooManyRequests:
			kind = ErrTooManyWrites
		default:
			return fmt.Errorf("%w: %s %s: %s: %s", ErrAPI, method, path, resp.Status, msg)
		}
		// The server's message starts with the kind's own words (it
		// wraps the same sentinel): say them once.
		if rest := strings.TrimPrefix(msg, kind.Error()); rest != msg {
			msg = strings.TrimPrefix(rest, ": ")
		}
		if msg == "" {
			return fmt.Errorf("%w: %s %s: %s: %w", ErrAPI, method, path, resp.Status, kind)
		}
		return fmt.Errorf("%w: %s %s: %s: %w: %s", ErrAPI, method, path, resp.Status, kind, msg)
	}
	if out != nil {
		if err := json.Unmarshal(b, out); err != nil {
			return fmt.Errorf("%w: %s %s: answer: %w", ErrAPI, method, path, err)
		}
	}
	return nil
}

// Config returns the daemon's sync configuration.
func (c *Client) Config(ctx context.Context) (Config, error) {
	var cfg Config
	return cfg, c.do(ctx, http.MethodGet, "/api/config", nil, &cfg)
}

// SetConfig stores cfg through the daemon and returns what it stored.
func (c *Client) SetConfig(ctx context.Context, cfg Config) (Config, error) {
	if err := c.do(ctx, http.MethodPut, "/api/config", cfg, nil); err != nil {
		return Config{}, err
	}
	return c.Config(ctx)
}

// Upgrade makes the upgrade choice through the daemon and returns its
// status after the round the choice ran.
func (c *Client) Upgrade(ctx context.Context, choice UpgradeChoice) (Status, error) {
	var st Status
	return st, c.do(ctx, http.MethodPost, "/api/upgrade", UpgradeRequest{Choice: choice}, &st)
}

// Failback re-seeds chip A through the daemon and makes it active again;
// a refusal wraps ErrConflict.
func (c *Client) Failback(ctx context.Context) (Failback, error) {
	var fb Failback
	return fb, c.do(ctx, http.MethodPost, "/api/failback", nil, &fb)
}

// InfoPutOptions is what Client.PutInfo sends.
type InfoPutOptions struct {
	Type       string // the information type's name
	Data       []byte // a SEL file, a FRU image for Slot, or a payload as info get prints it
	Slot       int    // asset: the slot
	SELLayout  string // "" (ipmitool), "ipmitool" or "ipmi"
	AllowEmpty bool   // an empty SEL file clears the event log (InfoPutRequest.AllowEmpty)
}

// PutInfo writes a type's record of the active chip's information region
// through the daemon; input the daemon refuses (one that does not decode,
// an empty one without AllowEmpty) wraps ErrInvalid.
func (c *Client) PutInfo(ctx context.Context, o InfoPutOptions) (InfoPutResult, error) {
	var res InfoPutResult
	req := InfoPutRequest{DataBase64: base64.StdEncoding.EncodeToString(o.Data), SELLayout: o.SELLayout, AllowEmpty: o.AllowEmpty}
	if o.Slot != 0 {
		slot := o.Slot
		req.Slot = &slot
	}
	return res, c.do(ctx, http.MethodPut, "/api/info/"+url.PathEscape(o.Type), req, &res)
}
