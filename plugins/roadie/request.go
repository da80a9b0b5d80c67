package roadie

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/greenroom-dev/greenroom/plugins"
	"github.com/greenroom-dev/greenroom/scaffolder/action"
	"github.com/greenroom-dev/greenroom/scaffolder/expr"
)

const (
	defaultRequestTimeout = 60 * time.Second
	maxResponseBytes      = 10 << 20
	maxLoggedBody         = 2000
	maxRedirects          = 10
	// tokenSecret is the task secret Roadie's action falls back to when
	// it has no auth service: the user's Backstage token.
	tokenSecret = "backstageToken"
)

// requestMethods are the methods Roadie's schema allows (UPDATE is not an
// HTTP method, but Roadie lets it through, and so does this).
var requestMethods = []any{"GET", "HEAD", "OPTIONS", "POST", "UPDATE", "DELETE", "PUT", "PATCH"}

// dryRunSafe are the methods sent in a dry run; the others are skipped.
var dryRunSafe = map[string]bool{"GET": true, "HEAD": true, "OPTIONS": true}

// ---- http:backstage:request

type backstageRequest struct{ p *Plugin }

func (backstageRequest) ID() string { return "http:backstage:request" }
func (backstageRequest) Description() string {
	return "Sends a HTTP request to the Backstage API. It uses the token of the user who triggers the task to authenticate requests."
}
func (backstageRequest) Schema() (map[string]any, map[string]any) {
	method := action.TypeSchema("string", "Method", "The method type of the request")
	method["enum"] = requestMethods
	timeout := action.TypeSchema("number", "Timeout", "Timeout for the request (milliseconds)")
	timeout["default"] = 60000
	return action.ObjectSchema([]string{"path", "method"}, map[string]any{
			"path":                  action.TypeSchema("string", "Request path", "The url path you want to query: /api/<plugin>/… or, as Roadie writes it, /<plugin>/…"),
			"method":                method,
			"headers":               action.TypeSchema("object", "Request headers", "The headers you would like to pass to your request"),
			"params":                action.TypeSchema("object", "Request query params", "The query parameters you would like to pass to your request"),
			"body":                  action.TypeSchema("", "Request body", "The body you would like to pass to your request"),
			"logRequestPath":        action.TypeSchema("boolean", "Log request path", "Option to turn request path logging off. On by default"),
			"continueOnBadResponse": action.TypeSchema("boolean", "Continue on bad response", "Return response code and body and continue to next scaffolder step if the response status is not 2xx. By default the step fails."),
			"timeout":               timeout,
		}), action.ObjectSchema(nil, map[string]any{
			"code":    action.TypeSchema("number", "Response code", "The response code of the request"),
			"headers": action.TypeSchema("object", "Response headers", "The headers of the response"),
			"body":    action.TypeSchema("", "Response body", "The body of the response"),
		})
}

// SupportsDryRun: GET, HEAD and OPTIONS are sent in a dry run, as
// Roadie's action sends them; other methods are skipped with a log line.
func (backstageRequest) SupportsDryRun() bool { return true }

