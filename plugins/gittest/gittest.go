// Package gittest is test support for plugins that push to and read from
// git hosts: it serves bare repositories over git's smart HTTP with the
// real `git http-backend`, creates those repositories, runs git in a
// hermetic environment and reads back what a push left behind.
//
// It drives the git binary, so every helper that needs git either skips
// the test when git is missing (SkipWithoutGit, Bare) or fails it (Git).
// Each host's own rule for git credentials stays in its plugin's tests;
// RequireAuth only applies the rule it is given.
package gittest

import (
	"fmt"
	"io/fs"
	"net/http"
	"net/http/cgi"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// backendPath finds git-http-backend in git's exec path.
func backendPath() (string, error) {
	out, err := exec.Command("git", "--exec-path").Output()
	if err != nil {
		return "", fmt.Errorf("git is not available: %w", err)
	}
	p := filepath.Join(strings.TrimSpace(string(out)), "git-http-backend")
	if _, err := os.Stat(p); err != nil {
		return "", fmt.Errorf("git-http-backend is not available: %w", err)
	}
	return p, nil
}

// SkipWithoutGit skips the test when git or git-http-backend is not
// installed, so that machines without git skip rather than fail.
func SkipWithoutGit(t testing.TB) {
	t.Helper()
	if _, err := backendPath(); err != nil {
		t.Skip(err)
	}
}

// Backend serves git's smart HTTP (clone, fetch, push) for the bare
// repositories below root through git http-backend, as a CGI. prefix is
// the part of the URL path in front of the repository's path below root
// ("" when repositories sit at the server's root, "/git" for
// /git/<owner>/<repo>.git). Every repository is exported; pushes need
// Bare's http.receivepack. Backend does no authentication: wrap it in
// RequireAuth.
//
// It takes no *testing.T so that a fake host can build it for every
// test, including those that never touch git; when git is missing, the
// handler answers 503 and the tests that create repositories skip
// through Bare.
func Backend(root, prefix string) http.Handler {
	path, err := backendPath()
	if err != nil {
		return http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			http.Error(w, err.Error(), http.StatusServiceUnavailable)
		})
	}
	return &cgi.Handler{
		Path: path,
		Root: prefix,
		// HOME and no system config keep the host's git settings out.
		Env: []string{"GIT_PROJECT_ROOT=" + root, "GIT_HTTP_EXPORT_ALL=1", "GIT_CONFIG_NOSYSTEM=1", "HOME=" + root},
	}
}

// RequireAuth passes to next only the requests allow accepts and answers
// the others 401 with a Basic challenge for realm: git sends credentials
// only after such a challenge, so without it a push would never show
// which credentials a plugin uses.
func RequireAuth(realm string, allow func(*http.Request) bool, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !allow(r) {
			w.Header().Set("WWW-Authenticate", `Basic realm="`+realm+`"`)
			http.Error(w, "unauthorized", http.StatusUnauthorized)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// Bare creates a bare repository at dir (and its parents) that accepts
// pushes over HTTP, with git's default initial branch, and returns dir.
// It skips the test when git is missing.
func Bare(t testing.TB, dir string) string {
	t.Helper()
	SkipWithoutGit(t)
	Git(t, "", "init", "-q", "--bare", dir)
	Git(t, "", "--git-dir="+dir, "config", "http.receivepack", "true")
	return dir
}

// Git runs git with args in dir ("" for the current directory) and
// returns its trimmed combined output, failing the test when git fails.
// The environment holds only PATH, an empty HOME and a fixed author and
// committer, so the machine's git configuration cannot change a result.
func Git(t testing.TB, dir string, args ...string) string {
	t.Helper()
	cmd := exec.Command("git", args...)
	cmd.Dir = dir
	cmd.Env = []string{"HOME=" + t.TempDir(), "PATH=" + os.Getenv("PATH"),
		"GIT_CONFIG_NOSYSTEM=1", "GIT_CONFIG_GLOBAL=" + os.DevNull,
		"GIT_AUTHOR_NAME=t", "GIT_AUTHOR_EMAIL=t@example.com", "GIT_COMMITTER_NAME=t", "GIT_COMMITTER_EMAIL=t@example.com"}
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("git %v: %v: %s", args, err, out)
	}
	return strings.TrimSpace(string(out))
}

// Clone clones branch of the repository at src (a path or URL) into a
// new temporary directory and returns that directory, to check what a
// push left there.
func Clone(t testing.TB, src, branch string) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "clone")
	Git(t, "", "clone", "-q", "--branch", branch, src, dir)
	return dir
}

// Files returns the files below dir, keyed by slash-separated relative
// path, leaving out .git.
func Files(t testing.TB, dir string) map[string]string {
	t.Helper()
	files := map[string]string{}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if d.Name() == ".git" {
				return filepath.SkipDir
			}
			return nil
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(dir, p)
		if err != nil {
			return err
		}
		files[filepath.ToSlash(rel)] = string(b)
		return nil
	})
	if err != nil {
		t.Fatalf("reading files below %s: %v", dir, err)
	}
	return files
}

// WriteFiles writes files (slash-separated path → content) below dir,
// creating directories. Names ending in .sh are made executable, so that
// tests can check that a push keeps the executable bit.
func WriteFiles(t testing.TB, dir string, files map[string]string) {
	t.Helper()
	for p, content := range files {
		full := filepath.Join(dir, filepath.FromSlash(p))
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			t.Fatal(err)
		}
		mode := os.FileMode(0o644)
		if strings.HasSuffix(p, ".sh") {
			mode = 0o755
		}
		if err := os.WriteFile(full, []byte(content), mode); err != nil {
			t.Fatal(err)
		}
	}
}
