package ingest_test

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/greenroom-dev/greenroom/catalog"
	"github.com/greenroom-dev/greenroom/catalog/ingest"
)

// gitRepo is a work tree whose commits are pushed to a bare repository,
// which is what the git location reads.
type gitRepo struct {
	t          *testing.T
	work, bare string
}

func newGitRepo(t *testing.T) *gitRepo {
	t.Helper()
	if _, err := exec.LookPath("git"); err != nil {
		t.Skip("git is not on PATH")
	}
	for k, v := range map[string]string{
		"GIT_AUTHOR_NAME": "Greenroom Test", "GIT_AUTHOR_EMAIL": "test@greenroom.invalid",
		"GIT_COMMITTER_NAME": "Greenroom Test", "GIT_COMMITTER_EMAIL": "test@greenroom.invalid",
		"GIT_CONFIG_NOSYSTEM": "1", "GIT_CONFIG_GLOBAL": os.DevNull,
	} {
		t.Setenv(k, v)
	}
	base := t.TempDir()
	r := &gitRepo{t: t, work: filepath.Join(base, "work"), bare: filepath.Join(base, "remote.git")}
	r.git("", "init", "--quiet", "--initial-branch=main", r.work)
	r.git("", "init", "--quiet", "--bare", "--initial-branch=main", r.bare)
	r.git(r.work, "remote", "add", "origin", r.bare)
	return r
}

func (r *gitRepo) git(dir string, args ...string) {
	r.t.Helper()
	cmd := exec.Command("git", args...)
	cmd.Dir = dir
	if out, err := cmd.CombinedOutput(); err != nil {
		r.t.Fatalf("git %s: %v\n%s", strings.Join(args, " "), err, out)
	}
}

func (r *gitRepo) write(rel, content string) {
	r.t.Helper()
	p := filepath.Join(r.work, filepath.FromSlash(rel))
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		r.t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		r.t.Fatal(err)
	}
}

// commitAndPush commits everything in the work tree and pushes main.
func (r *gitRepo) commitAndPush(msg string) {
	r.t.Helper()
	r.git(r.work, "add", "-A")
	r.git(r.work, "commit", "--quiet", "-m", msg)
	r.git(r.work, "push", "--quiet", "origin", "main")
}

