package github

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"

	"github.com/greenroom-dev/greenroom/catalog"
	"github.com/greenroom-dev/greenroom/plugins"
	"github.com/greenroom-dev/greenroom/plugins/gittest"
)

// The tests run the plugin against fakeGitHub: one server playing
// GitHub's REST API under /api/v3 (GitHub Enterprise Server's layout) and
// serving bare repositories under /git/ through git's smart HTTP
// (git http-backend). It records every request.

const testToken = "ghp_testTOKEN_0123456789abcdef"

type recorded struct {
	Method, Path, Query string
	Header              http.Header
	Body                []byte
}

// JSON decodes the request body.
func (r recorded) JSON(t *testing.T) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(r.Body, &m); err != nil {
		t.Fatalf("%s %s: body %q is not JSON: %v", r.Method, r.Path, r.Body, err)
	}
	return m
}

type fakeGitHub struct {
	t       *testing.T
	srv     *httptest.Server
	gitRoot string
	mu      sync.Mutex
	reqs    []recorded
	gitAuth []string
	routes  map[string]http.HandlerFunc // "METHOD /path" under /api/v3 (query excluded)
}

func newFake(t *testing.T) *fakeGitHub {
	t.Helper()
	f := &fakeGitHub{t: t, routes: map[string]http.HandlerFunc{}, gitRoot: t.TempDir()}
	gittest.SkipWithoutGit(t)
	// Any credentials will do for git: the publish tests check which ones
	// the plugin sent through gitAuth.
	git := gittest.RequireAuth("git", func(r *http.Request) bool { return r.Header.Get("Authorization") != "" },
		gittest.Backend(f.gitRoot, "/git"))
	mux := http.NewServeMux()
	mux.HandleFunc("/git/", func(w http.ResponseWriter, r *http.Request) {
		f.mu.Lock()
		f.gitAuth = append(f.gitAuth, r.Header.Get("Authorization"))
		f.mu.Unlock()
		git.ServeHTTP(w, r)
	})
	mux.HandleFunc("/api/v3/", func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		path := strings.TrimPrefix(r.URL.EscapedPath(), "/api/v3")
		f.mu.Lock()
		f.reqs = append(f.reqs, recorded{Method: r.Method, Path: path, Query: r.URL.RawQuery, Header: r.Header.Clone(), Body: body})
		h := f.routes[r.Method+" "+path]
		f.mu.Unlock()
		if h == nil {
			w.WriteHeader(http.StatusNotFound)
			io.WriteString(w, `{"message":"Not Found"}`)
			return
		}
		r.Body = io.NopCloser(bytes.NewReader(body))
		h(w, r)
	})
	f.srv = httptest.NewServer(mux)
	t.Cleanup(f.srv.Close)
	return f
}

// host is the integration host: 127.0.0.1:<port>.
func (f *fakeGitHub) host() string { return strings.TrimPrefix(f.srv.URL, "http://") }
func (f *fakeGitHub) api() string  { return f.srv.URL + "/api/v3" }

// web is the repository's html_url on the fake host.
func (f *fakeGitHub) web(slug string) string { return "http://" + f.host() + "/" + slug }

// on answers a route with a status and a JSON (or raw []byte) body.
func (f *fakeGitHub) on(route string, status int, body any) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.routes[route] = func(w http.ResponseWriter, r *http.Request) {
		var data []byte
		switch b := body.(type) {
		case []byte:
			data = b
		case string:
			data = []byte(b)
		default:
			data, _ = json.Marshal(b)
			w.Header().Set("Content-Type", "application/json")
		}
		w.WriteHeader(status)
		w.Write(data)
	}
}

func (f *fakeGitHub) handle(route string, h http.HandlerFunc) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.routes[route] = h
}

func (f *fakeGitHub) requests() []recorded {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]recorded(nil), f.reqs...)
}

// routesCalled is "METHOD /path[?query]" of each API request, in order.
func (f *fakeGitHub) routesCalled() []string {
	var out []string
	for _, r := range f.requests() {
		s := r.Method + " " + r.Path
		if r.Query != "" {
			s += "?" + r.Query
		}
		out = append(out, s)
	}
	return out
}

// find returns the one request to a route.
func (f *fakeGitHub) find(t *testing.T, method, path string) recorded {
	t.Helper()
	var found []recorded
	for _, r := range f.requests() {
		if r.Method == method && r.Path == path {
			found = append(found, r)
		}
	}
	if len(found) != 1 {
		t.Fatalf("%d requests to %s %s, want 1; requests: %v", len(found), method, path, f.routesCalled())
	}
	return found[0]
}

// bare creates a bare repository <gitRoot>/<slug>.git that accepts pushes.
func (f *fakeGitHub) bare(t *testing.T, slug string) string {
	t.Helper()
	return gittest.Bare(t, filepath.Join(f.gitRoot, filepath.FromSlash(slug)+".git"))
}

// testEnv builds a plugin from a config document.
type testEnv struct {
	p   *Plugin
	log *bytes.Buffer
}

func newPlugin(t *testing.T, f *fakeGitHub, extra map[string]any) *testEnv {
	t.Helper()
	raw := map[string]any{
		"integrations": map[string]any{"github": []any{
			map[string]any{"host": f.host(), "apiBaseUrl": f.api() + "/", "token": testToken},
		}},
	}
	for k, v := range extra {
		raw[k] = v
	}
	var buf bytes.Buffer
	env := plugins.Env{Config: plugins.NewConfig(raw), Log: slog.New(slog.NewTextHandler(&buf, nil)), HTTP: f.srv.Client()}
	pl, err := New(env)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return &testEnv{p: pl.(*Plugin), log: &buf}
}

func equal(t *testing.T, what string, got, want any) {
	t.Helper()
	if !reflect.DeepEqual(got, want) {
		gj, _ := json.MarshalIndent(got, "", "  ")
		wj, _ := json.MarshalIndent(want, "", "  ")
		t.Errorf("%s:\n got %s\nwant %s", what, gj, wj)
	}
}

// jsonValue round-trips v through JSON so that it compares with decoded
// request bodies.
func jsonValue(t *testing.T, v any) any {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	var out any
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatal(err)
	}
	return out
}

// fakeLocations records what the webhook handlers ask of the catalog.
type fakeLocations struct {
	added, removed map[string][]string // provider → targets
	refreshed      []string
}

func newLocations() *fakeLocations {
	return &fakeLocations{added: map[string][]string{}, removed: map[string][]string{}}
}

func (l *fakeLocations) AddProviderLocations(_ context.Context, provider string, specs []catalog.LocationSpec) error {
	for _, s := range specs {
		if s.Type != "url" || s.Presence != "optional" {
			return &specError{s}
		}
		l.added[provider] = append(l.added[provider], s.Target)
	}
	return nil
}

func (l *fakeLocations) RemoveProviderLocations(_ context.Context, provider string, specs []catalog.LocationSpec) error {
	for _, s := range specs {
		l.removed[provider] = append(l.removed[provider], s.Target)
	}
	return nil
}

func (l *fakeLocations) RefreshURLs(_ context.Context, urls []string) (int, error) {
	l.refreshed = append(l.refreshed, urls...)
	return len(urls) / 2, nil
}

type specError struct{ s catalog.LocationSpec }

func (e *specError) Error() string { return "unexpected spec " + e.s.Type + " " + e.s.Presence }
