package gitlab

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"

	"github.com/greenroom-dev/greenroom/plugins"
)

// maxJSON caps an API answer read as JSON; maxBody caps a file or archive.
const (
	maxJSON = 32 << 20
	maxBody = 100 << 20
)

// client calls one GitLab's REST API (v4) with one credential.
type client struct {
	http  *http.Client
	api   string // apiBaseUrl, no trailing slash
	host  string // for messages
	token string
	// bearer sends the token as "Authorization: Bearer" (an action's
	// token input, as Backstage's gitbeaker oauthToken); otherwise it is
	// the integration token, sent as PRIVATE-TOKEN.
	bearer bool
}

func (p *Plugin) client(in *integration) *client {
	return &client{http: p.http, api: in.apiBase, host: in.host, token: in.token}
}

// enc encodes a project path, a file path or a branch as one path segment
// (group/sub/proj → group%2Fsub%2Fproj), as GitLab's routes take them.
func enc(s string) string { return url.PathEscape(s) }

// apiError is a non-2xx answer. Its text names the method, the host and
// the route, never the query (which could hold a token) nor credentials.
type apiError struct {
	Method, Host, Path string
	Status             int
	Message            string
}

func (e *apiError) Error() string {
	msg := fmt.Sprintf("GitLab %s: %s %s: %d %s", e.Host, e.Method, e.Path, e.Status, http.StatusText(e.Status))
	if e.Message != "" {
		msg += ": " + e.Message
	}
	return msg
}

func statusOf(err error) int {
	var ae *apiError
	if errors.As(err, &ae) {
		return ae.Status
	}
	return 0
}

// do sends one request and returns the open response whatever its status.
// path is already escaped ("/projects/g%2Fr"); body, when not nil, is sent
// as JSON.
func (c *client) do(ctx context.Context, method, path string, q url.Values, body any, hdr http.Header) (*http.Response, error) {
	u := c.api + path
	if len(q) > 0 {
		u += "?" + q.Encode()
	}
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return nil, fmt.Errorf("GitLab %s: %s %s: %v", c.host, method, path, err)
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, u, rd)
	if err != nil {
		return nil, fmt.Errorf("GitLab %s: %s %s: %v", c.host, method, path, err)
	}
	for k, vs := range hdr {
		for _, v := range vs {
			req.Header.Add(k, v)
		}
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	req.Header.Set("Accept", "application/json")
	if c.token != "" {
		if c.bearer {
			req.Header.Set("Authorization", "Bearer "+c.token)
		} else {
			req.Header.Set("PRIVATE-TOKEN", c.token)
		}
	}
	resp, err := c.http.Do(req)
	if err != nil {
		// url.Error repeats the URL (with its query); keep only the cause.
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return nil, fmt.Errorf("GitLab %s: %s %s: %s", c.host, method, path, c.scrub(err.Error()))
	}
	return resp, nil
}

// call sends a request and decodes a 2xx JSON answer into out (when not
// nil); any other status is an *apiError.
func (c *client) call(ctx context.Context, method, path string, q url.Values, body, out any) (http.Header, error) {
	resp, err := c.do(ctx, method, path, q, body, nil)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return resp.Header, c.errorOf(method, path, resp)
	}
	if out == nil || method == http.MethodHead || resp.StatusCode == http.StatusNoContent {
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, maxJSON))
		return resp.Header, nil
	}
	if err := json.NewDecoder(io.LimitReader(resp.Body, maxJSON)).Decode(out); err != nil {
		return resp.Header, fmt.Errorf("GitLab %s: %s %s: reading the answer: %v", c.host, method, path, err)
	}
	return resp.Header, nil
}

func (c *client) get(ctx context.Context, path string, q url.Values, out any) (http.Header, error) {
	return c.call(ctx, http.MethodGet, path, q, nil, out)
}

func (c *client) post(ctx context.Context, path string, body, out any) error {
	_, err := c.call(ctx, http.MethodPost, path, nil, body, out)
	return err
}

// errorOf reads GitLab's error body ({"message": …} or {"error": …}) into
// an *apiError.
func (c *client) errorOf(method, path string, resp *http.Response) error {
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
	var body struct {
		Message any    `json:"message"`
		Error   string `json:"error"`
		Desc    string `json:"error_description"`
	}
	msg := ""
	if json.Unmarshal(b, &body) == nil {
		switch m := body.Message.(type) {
		case string:
			msg = m
		case nil:
		default:
			if j, err := json.Marshal(m); err == nil {
				msg = string(j)
			}
		}
		if msg == "" {
			msg = strings.TrimSpace(body.Error + " " + body.Desc)
		}
	}
	return &apiError{Method: method, Host: c.host, Path: path, Status: resp.StatusCode, Message: plugins.UpstreamMessage(msg, 300, c.token)}
}

// scrub removes the client's token from a message, in case an upstream
// echoes it.
func (c *client) scrub(s string) string { return plugins.Scrub(s, c.token) }
