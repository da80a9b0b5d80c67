package gitlab

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/greenroom-dev/greenroom/catalog"
	"github.com/greenroom-dev/greenroom/plugins"
	"github.com/greenroom-dev/greenroom/plugins/gittest"
)

// testToken is the integration token of every test; no error, log line
// or output may contain it.
const testToken = "glpat-TEST-s3cr3t-token"

// recorded is one request the fake GitLab saw.
type recorded struct {
	Method     string
	RequestURI string // as sent: the encoded path and the query
	RawPath    string // r.URL.EscapedPath()
	Query      string
	Header     http.Header
	Body       string
}

// fakeGitLab answers the REST routes a test registers, keyed by
// "METHOD /escaped/path", records every request, and serves git's smart
// HTTP for <group>/<project>.git with git http-backend.
type fakeGitLab struct {
	t       *testing.T
	srv     *httptest.Server
	mu      sync.Mutex
	reqs    []recorded
	routes  map[string]http.HandlerFunc
	gitRoot string
	git     http.Handler // git http-backend, for oauth2 and the token
}

func newFake(t *testing.T) *fakeGitLab {
	t.Helper()
	f := &fakeGitLab{t: t, routes: map[string]http.HandlerFunc{}, gitRoot: t.TempDir()}
	f.git = gittest.RequireAuth("GitLab", oauth2Token, gittest.Backend(f.gitRoot, ""))
	f.srv = httptest.NewServer(f)
	t.Cleanup(f.srv.Close)
	return f
}

func (f *fakeGitLab) host() string { return strings.TrimPrefix(f.srv.URL, "http://") }
func (f *fakeGitLab) url() string  { return f.srv.URL }

func (f *fakeGitLab) handle(key string, h http.HandlerFunc) { f.routes[key] = h }

// json registers a route answering v as JSON with status and headers.
func (f *fakeGitLab) json(key string, status int, v any, hdr ...string) {
	f.handle(key, func(w http.ResponseWriter, r *http.Request) {
		for i := 0; i+1 < len(hdr); i += 2 {
			w.Header().Set(hdr[i], hdr[i+1])
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		_ = json.NewEncoder(w).Encode(v)
	})
}

func (f *fakeGitLab) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	f.mu.Lock()
	f.reqs = append(f.reqs, recorded{Method: r.Method, RequestURI: r.RequestURI, RawPath: r.URL.EscapedPath(),
		Query: r.URL.RawQuery, Header: r.Header.Clone(), Body: string(body)})
	f.mu.Unlock()
	r.Body = io.NopCloser(bytes.NewReader(body))
	if strings.Contains(r.URL.Path, ".git/") {
		f.git.ServeHTTP(w, r)
		return
	}
	if h, ok := f.routes[r.Method+" "+r.URL.EscapedPath()]; ok {
		h(w, r)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusNotFound)
	_, _ = io.WriteString(w, `{"message":"404 Not Found"}`)
}

// oauth2Token is GitLab's rule for git credentials on a push: the user
// oauth2 and the token as the password.
func oauth2Token(r *http.Request) bool {
	return r.Header.Get("Authorization") == "Basic "+base64.StdEncoding.EncodeToString([]byte("oauth2:"+testToken))
}

// bareRepo creates <gitRoot>/<p>.git as GitLab does when a project is
// created, accepting pushes over HTTP.
func (f *fakeGitLab) bareRepo(p string) string {
	f.t.Helper()
	return gittest.Bare(f.t, filepath.Join(f.gitRoot, filepath.FromSlash(p)+".git"))
}

// requests returns the recorded API requests (git's excluded).
func (f *fakeGitLab) requests() []recorded {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []recorded
	for _, r := range f.reqs {
		if !strings.Contains(r.RawPath, ".git/") {
			out = append(out, r)
		}
	}
	return out
}

// calls lists the API requests as "METHOD requestURI".
func (f *fakeGitLab) calls() []string {
	var out []string
	for _, r := range f.requests() {
		out = append(out, r.Method+" "+r.RequestURI)
	}
	return out
}

