package gittest

import (
	"encoding/base64"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"
)

// TestPushThroughBackend pushes over HTTP to a guarded Backend and reads
// the result back with Clone and Files.
func TestPushThroughBackend(t *testing.T) {
	tests := []struct {
		name, prefix, repoPath string
	}{
		{"at the root", "", "acme/app.git"},
		{"below a prefix", "/git", "acme/app.git"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			root := t.TempDir()
			bare := Bare(t, filepath.Join(root, filepath.FromSlash(tc.repoPath)))
			var mu sync.Mutex
			var seen []string
			allow := func(r *http.Request) bool {
				mu.Lock()
				seen = append(seen, r.Header.Get("Authorization"))
				mu.Unlock()
				_, pw, ok := r.BasicAuth()
				return ok && pw == "pw"
			}
			mux := http.NewServeMux()
			mux.Handle(tc.prefix+"/", RequireAuth("test", allow, Backend(root, tc.prefix)))
			srv := httptest.NewServer(mux)
			defer srv.Close()

			wt := t.TempDir()
			Git(t, wt, "init", "-q", "--initial-branch=main")
			WriteFiles(t, wt, map[string]string{"README.md": "hi\n", "bin/run.sh": "#!/bin/sh\n"})
			Git(t, wt, "add", "-A")
			Git(t, wt, "commit", "-q", "-m", "first")
			want := Git(t, wt, "rev-parse", "HEAD")

			url := strings.Replace(srv.URL, "http://", "http://u:pw@", 1) + tc.prefix + "/" + tc.repoPath
			Git(t, wt, "push", "-q", url, "HEAD:refs/heads/main")

			if got := Git(t, "", "--git-dir="+bare, "rev-parse", "refs/heads/main"); got != want {
				t.Errorf("bare main = %s, want %s", got, want)
			}
			wantAuth := "Basic " + base64.StdEncoding.EncodeToString([]byte("u:pw"))
			mu.Lock()
			if len(seen) < 2 || seen[0] != "" || seen[len(seen)-1] != wantAuth {
				t.Errorf("Authorization headers %q: want the first without credentials, the last %q", seen, wantAuth)
			}
			mu.Unlock()

			dir := Clone(t, bare, "main")
			if got, want := Files(t, dir), map[string]string{"README.md": "hi\n", "bin/run.sh": "#!/bin/sh\n"}; !reflect.DeepEqual(got, want) {
				t.Errorf("Files = %v, want %v", got, want)
			}
			if fi, err := os.Stat(filepath.Join(dir, "bin", "run.sh")); err != nil || fi.Mode()&0o100 == 0 {
				t.Errorf("run.sh is not executable after the round trip: %v %v", fi, err)
			}
		})
	}
}

func TestRequireAuthRefuses(t *testing.T) {
	called := false
	h := RequireAuth("Realm X", func(*http.Request) bool { return false }, http.HandlerFunc(func(http.ResponseWriter, *http.Request) { called = true }))
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/r.git/info/refs?service=git-upload-pack", nil))
	if rec.Code != http.StatusUnauthorized || rec.Header().Get("WWW-Authenticate") != `Basic realm="Realm X"` || called {
		t.Errorf("code %d, challenge %q, next called %v", rec.Code, rec.Header().Get("WWW-Authenticate"), called)
	}
}

func TestPushWithoutReceivePackIsRefused(t *testing.T) {
	SkipWithoutGit(t)
	root := t.TempDir()
	Git(t, "", "init", "-q", "--bare", filepath.Join(root, "r.git")) // no http.receivepack
	srv := httptest.NewServer(Backend(root, ""))
	defer srv.Close()
	wt := t.TempDir()
	Git(t, wt, "init", "-q")
	Git(t, wt, "commit", "-q", "--allow-empty", "-m", "x")
	refs := Git(t, wt, "ls-remote", srv.URL+"/r.git")
	if refs != "" {
		t.Errorf("ls-remote of an empty repository = %q", refs)
	}
	rec := httptest.NewRecorder()
	Backend(root, "").ServeHTTP(rec, httptest.NewRequest("GET", "/r.git/info/refs?service=git-receive-pack", nil))
	if rec.Code != http.StatusForbidden {
		t.Errorf("receive-pack without http.receivepack: status %d, want 403", rec.Code)
	}
}
