package azure

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strings"
)

// maxJSON caps an API answer read as JSON.
const maxJSON = 32 << 20

// client calls one Azure DevOps' REST API with one personal access token.
type client struct {
	http  *http.Client
	in    *integration
	token string
}

func (p *Plugin) client(in *integration, token string) *client {
	return &client{http: p.http, in: in, token: token}
}

// seg escapes one path segment (a project name may hold spaces).
func seg(s string) string { return url.PathEscape(s) }

// apiError is a non-2xx answer. Its text names the method, the host and
// the route, never the query nor credentials.
type apiError struct {
	Method, Host, Path string
	Status             int
	Message            string
}

func (e *apiError) Error() string {
	msg := fmt.Sprintf("Azure DevOps %s: %s %s: %d %s", e.Host, e.Method, e.Path, e.Status, http.StatusText(e.Status))
	if e.Message != "" {
		msg += ": " + e.Message
	}
	return msg
}

func basicAuth(token string) string {
	return "Basic " + base64.StdEncoding.EncodeToString([]byte(":"+token))
}

// call sends a request to the integration's base URL plus path (escaped,
// from "/"), with api-version added to q, and decodes a 2xx JSON answer
// into out (when not nil).
func (c *client) call(ctx context.Context, method, path string, q url.Values, body, out any) error {
	fail := func(format string, args ...any) error {
		return fmt.Errorf("Azure DevOps %s: %s %s: %s", c.in.host, method, path, c.scrub(fmt.Sprintf(format, args...)))
	}
	qq := url.Values{}
	for k, v := range q {
		qq[k] = v
	}
	qq.Set("api-version", c.in.apiVersion)
	// "$" needs no escaping in a query, and Azure's documented
	// parameters ($top, $skip) read better as they are
	u := c.in.base() + path + "?" + strings.ReplaceAll(qq.Encode(), "%24", "$")
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return fail("%v", err)
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, u, rd)
	if err != nil {
		return fail("%v", err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	req.Header.Set("Accept", "application/json")
	if c.token != "" {
		req.Header.Set("Authorization", basicAuth(c.token))
	}
	resp, err := c.http.Do(req)
	if err != nil {
		// url.Error repeats the URL; keep only the cause.
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return fail("%v", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return c.errorOf(method, path, resp)
	}
	// Azure DevOps answers a request with a token it does not accept with
	// 203 and its HTML sign-in page rather than 401.
	ct, _, _ := mime.ParseMediaType(resp.Header.Get("Content-Type"))
	if resp.StatusCode == http.StatusNonAuthoritativeInfo || (out != nil && ct != "application/json") {
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, maxJSON))
		return fail("the answer (%d, %s) is not JSON: a sign-in page, so the token was not accepted", resp.StatusCode, orNone(ct))
	}
	if out == nil || resp.StatusCode == http.StatusNoContent {
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, maxJSON))
		return nil
	}
	if err := json.NewDecoder(io.LimitReader(resp.Body, maxJSON)).Decode(out); err != nil {
		return fail("reading the answer: %v", err)
	}
	return nil
}

func orNone(s string) string {
	if s == "" {
		return "no content type"
	}
	return s
}

// errorOf reads Azure's error body ({"message": …, "typeKey": …}).
func (c *client) errorOf(method, path string, resp *http.Response) error {
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
	var body struct {
		Message string `json:"message"`
	}
	msg := ""
	if json.Unmarshal(b, &body) == nil {
		msg = strings.TrimSpace(body.Message)
	}
	if len(msg) > 300 {
		msg = msg[:300] + "…"
	}
	return &apiError{Method: method, Host: c.in.host, Path: path, Status: resp.StatusCode, Message: c.scrub(msg)}
}

// scrub removes the client's token (and its Basic form) from a message, in
// case an upstream echoes it.
func (c *client) scrub(s string) string {
	if c.token == "" {
		return s
	}
	s = strings.ReplaceAll(s, basicAuth(c.token), "***")
	s = strings.ReplaceAll(s, strings.TrimPrefix(basicAuth(c.token), "Basic "), "***")
	return strings.ReplaceAll(s, c.token, "***")
}
