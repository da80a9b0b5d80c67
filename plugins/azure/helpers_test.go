package azure

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
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

	"github.com/greenroom-dev/greenroom/plugins"
	"github.com/greenroom-dev/greenroom/plugins/gittest"
	"github.com/greenroom-dev/greenroom/scaffolder/action"
)

// testToken is the PAT of every test; no error, log line or output may
// hold it (nor its Basic form).
const testToken = "azpat-TEST-s3cr3t-token-0123456789"

// secretForms are the ways the token could leak.
var secretForms = []string{
	testToken,
	base64.StdEncoding.EncodeToString([]byte(":" + testToken)),
	base64.StdEncoding.EncodeToString([]byte("notempty:" + testToken)),
	base64.StdEncoding.EncodeToString([]byte("not-empty:" + testToken)),
}

// recorded is one request the fake Azure DevOps saw.
type recorded struct {
	Method     string
	RequestURI string // as sent: the escaped path and the query
	RawPath    string
	Query      string
	Header     http.Header
	Body       string
}

// fakeAzure answers the REST routes a test registers, keyed by
// "METHOD /escaped/path", records every request, and serves git's smart
// HTTP for <org>/<project>/_git/<repo> with git http-backend.
type fakeAzure struct {
	t       *testing.T
	srv     *httptest.Server
	mu      sync.Mutex
	reqs    []recorded
	routes  map[string]http.HandlerFunc
	gitRoot string
	git     http.Handler // git http-backend, for any user name with the PAT as the password
}

func newFake(t *testing.T) *fakeAzure {
	t.Helper()
	f := &fakeAzure{t: t, routes: map[string]http.HandlerFunc{}, gitRoot: t.TempDir()}
	f.git = gittest.RequireAuth("https://dev.azure.com/", patPassword, gittest.Backend(f.gitRoot, ""))
	f.srv = httptest.NewServer(f)
	t.Cleanup(f.srv.Close)
	return f
}

func (f *fakeAzure) host() string { return strings.TrimPrefix(f.srv.URL, "http://") }
func (f *fakeAzure) url() string  { return f.srv.URL }

func (f *fakeAzure) handle(key string, h http.HandlerFunc) { f.routes[key] = h }

// json registers a route answering v as JSON with status.
func (f *fakeAzure) json(key string, status int, v any) {
	f.handle(key, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json; charset=utf-8")
		w.WriteHeader(status)
		_ = json.NewEncoder(w).Encode(v)
	})
}

func (f *fakeAzure) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	f.mu.Lock()
	f.reqs = append(f.reqs, recorded{Method: r.Method, RequestURI: r.RequestURI, RawPath: r.URL.EscapedPath(),
		Query: r.URL.RawQuery, Header: r.Header.Clone(), Body: string(body)})
	f.mu.Unlock()
	r.Body = io.NopCloser(bytes.NewReader(body))
	if strings.Contains(r.URL.Path, "/_git/") {
		f.git.ServeHTTP(w, r)
		return
	}
	if h, ok := f.routes[r.Method+" "+r.URL.EscapedPath()]; ok {
		h(w, r)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusNotFound)
	_, _ = io.WriteString(w, `{"message":"TF401019: not found","typeKey":"GitRepositoryNotFoundException"}`)
}

// patPassword is Azure's rule for git credentials.
func patPassword(r *http.Request) bool {
	_, pw, ok := r.BasicAuth()
	return ok && pw == testToken
}

// bareRepo creates the repository <gitRoot>/<org>/<project>/_git/<repo>
// as Azure does when one is created (HEAD on main), accepting pushes
// over HTTP.
func (f *fakeAzure) bareRepo(p string) string {
	f.t.Helper()
	dir := gittest.Bare(f.t, filepath.Join(f.gitRoot, filepath.FromSlash(p)))
	gittest.Git(f.t, "", "--git-dir="+dir, "symbolic-ref", "HEAD", "refs/heads/main")
	return dir
}

// seed pushes files as one commit on branch to a bare repository and
// returns the commit.
func seed(t *testing.T, bare, branch string, files map[string]string) string {
	t.Helper()
	wt := t.TempDir()
	gittest.Git(t, wt, "init", "-q", "--initial-branch="+branch)
	gittest.WriteFiles(t, wt, files)
	gittest.Git(t, wt, "add", "-A")
	gittest.Git(t, wt, "commit", "-q", "-m", "seed")
	gittest.Git(t, wt, "push", "-q", bare, "HEAD:refs/heads/"+branch)
	return gittest.Git(t, wt, "rev-parse", "HEAD")
}

