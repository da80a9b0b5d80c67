package azure

import (
	"encoding/base64"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/greenroom-dev/greenroom/plugins/gittest"
)

// TestCloneEditPushPR is the community module's golden path: clone a
// branch into the workspace, change it, push it as a new branch on top
// of the cloned one.
func TestCloneEditPush(t *testing.T) {
	f := newFake(t)
	bare := f.bareRepo("acme/proj/_git/app")
	base := seed(t, bare, "main", map[string]string{"README.md": "old\n", "gone.txt": "x", ".gitignore": "*.log\n"})
	p, logs := newPlugin(t, f, baseConfig)
	remoteURL := "http://acme@" + f.host() + "/acme/proj/_git/app"

	ws := t.TempDir()
	gittest.WriteFiles(t, ws, map[string]string{"app/from-template.txt": "kept\n"})
	res := runAction(t, actionOf(t, p, "azure:repo:clone"), ws, map[string]any{
		"remoteUrl": remoteURL, "branch": "main", "targetPath": "app",
	})
	if res.err != nil {
		t.Fatal(res.err)
	}
	for _, g := range f.gitReqs() {
		if a := g.Header.Get("Authorization"); a != "Basic "+base64.StdEncoding.EncodeToString([]byte(":"+testToken)) {
			t.Errorf("clone auth %q", a)
		}
	}
	b, err := os.ReadFile(filepath.Join(ws, "app", "README.md"))
	if err != nil || string(b) != "old\n" {
		t.Fatalf("README %q %v", b, err)
	}
	if b, _ := os.ReadFile(filepath.Join(ws, "app", "from-template.txt")); string(b) != "kept\n" {
		t.Errorf("the target's own file: %q", b)
	}
	if got := gittest.Git(t, filepath.Join(ws, "app"), "rev-parse", "HEAD"); got != base {
		t.Errorf("clone HEAD %s, want %s", got, base)
	}
	cfg, _ := os.ReadFile(filepath.Join(ws, "app", ".git", "config"))
	if !strings.Contains(string(cfg), "url = http://"+f.host()+"/acme/proj/_git/app") {
		t.Errorf("origin not set: %s", cfg)
	}
	noSecret(t, ".git/config", string(cfg))
	if entries, _ := os.ReadDir(ws); len(entries) != 1 {
		t.Errorf("the workspace holds %d entries (a temporary directory left?)", len(entries))
	}

	gittest.WriteFiles(t, filepath.Join(ws, "app"), map[string]string{"README.md": "new\n", "added/file.txt": "added\n", "debug.log": "ignored"})
	os.Remove(filepath.Join(ws, "app", "gone.txt"))
	res = runAction(t, actionOf(t, p, "azure:repo:push"), ws, map[string]any{
		"sourcePath": "app", "branch": "feature/x", "gitAuthorName": "Ann", "gitAuthorEmail": "ann@example.com",
	})
	if res.err != nil {
		t.Fatal(res.err)
	}
	files, dir := cloneFiles(t, bare, "feature/x")
	want := map[string]string{".gitignore": "*.log\n", "README.md": "new\n", "added/file.txt": "added\n", "from-template.txt": "kept\n"}
	if len(files) != len(want) {
		t.Errorf("pushed files %v", files)
	}
	for k, v := range want {
		if files[k] != v {
			t.Errorf("pushed %s = %q, want %q", k, files[k], v)
		}
	}
	if got := gittest.Git(t, dir, "log", "-1", "--format=%P|%an <%ae>|%s"); got != base+"|Ann <ann@example.com>|Initial commit" {
		t.Errorf("commit %q (parent must be the cloned commit)", got)
	}
	if got := gittest.Git(t, "", "--git-dir="+bare, "rev-parse", "refs/heads/main"); got != base {
		t.Errorf("main moved: %s", got)
	}
	noSecret(t, "logs", logs.String(), strings.Join(res.logs, "\n"))
}

// TestPushDefaults: the default branch "scaffolder", the configured
// commit message, and the remoteUrl input of older versions.
func TestPushDefaults(t *testing.T) {
	f := newFake(t)
	bare := f.bareRepo("acme/proj/_git/app")
	base := seed(t, bare, "develop", map[string]string{"a.txt": "a"})
	p, _ := newPlugin(t, f, baseConfig+"scaffolder: {defaultCommitMessage: 'chore: scaffold'}")
	ws := t.TempDir()
	res := runAction(t, actionOf(t, p, "azure:repo:clone"), ws, map[string]any{"remoteUrl": f.url() + "/acme/proj/_git/app", "branch": "develop"})
	if res.err != nil {
		t.Fatal(res.err)
	}
	if _, err := os.Stat(filepath.Join(ws, ".git")); err != nil {
		t.Fatalf("default targetPath is the workspace: %v", err)
	}
	gittest.WriteFiles(t, ws, map[string]string{"b.txt": "b"})
	res = runAction(t, actionOf(t, p, "azure:repo:push"), ws, map[string]any{"remoteUrl": f.url() + "/acme/proj/_git/app"})
	if res.err != nil {
		t.Fatal(res.err)
	}
	files, dir := cloneFiles(t, bare, "scaffolder")
	if len(files) != 2 || files["b.txt"] != "b" {
		t.Errorf("files %v", files)
	}
	if got := gittest.Git(t, dir, "log", "-1", "--format=%P|%an|%s"); got != base+"|Scaffolder|chore: scaffold" {
		t.Errorf("commit %q", got)
	}
}

