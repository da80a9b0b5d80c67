package giteatest

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"testing"
)

var gitea Shared

func TestMain(m *testing.M) { os.Exit(gitea.Main(m)) }

func TestServerHelpers(t *testing.T) {
	srv := gitea.Server(t)
	t.Logf("gitea started in %s", srv.StartupTime)

	if err := srv.CreateOrg("helpers"); err != nil {
		t.Fatal(err)
	}
	empty, err := srv.CreateRepo("helpers", "empty", false)
	if err != nil {
		t.Fatal(err)
	}
	if !empty.Empty || empty.HTMLURL != srv.URL+"/helpers/empty" {
		t.Fatalf("empty repo = %+v", empty)
	}
	r, err := srv.CreateRepo("helpers", "full", true)
	if err != nil {
		t.Fatal(err)
	}
	if r.Empty || r.DefaultBranch != "main" {
		t.Fatalf("auto-initialised repo = %+v", r)
	}
	sha1, err := srv.PutFile("helpers", "full", "main", "dir/a.txt", "one\n", "add a")
	if err != nil {
		t.Fatal(err)
	}
	sha2, err := srv.PutFile("helpers", "full", "main", "dir/a.txt", "two\n", "change a")
	if err != nil {
		t.Fatal(err)
	}
	if len(sha1) != 40 || sha1 == sha2 {
		t.Fatalf("commit SHAs %q, %q", sha1, sha2)
	}
	resp, err := http.Get(srv.URL + "/helpers/full/raw/branch/main/dir/a.txt")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if string(body) != "two\n" {
		t.Fatalf("raw a.txt = %q", body)
	}
	// a file pushed into an empty repository makes its first commit
	if _, err := srv.PutFile("helpers", "empty", "main", "x.txt", "x", "first"); err != nil {
		t.Fatal(err)
	}
	if _, err := srv.DeleteFile("helpers", "full", "main", "dir/a.txt", "rm a"); err != nil {
		t.Fatal(err)
	}
	if _, err := srv.CreateWebhook("helpers", "full", "http://127.0.0.1:1/hook", "s3cret", []string{"push"}); err != nil {
		t.Fatal(err)
	}
	if err := srv.RenameRepo("helpers", "full", "renamed"); err != nil {
		t.Fatal(err)
	}
	if _, err := srv.GetRepo("helpers", "renamed"); err != nil {
		t.Fatal(err)
	}
	if err := srv.DeleteRepo("helpers", "renamed"); err != nil {
		t.Fatal(err)
	}
	_, err = srv.GetRepo("helpers", "renamed")
	var ae *APIError
	if !errors.As(err, &ae) || ae.Status != http.StatusNotFound {
		t.Fatalf("deleted repo: %v", err)
	}
}

func TestStart(t *testing.T) {
	if _, err := FindInstall(); err != nil {
		t.Skip(err)
	}
	srv := Start(t)
	var v struct {
		Version string `json:"version"`
	}
	if err := srv.Do(context.Background(), http.MethodGet, "/version", nil, &v); err != nil {
		t.Fatal(err)
	}
	if v.Version == "" { // "development": build.sh sets no version ldflags
		t.Fatalf("version %q", v.Version)
	}
	t.Logf("a second Gitea started in %s", srv.StartupTime)
}

// fakeTB records what need does instead of stopping the test.
type fakeTB struct {
	testing.TB
	skipped, failed string
}

func (f *fakeTB) Helper()                      {}
func (f *fakeTB) Skip(args ...any)             { f.skipped = fmt.Sprint(args...) }
func (f *fakeTB) Fatalf(s string, args ...any) { f.failed = fmt.Sprintf(s, args...) }

func TestNeedWithoutGitea(t *testing.T) {
	t.Setenv(EnvDir, "")
	t.Setenv(EnvRequire, "")
	f := &fakeTB{TB: t}
	need(f)
	if !strings.Contains(f.skipped, ".ci/gitea/build.sh") || f.failed != "" {
		t.Fatalf("skip %q, fail %q", f.skipped, f.failed)
	}
	t.Setenv(EnvRequire, "1")
	f = &fakeTB{TB: t}
	need(f)
	if !strings.Contains(f.failed, ".ci/gitea/build.sh") || f.skipped != "" {
		t.Fatalf("skip %q, fail %q", f.skipped, f.failed)
	}
	t.Setenv(EnvDir, t.TempDir())
	if _, err := FindInstall(); err == nil || !strings.Contains(err.Error(), "holds no gitea binary") {
		t.Fatalf("empty dir: %v", err)
	}
}