// cloneFiles clones a bare repository's branch and returns its files
// (without .git) and the clone.
func cloneFiles(t *testing.T, bare, branch string) (map[string]string, string) {
	t.Helper()
	dir := gittest.Clone(t, bare, branch)
	return gittest.Files(t, dir), dir
}

// api returns the recorded REST requests (git's excluded).
func (f *fakeAzure) api() []recorded {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []recorded
	for _, r := range f.reqs {
		if !strings.Contains(r.RawPath, "/_git/") {
			out = append(out, r)
		}
	}
	return out
}

// gitReqs returns the recorded git requests.
func (f *fakeAzure) gitReqs() []recorded {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []recorded
	for _, r := range f.reqs {
		if strings.Contains(r.RawPath, "/_git/") {
			out = append(out, r)
		}
	}
	return out
}

// calls lists the REST requests as "METHOD requestURI".
func (f *fakeAzure) calls() []string {
	var out []string
	for _, r := range f.api() {
		out = append(out, r.Method+" "+r.RequestURI)
	}
	return out
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

// expand replaces {{URL}}, {{HOST}} and {{TOKEN}} in a YAML config.
func expand(f *fakeAzure, cfgYAML string) string {
	if f != nil {
		cfgYAML = strings.ReplaceAll(cfgYAML, "{{URL}}", f.url())
		cfgYAML = strings.ReplaceAll(cfgYAML, "{{HOST}}", f.host())
	}
	return strings.ReplaceAll(cfgYAML, "{{TOKEN}}", testToken)
}

func tryPlugin(f *fakeAzure, cfgYAML string) (*Plugin, *logBuffer, *plugins.Status, error) {
	var raw map[string]any
	if err := yaml.Unmarshal([]byte(expand(f, cfgYAML)), &raw); err != nil {
		return nil, nil, nil, err
	}
	logs := &logBuffer{}
	st := &plugins.Status{}
	pl, err := New(plugins.Env{
		Config: plugins.NewConfig(raw),
		Log:    slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
		HTTP:   &http.Client{Timeout: 30 * time.Second},
		Status: st,
	})
	if err != nil {
		return nil, logs, st, err
	}
	return pl.(*Plugin), logs, st, nil
}

func newPlugin(t *testing.T, f *fakeAzure, cfgYAML string) (*Plugin, *logBuffer) {
	t.Helper()
	p, logs, _, err := tryPlugin(f, cfgYAML)
	if err != nil {
		t.Fatal(err)
	}
	return p, logs
}

const baseConfig = `
integrations:
  azure:
    - host: "{{HOST}}"
      baseUrl: "{{URL}}"
      credentials:
        - personalAccessToken: "{{TOKEN}}"
          organizations: [acme]
`

func actionOf(t *testing.T, p *Plugin, id string) action.Action {
	t.Helper()
	for _, a := range p.Actions() {
		if a.ID() == id {
			return a
		}
	}
	t.Fatalf("no action %s", id)
	return nil
}

// runResult is what an action run produced.
type runResult struct {
	err     error
	outputs map[string]any
	logs    []string
}

func runAction(t *testing.T, a action.Action, workspace string, input map[string]any) runResult {
	t.Helper()
	res := runResult{outputs: map[string]any{}}
	c := &action.Context{
		Ctx: context.Background(), Workspace: workspace, Input: input,
		Log:    func(format string, args ...any) { res.logs = append(res.logs, fmt.Sprintf(format, args...)) },
		Output: func(name string, v any) { res.outputs[name] = v },
	}
	res.err = action.Run(a, c)
	return res
}

// noSecret fails when any of the strings holds the token in any form.
func noSecret(t *testing.T, what string, ss ...string) {
	t.Helper()
	for _, s := range ss {
		for _, sec := range secretForms {
			if strings.Contains(s, sec) {
				t.Errorf("%s contains the token (%s): %s", what, sec, s)
			}
		}
	}
}

// jsonEq compares a JSON body with the expected value.
func jsonEq(t *testing.T, what, body string, want any) {
	t.Helper()
	var got any
	if err := json.Unmarshal([]byte(body), &got); err != nil {
		t.Fatalf("%s: body %q is not JSON: %v", what, body, err)
	}
	gb, _ := json.Marshal(got)
	eb, _ := json.Marshal(want)
	if string(gb) != string(eb) {
		t.Errorf("%s body:\n got  %s\n want %s", what, gb, eb)
	}
}

var wantAuth = "Basic " + base64.StdEncoding.EncodeToString([]byte(":"+testToken))