func TestCloneRefusals(t *testing.T) {
	f := newFake(t)
	bare := f.bareRepo("acme/proj/_git/app")
	seed(t, bare, "main", map[string]string{"README.md": "x"})
	p, _ := newPlugin(t, f, baseConfig)
	remote := f.url() + "/acme/proj/_git/app"
	outside := t.TempDir()

	cases := []struct {
		name  string
		setup func(ws string)
		input map[string]any
		want  string
	}{
		{"no remoteUrl", nil, map[string]any{}, `input "remoteUrl" is required`},
		{"parent", nil, map[string]any{"remoteUrl": remote, "targetPath": "../x"}, `targetPath "../x" must be a relative path inside the workspace`},
		{"absolute", nil, map[string]any{"remoteUrl": remote, "targetPath": outside}, "must be a relative path inside the workspace"},
		{"through a symlink", func(ws string) { os.Symlink(outside, filepath.Join(ws, "link")) },
			map[string]any{"remoteUrl": remote, "targetPath": "link/x"}, `targetPath "link/x"`},
		{"conflict", func(ws string) { gittest.WriteFiles(t, ws, map[string]string{"README.md": "mine"}) },
			map[string]any{"remoteUrl": remote}, `targetPath "./" already holds README.md, which the clone also has`},
		{"unknown host", nil, map[string]any{"remoteUrl": "https://evil.example.com/acme/p/_git/r"}, "No matching integration configuration for remoteUrl"},
		{"no credentials for the organization", nil, map[string]any{"remoteUrl": f.url() + "/other/proj/_git/app"},
			"No token credentials provided for Azure repository " + f.url() + "/other/proj/_git/app"},
		{"missing branch", nil, map[string]any{"remoteUrl": remote, "branch": "nope"}, "git clone " + remote + ": exit status 128"},
		{"option-like branch", nil, map[string]any{"remoteUrl": remote, "branch": "--upload-pack=x"}, "invalid branch"},
		{"wrong token", nil, map[string]any{"remoteUrl": remote, "token": "wrong-token"}, "git clone " + remote},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ws := t.TempDir()
			if tc.setup != nil {
				tc.setup(ws)
			}
			res := runAction(t, actionOf(t, p, "azure:repo:clone"), ws, tc.input)
			if res.err == nil || !strings.Contains(res.err.Error(), tc.want) {
				t.Fatalf("error %v, want %q", res.err, tc.want)
			}
			t.Logf("error: %v", res.err)
			noSecret(t, "error", res.err.Error())
			if strings.Contains(res.err.Error(), "wrong-token") {
				t.Errorf("the token input leaked: %v", res.err)
			}
			if strings.Contains(res.err.Error(), ws) {
				t.Errorf("the error names the workspace path: %v", res.err)
			}
		})
	}
	if entries, _ := os.ReadDir(outside); len(entries) != 0 {
		t.Errorf("wrote outside the workspace: %v", entries)
	}
}

func TestPushRefusals(t *testing.T) {
	f := newFake(t)
	p, _ := newPlugin(t, f, baseConfig)
	gitDir := func(ws, config string) {
		gittest.WriteFiles(t, ws, map[string]string{".git/HEAD": "ref: refs/heads/main\n", ".git/config": config})
	}
	cases := []struct {
		name  string
		setup func(ws string)
		input map[string]any
		want  string
	}{
		{"not a clone", nil, map[string]any{}, "sourcePath is not a clone (no .git directory); clone it with azure:repo:clone first"},
		{"no origin", func(ws string) { gitDir(ws, "[core]\n\tbare = false\n") }, map[string]any{},
			"sourcePath has no origin remote; clone it with azure:repo:clone or pass remoteUrl"},
		{"origin elsewhere", func(ws string) { gitDir(ws, "[remote \"origin\"]\n\turl = https://evil.example.com/a/p/_git/r\n") }, map[string]any{},
			"No matching integration configuration for the origin of sourcePath https://evil.example.com/a/p/_git/r"},
		{"detached", func(ws string) {
			gittest.WriteFiles(t, ws, map[string]string{".git/HEAD": "0123456789abcdef0123456789abcdef01234567\n"})
		}, map[string]any{}, "sourcePath's HEAD is not on a branch"},
		{"include is not followed", func(ws string) {
			gittest.WriteFiles(t, ws, map[string]string{"inc": "[remote \"origin\"]\n\turl = " + f.url() + "/acme/p/_git/r\n"})
			gitDir(ws, "[include]\n\tpath = ../inc\n")
		}, map[string]any{}, "sourcePath has no origin remote"},
		{"bad branch", func(ws string) { gitDir(ws, "") }, map[string]any{"branch": "a..b"}, `invalid branch "a..b"`},
		{"sourcePath outside", nil, map[string]any{"sourcePath": "../"}, "sourcePath"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ws := t.TempDir()
			if tc.setup != nil {
				tc.setup(ws)
			}
			res := runAction(t, actionOf(t, p, "azure:repo:push"), ws, tc.input)
			if res.err == nil || !strings.Contains(res.err.Error(), tc.want) {
				t.Fatalf("error %v, want %q", res.err, tc.want)
			}
			t.Logf("error: %v", res.err)
			noSecret(t, "error", res.err.Error())
		})
	}
	if len(f.reqs) != 0 {
		t.Errorf("requests made: %v", f.reqs)
	}
}