func (a backstageRequest) Run(c *action.Context) error {
	method, err := requiredString(c.Input, "method", false)
	if err != nil {
		return err
	}
	method = strings.ToUpper(method)
	known := false
	for _, m := range requestMethods {
		known = known || m == method
	}
	if !known {
		return fmt.Errorf("input \"method\" must be one of GET, HEAD, OPTIONS, POST, UPDATE, DELETE, PUT, PATCH, got %q", method)
	}
	rawPath, err := requiredString(c.Input, "path", false)
	if err != nil {
		return err
	}
	logPath := true
	if v, ok := c.Input["logRequestPath"]; ok && v != nil && !expr.IsUndefined(v) {
		if logPath, err = action.BoolInput(c.Input, "logRequestPath"); err != nil {
			return err
		}
	}
	// where a path is named in logs and errors: the path as written (its
	// query may hold anything), or nothing when logRequestPath is off
	shown := func() string {
		if !logPath {
			return ""
		}
		p, _, _ := strings.Cut(rawPath, "?")
		return " " + p
	}
	continueBad, err := action.BoolInput(c.Input, "continueOnBadResponse")
	if err != nil {
		return err
	}
	params, err := action.MapInput(c.Input, "params")
	if err != nil {
		return err
	}
	paramObj, _ := normalize(c.Input["params"]).(*expr.Object)
	if params == nil {
		paramObj = nil
	}
	hdrs, err := action.MapInput(c.Input, "headers")
	if err != nil {
		return err
	}
	hdrObj, _ := normalize(c.Input["headers"]).(*expr.Object)
	if hdrs == nil {
		hdrObj = nil
	}
	timeout := defaultRequestTimeout
	if n, ok, err := action.NumberInput(c.Input, "timeout"); err != nil {
		return err
	} else if ok {
		if n <= 0 {
			return fmt.Errorf("input \"timeout\" must be a positive number of milliseconds, got %s", jsNumber(n))
		}
		timeout = time.Duration(n * float64(time.Millisecond))
	}

	target, err := a.p.requestURL(rawPath, paramObj)
	if err != nil {
		return err
	}

	header := http.Header{}
	if hdrObj != nil {
		for _, k := range hdrObj.Keys() {
			v, _ := hdrObj.Get(k)
			if !validHeaderName(k) {
				return fmt.Errorf("input \"headers\": %q is not a valid header name", k)
			}
			s := jsString(v)
			if strings.ContainsAny(s, "\r\n\x00") {
				return fmt.Errorf("input \"headers\": the value of %q holds a line break", k)
			}
			header.Set(k, s)
		}
	}
	var body io.Reader
	if v, ok := c.Input["body"]; ok && v != nil && !expr.IsUndefined(v) {
		s, isString := v.(string)
		if !isString {
			// Roadie stringifies an object body when the content-type is
			// application/json; any other way fetch would send
			// "[object Object]", so JSON is sent then too
			s = stringifyJSON(normalize(v), "", nil)
		}
		if method == "GET" || method == "HEAD" {
			return fmt.Errorf("a %s request can not have a body", method)
		}
		body = strings.NewReader(s)
	}
	token := c.Secrets[tokenSecret]
	if token != "" && header.Get("Authorization") == "" {
		c.Logf("Token is defined. Setting authorization header.")
		header.Set("Authorization", "Bearer "+token)
	}

	if logPath {
		c.Logf("Creating %s request with http:backstage:request scaffolder action against%s", method, shown())
	} else {
		c.Logf("Creating %s request with http:backstage:request scaffolder action", method)
	}
	if c.DryRun && !dryRunSafe[method] {
		c.Logf("Dry run mode. Skipping non dry-run safe method '%s' request%s", method, strings.Replace(shown(), " ", " to ", 1))
		return nil
	}

	parent := c.Ctx
	if parent == nil {
		parent = context.Background()
	}
	ctx, cancel := context.WithTimeout(parent, timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, method, target.String(), body)
	if err != nil {
		return fmt.Errorf("request%s: %w", shown(), err)
	}
	req.Header = header
	res, err := a.p.client().Do(req)
	if err != nil {
		if parent.Err() != nil {
			return parent.Err()
		}
		if errors.Is(err, context.DeadlineExceeded) {
			if a.p.http.Timeout > 0 && a.p.http.Timeout < timeout {
				timeout = a.p.http.Timeout
			}
			return fmt.Errorf("Request was aborted as it took longer than %s seconds", jsNumber(timeout.Seconds()))
		}
		// a *url.Error names the full URL, query included: name the host
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return fmt.Errorf("There was an issue with the request to %s%s: %s", target.Host, shown(), plugins.Scrub(err.Error(), token))
	}
	defer res.Body.Close()
	data, err := io.ReadAll(io.LimitReader(res.Body, maxResponseBytes+1))
	if err != nil {
		return fmt.Errorf("Could not read the response body%s: %w", shown(), err)
	}
	if len(data) > maxResponseBytes {
		return fmt.Errorf("the response%s is larger than %d bytes", shown(), maxResponseBytes)
	}
	outHeaders := expr.NewObject()
	names := make([]string, 0, len(res.Header))
	for k := range res.Header {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, k := range names {
		outHeaders.Set(strings.ToLower(k), strings.Join(res.Header.Values(k), ", "))
	}
	var outBody any
	if strings.Contains(res.Header.Get("Content-Type"), "application/json") {
		if len(data) > 0 {
			if outBody, err = parseJSON(data); err != nil {
				return fmt.Errorf("Could not parse response body: %w", err)
			}
		}
	} else {
		o := expr.NewObject()
		o.Set("message", string(data))
		outBody = o
	}
	if res.StatusCode < 200 || res.StatusCode > 299 {
		c.Logf("There was an issue with your request. Status code: %d Response body: %s", res.StatusCode,
			plugins.UpstreamMessage(stringifyJSON(outBody, "", nil), maxLoggedBody, token))
		if !continueBad {
			return fmt.Errorf("Unable to complete request: %s%s answered %d", method, shown(), res.StatusCode)
		}
		// as Roadie: a bad response's headers are not passed on
		outHeaders = expr.NewObject()
	}
	c.SetOutput("code", float64(res.StatusCode))
	c.SetOutput("headers", outHeaders)
	c.SetOutput("body", outBody)
	return nil
}

// client is the plugin's client, following redirects only within the
// backend's /api/ (the default client would follow them anywhere its
// policy allows; Go drops Authorization on another host, but not the
// request itself).
func (p *Plugin) client() *http.Client {
	c := *p.http
	next := p.http.CheckRedirect
	c.CheckRedirect = func(req *http.Request, via []*http.Request) error {
		if len(via) >= maxRedirects {
			return fmt.Errorf("stopped after %d redirects", maxRedirects)
		}
		if req.URL.Scheme != p.base.Scheme || !strings.EqualFold(req.URL.Host, p.base.Host) ||
			!strings.HasPrefix(req.URL.EscapedPath(), p.base.EscapedPath()+"/api/") {
			return fmt.Errorf("redirected away from the backend's /api/ (to %s)", req.URL.Host)
		}
		if next != nil {
			return next(req, via)
		}
		return nil
	}
	return &c
}

// requestURL resolves a path against the backend. Roadie's current
// action takes /<plugin>/<rest> and asks discovery for the plugin's base
// URL (<backend>/api/<plugin>); its first versions took /api/<plugin>/…
// appended to backend.baseUrl. Both are accepted and both land under the
// backend's /api/: anything that could reach elsewhere (an absolute or
// scheme-relative URL, "." or ".." segments, encoded or not, a fragment,
// a backslash) is refused.
func (p *Plugin) requestURL(raw string, params *expr.Object) (*url.URL, error) {
	bad := func(why string) error {
		return fmt.Errorf("input \"path\" %q: %s; it must be a path of this portal's backend API, like /api/catalog/entities", raw, why)
	}
	// A query may carry URLs (filter=spec.target=https://…); the path may not.
	pathPart, _, _ := strings.Cut(raw, "?")
	if strings.Contains(pathPart, "://") || strings.HasPrefix(raw, "//") {
		return nil, bad("absolute URLs are not allowed")
	}
	if strings.ContainsAny(raw, "\\#") {
		return nil, bad("backslashes and fragments are not allowed")
	}
	for _, r := range raw {
		if r <= ' ' || r == 0x7f {
			return nil, bad("spaces and control characters are not allowed")
		}
	}
	p0 := raw
	if !strings.HasPrefix(p0, "/") {
		p0 = "/" + p0
	}
	if p0 == "/api" || strings.HasPrefix(p0, "/api?") {
		return nil, bad("it names no plugin")
	}
	if !strings.HasPrefix(p0, "/api/") {
		p0 = "/api" + p0
	}
	u, err := url.Parse(p0)
	if err != nil || u.Scheme != "" || u.Host != "" || u.User != nil || u.Opaque != "" {
		return nil, bad("not a path")
	}
	segs := strings.Split(u.Path, "/")
	for _, s := range segs[1:] {
		if s == "." || s == ".." {
			return nil, bad(`"." and ".." segments are not allowed`)
		}
	}
	if len(segs) < 3 || segs[2] == "" {
		return nil, bad("it names no plugin")
	}
	query := u.RawQuery
	if params != nil {
		var q []string
		for _, k := range params.Keys() {
			v, _ := params.Get(k)
			q = append(q, formEscape(k)+"="+formEscape(jsString(v)))
		}
		if len(q) > 0 {
			if query != "" {
				query += "&"
			}
			query += strings.Join(q, "&")
		}
	}
	full := p.base.String() + u.EscapedPath()
	if query != "" {
		full += "?" + query
	}
	t, err := url.Parse(full)
	if err != nil || t.Host != p.base.Host || !strings.HasPrefix(t.EscapedPath(), p.base.EscapedPath()+"/api/") {
		return nil, bad("it does not resolve under the backend's /api/")
	}
	return t, nil
}

// formEscape is URLSearchParams' application/x-www-form-urlencoded
// serialisation: alphanumerics and *-._ stay, a space is "+".
func formEscape(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		ch := s[i]
		switch {
		case ch >= 'a' && ch <= 'z', ch >= 'A' && ch <= 'Z', ch >= '0' && ch <= '9',
			ch == '*', ch == '-', ch == '.', ch == '_':
			b.WriteByte(ch)
		case ch == ' ':
			b.WriteByte('+')
		default:
			fmt.Fprintf(&b, "%%%02X", ch)
		}
	}
	return b.String()
}

// jsString is JavaScript's String(v) for the engine's values.
func jsString(v any) string {
	switch x := v.(type) {
	case nil:
		return "null"
	case string:
		return x
	case bool:
		return strconv.FormatBool(x)
	case float64:
		return jsNumber(x)
	case []any:
		parts := make([]string, len(x))
		for i, e := range x {
			if e != nil {
				parts[i] = jsString(e)
			}
		}
		return strings.Join(parts, ",")
	case *expr.Object:
		return "[object Object]"
	}
	return jsString(normalize(v))
}

func validHeaderName(k string) bool {
	if k == "" {
		return false
	}
	for i := 0; i < len(k); i++ {
		ch := k[i]
		if ch <= ' ' || ch >= 0x7f || strings.IndexByte(`"(),/:;<=>?@[\]{}`, ch) >= 0 {
			return false
		}
	}
	return true
}