func (f *fakeGitLab) reset() {
	f.mu.Lock()
	f.reqs = nil
	f.mu.Unlock()
}

// find returns the first request with the method and escaped path.
func (f *fakeGitLab) find(t *testing.T, method, rawPath string) recorded {
	t.Helper()
	for _, r := range f.requests() {
		if r.Method == method && r.RawPath == rawPath {
			return r
		}
	}
	t.Fatalf("no %s %s among %v", method, rawPath, f.calls())
	return recorded{}
}

// logBuffer is a concurrency-safe log sink.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}

// newPlugin makes the plugin from a YAML configuration in which
// {{URL}} and {{HOST}} stand for the fake's base URL and host.
func newPlugin(t *testing.T, f *fakeGitLab, cfgYAML string) (*Plugin, *logBuffer) {
	t.Helper()
	p, logs, err := tryPlugin(f, cfgYAML)
	if err != nil {
		t.Fatal(err)
	}
	return p, logs
}

func tryPlugin(f *fakeGitLab, cfgYAML string) (*Plugin, *logBuffer, error) {
	if f != nil {
		cfgYAML = strings.ReplaceAll(cfgYAML, "{{URL}}", f.url())
		cfgYAML = strings.ReplaceAll(cfgYAML, "{{HOST}}", f.host())
	}
	cfgYAML = strings.ReplaceAll(cfgYAML, "{{TOKEN}}", testToken)
	var raw map[string]any
	if err := yaml.Unmarshal([]byte(cfgYAML), &raw); err != nil {
		return nil, nil, err
	}
	logs := &logBuffer{}
	pl, err := New(plugins.Env{
		Config: plugins.NewConfig(raw),
		Log:    slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
		HTTP:   &http.Client{Timeout: 30 * time.Second},
	})
	if err != nil {
		return nil, logs, err
	}
	p := pl.(*Plugin)
	p.now = func() time.Time { return time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC) }
	return p, logs, nil
}

const baseConfig = `
integrations:
  gitlab:
    - host: "{{HOST}}"
      baseUrl: "{{URL}}"
      token: "{{TOKEN}}"
`

// fakeLocations records what webhook handlers change.
type fakeLocations struct {
	added, removed map[string][]catalog.LocationSpec
	refreshed      [][]string
}

func newLocations() *fakeLocations {
	return &fakeLocations{added: map[string][]catalog.LocationSpec{}, removed: map[string][]catalog.LocationSpec{}}
}

func (l *fakeLocations) AddProviderLocations(_ context.Context, provider string, specs []catalog.LocationSpec) error {
	l.added[provider] = append(l.added[provider], specs...)
	return nil
}

func (l *fakeLocations) RemoveProviderLocations(_ context.Context, provider string, specs []catalog.LocationSpec) error {
	l.removed[provider] = append(l.removed[provider], specs...)
	return nil
}

func (l *fakeLocations) RefreshURLs(_ context.Context, urls []string) (int, error) {
	l.refreshed = append(l.refreshed, urls)
	return len(urls), nil
}

// noSecret fails when any of the strings holds the token.
func noSecret(t *testing.T, what string, ss ...string) {
	t.Helper()
	for _, s := range ss {
		if strings.Contains(s, testToken) {
			t.Errorf("%s contains the token: %s", what, s)
		}
	}
}

// jsonEq compares a JSON body with the expected value.
func jsonEq(t *testing.T, what, body string, want any) {
	t.Helper()
	var got, exp any
	if err := json.Unmarshal([]byte(body), &got); err != nil {
		t.Fatalf("%s: body %q is not JSON: %v", what, body, err)
	}
	b, _ := json.Marshal(want)
	_ = json.Unmarshal(b, &exp)
	gb, _ := json.Marshal(got)
	eb, _ := json.Marshal(exp)
	if string(gb) != string(eb) {
		t.Errorf("%s body:\n got  %s\n want %s", what, gb, eb)
	}
}
