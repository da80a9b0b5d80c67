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
	"net/http/cgi"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/greenroom-dev/greenroom/plugins"
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
}

func newFake(t *testing.T) *fakeAzure {
	t.Helper()
	f := &fakeAzure{t: t, routes: map[string]http.HandlerFunc{}, gitRoot: t.TempDir()}
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
		f.serveGit(w, r)
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

// serveGit is git's smart HTTP for clients that authenticate as Azure
// accepts: any user name, the PAT as the password.
func (f *fakeAzure) serveGit(w http.ResponseWriter, r *http.Request) {
	if _, pw, ok := r.BasicAuth(); !ok || pw != testToken {
		w.Header().Set("WWW-Authenticate", `Basic realm="https://dev.azure.com/"`)
		http.Error(w, "unauthorized", http.StatusUnauthorized)
		return
	}
	backend := filepath.Join(gitExecPath(f.t), "git-http-backend")
	h := &cgi.Handler{Path: backend, Env: []string{
		"GIT_PROJECT_ROOT=" + f.gitRoot, "GIT_HTTP_EXPORT_ALL=1",
		"GIT_CONFIG_NOSYSTEM=1", "HOME=" + f.gitRoot,
	}}
	h.ServeHTTP(w, r)
}

func gitExecPath(t *testing.T) string {
	t.Helper()
	out, err := exec.Command("git", "--exec-path").Output()
	if err != nil {
		t.Skipf("git is not available: %v", err)
	}
	return strings.TrimSpace(string(out))
}

// bareRepo creates the repository <gitRoot>/<org>/<project>/_git/<repo>
// as Azure does when one is created, accepting pushes over HTTP.
func (f *fakeAzure) bareRepo(p string) string {
	f.t.Helper()
	dir := filepath.Join(f.gitRoot, filepath.FromSlash(p))
	runGit(f.t, "", "init", "-q", "--bare", "--initial-branch=main", dir)
	runGit(f.t, "", "--git-dir="+dir, "config", "http.receivepack", "true")
	return dir
}

// seed pushes files as one commit on branch to a bare repository and
// returns the commit.
func seed(t *testing.T, bare, branch string, files map[string]string) string {
	t.Helper()
	wt := t.TempDir()
	runGit(t, wt, "init", "-q", "--initial-branch="+branch)
	writeFiles(t, wt, files)
	runGit(t, wt, "add", "-A")
	runGit(t, wt, "commit", "-q", "-m", "seed")
	runGit(t, wt, "push", "-q", bare, "HEAD:refs/heads/"+branch)
	return runGit(t, wt, "rev-parse", "HEAD")
}

func runGit(t *testing.T, dir string, args ...string) string {
	t.Helper()
	cmd := exec.Command("git", args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GIT_CONFIG_NOSYSTEM=1", "GIT_CONFIG_GLOBAL="+os.DevNull,
		"GIT_AUTHOR_NAME=t", "GIT_AUTHOR_EMAIL=t@example.com", "GIT_COMMITTER_NAME=t", "GIT_COMMITTER_EMAIL=t@example.com")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("git %v: %v: %s", args, err, out)
	}
	return strings.TrimSpace(string(out))
}

// cloneFiles clones a bare repository's branch and returns its files
// (without .git).
func cloneFiles(t *testing.T, bare, branch string) (map[string]string, string) {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "c")
	runGit(t, "", "clone", "-q", "--branch", branch, bare, dir)
	files := map[string]string{}
	_ = filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if d.IsDir() && d.Name() == ".git" {
			return filepath.SkipDir
		}
		if !d.IsDir() {
			b, _ := os.ReadFile(p)
			rel, _ := filepath.Rel(dir, p)
			files[filepath.ToSlash(rel)] = string(b)
		}
		return nil
	})
	return files, dir
}

func writeFiles(t *testing.T, dir string, files map[string]string) {
	t.Helper()
	for p, content := range files {
		full := filepath.Join(dir, filepath.FromSlash(p))
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(full, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
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