// TestGitLocation crawls a git location backed by a real (local, bare)
// repository: a Location with a relative target, a $text placeholder, and
// a change that arrives with a later push.
func TestGitLocation(t *testing.T) {
	repo := newGitRepo(t)
	repo.write("catalog-info.yaml", locationYAML("repo", "./services/api.yaml", "./services/escape.yaml", "./leak.yaml")+
		"---\n"+fmt.Sprintf(componentTmpl, "git-root", "at the top", "team-a"))
	repo.write("services/api.yaml", strings.Replace(fmt.Sprintf(componentTmpl, "git-api", "x", "team-a"),
		"description: x", "description:\n    $text: ../docs/about.txt", 1))
	repo.write("docs/about.txt", "About, version 1")
	// A placeholder that climbs out of the repository is an error.
	repo.write("services/escape.yaml", strings.Replace(fmt.Sprintf(componentTmpl, "git-escape", "x", "team-a"),
		"description: x", "description:\n    $text: ../../../outside.txt", 1))
	// So is a symlink that points out of it.
	outside := filepath.Join(t.TempDir(), "outside.yaml")
	if err := os.WriteFile(outside, []byte(fmt.Sprintf(componentTmpl, "leaked", "x", "team-a")), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(outside, filepath.Join(repo.work, "leak.yaml")); err != nil {
		t.Fatal(err)
	}
	repo.commitAndPush("first")

	e := newCrawlEnv(t)
	e.crawler.Reader = &ingest.Reader{GitDir: filepath.Join(t.TempDir(), "git")}
	target := repo.bare + "/blob/main/catalog-info.yaml"
	l := e.add("git", target)
	cs := e.crawl(l)
	t.Logf("first crawl: %+v", cs)

	api := e.entity("component:default/git-api")
	if api.Metadata.Description != "About, version 1" {
		t.Errorf("$text in git: description %q", api.Metadata.Description)
	}
	if got, want := api.Metadata.Annotations[catalog.AnnotationLocation], "git:"+repo.bare+"/blob/main/services/api.yaml"; got != want {
		t.Errorf("managed-by-location %q, want %q", got, want)
	}
	if got := api.Metadata.Annotations[catalog.AnnotationOriginLocation]; got != "git:"+target {
		t.Errorf("managed-by-origin-location %q", got)
	}
	if p := e.provenance("component:default/git-api"); p.ParentRef != "location:default/repo" {
		t.Errorf("parent_ref %q", p.ParentRef)
	}
	if got := e.entity("component:default/git-root").Metadata.Annotations[catalog.AnnotationLocation]; got != "git:"+target {
		t.Errorf("root file entity managed-by-location %q", got)
	}
	e.entity(rootRef("git", target))
	e.wantError(l.ID, "git:"+repo.bare+"/blob/main/services/escape.yaml", "Placeholder $text", "outside")
	e.absent("component:default/git-escape")
	e.wantError(l.ID, "git:"+repo.bare+"/blob/main/leak.yaml", "outside")
	e.absent("component:default/leaked")
	if errs := e.errors(l.ID); len(errs) != 2 {
		t.Errorf("errors:\n%s", formatErrors(errs))
	}

	// Nothing pushed: nothing changes.
	if cs := e.crawl(l); cs.Apply.Added+cs.Apply.Updated+cs.Apply.Removed != 0 {
		t.Errorf("re-crawl without a push: %+v", cs.Apply)
	}

	// A push changes the placeholder's file and an entity, and adds one.
	repo.write("docs/about.txt", "About, version 2")
	repo.write("catalog-info.yaml", locationYAML("repo", "./services/api.yaml", "./services/new.yaml")+
		"---\n"+fmt.Sprintf(componentTmpl, "git-root", "edited", "team-a"))
	repo.write("services/new.yaml", fmt.Sprintf(componentTmpl, "git-new", "new", "team-a"))
	repo.commitAndPush("second")
	e.crawl(l)
	e.noErrors(l.ID)
	if d := e.entity("component:default/git-api").Metadata.Description; d != "About, version 2" {
		t.Errorf("after push: git-api description %q", d)
	}
	if d := e.entity("component:default/git-root").Metadata.Description; d != "edited" {
		t.Errorf("after push: git-root description %q", d)
	}
	e.entity("component:default/git-new")
	e.absent("component:default/git-escape")

	// A branch that does not exist is an error, not a crash.
	l2 := e.add("git", repo.bare+"/blob/nope/catalog-info.yaml")
	e.crawl(l2)
	e.wantError(l2.ID, "", "Unable to read")
}

func TestParseGitTarget(t *testing.T) {
	tests := []struct {
		in      string
		want    ingest.GitTarget
		wantErr bool
	}{
		{"/srv/repo.git/blob/main/catalog-info.yaml", ingest.GitTarget{Repo: "/srv/repo.git", Branch: "main", Path: "catalog-info.yaml"}, false},
		{"https://example.com/org/repo/blob/dev/a/./b/../c.yaml", ingest.GitTarget{Repo: "https://example.com/org/repo", Branch: "dev", Path: "a/c.yaml"}, false},
		{"/srv/repo.git/blob/main/services/**/catalog-info.yaml", ingest.GitTarget{Repo: "/srv/repo.git", Branch: "main", Path: "services/**/catalog-info.yaml"}, false},
		{"/srv/repo.git/tree/main/x.yaml", ingest.GitTarget{}, true},
		{"/srv/repo.git/blob/main", ingest.GitTarget{}, true},
		{"/srv/repo.git/blob//x.yaml", ingest.GitTarget{}, true},
		{"/blob/main/x.yaml", ingest.GitTarget{}, true},
		{"/srv/repo.git/blob/main/../x.yaml", ingest.GitTarget{}, true},
		{"/srv/repo.git/blob/main/a/../../x.yaml", ingest.GitTarget{}, true},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := ingest.ParseGitTarget(tt.in)
			if (err != nil) != tt.wantErr {
				t.Fatalf("err = %v, wantErr %v", err, tt.wantErr)
			}
			if got != tt.want {
				t.Errorf("got %+v, want %+v", got, tt.want)
			}
			if err == nil {
				if again, _ := ingest.ParseGitTarget(got.String()); again != got {
					t.Errorf("String does not round-trip: %q -> %+v", got.String(), again)
				}
			}
		})
	}
}
