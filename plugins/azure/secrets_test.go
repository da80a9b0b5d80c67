package azure

import (
	"context"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/greenroom-dev/greenroom/plugins/gittest"
)

// TestSecretsAbsent drives every capability against an Azure DevOps that
// fails every call with the token and the Authorization header in its
// message, and checks that no error, log line, output or status holds
// the token in any form.
func TestSecretsAbsent(t *testing.T) {
	f := newFake(t)
	echo := func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusBadRequest)
		_ = json.NewEncoder(w).Encode(map[string]any{"message": "rejected " + testToken + " " + r.Header.Get("Authorization")})
	}
	for _, k := range []string{
		"POST /acme/p/_apis/git/repositories", "POST /acme/p/_apis/git/repositories/r/pullrequests", "GET /acme/_apis/projects",
	} {
		f.handle(k, echo)
	}
	bare := f.bareRepo("acme/p/_git/r")
	seed(t, bare, "main", map[string]string{"a": "a"})
	p, logs, status, err := tryPlugin(f, baseConfig)
	if err != nil {
		t.Fatal(err)
	}
	var errs, out []string
	add := func(err error) {
		if err == nil {
			t.Error("want an error")
			return
		}
		errs = append(errs, err.Error())
	}
	add(p.CheckHealth(context.Background()))
	h := f.host()
	runs := []struct {
		id    string
		input map[string]any
	}{
		{"publish:azure", map[string]any{"repoUrl": h + "?organization=acme&project=p&repo=r"}},
		{"azure:repo:pr", map[string]any{"server": h, "organization": "acme", "project": "p", "repoId": "r", "title": "t"}},
		// git with a token the server refuses, the token being a template
		// secret input
		{"azure:repo:clone", map[string]any{"remoteUrl": f.url() + "/acme/p/_git/r", "token": "input-token-XYZ-123"}},
		// git failing after authenticating (no such branch)
		{"azure:repo:clone", map[string]any{"remoteUrl": f.url() + "/acme/p/_git/r", "branch": "none"}},
		// a credential in the URL is refused without being echoed
		{"azure:repo:clone", map[string]any{"remoteUrl": "http://u:" + testToken + "@" + h + "/acme/p/_git/r"}},
		{"azure:repo:push", map[string]any{"remoteUrl": "http://u:" + testToken + "@" + h + "/acme/p/_git/r"}},
	}
	for _, r := range runs {
		ws := t.TempDir()
		if r.id == "azure:repo:push" {
			gittest.WriteFiles(t, ws, map[string]string{".git/HEAD": "ref: refs/heads/main\n", ".git/config": ""})
		}
		res := runAction(t, actionOf(t, p, r.id), ws, r.input)
		add(res.err)
		out = append(out, res.logs...)
		for k, v := range res.outputs {
			out = append(out, k, v.(string))
		}
	}
	if len(errs) != 7 {
		t.Fatalf("%d errors: %v", len(errs), errs)
	}
	if !strings.Contains(errs[1], "rejected *** ") {
		t.Errorf("the echoed message is not masked but dropped: %s", errs[1])
	}
	for _, e := range errs {
		if strings.Contains(e, "input-token-XYZ-123") {
			t.Errorf("the token input leaked: %s", e)
		}
	}
	for _, e := range errs {
		t.Logf("error: %s", e)
	}
	noSecret(t, "errors", errs...)
	noSecret(t, "logs", logs.String(), strings.Join(out, "\n"), status.Snapshot().LastError)
	for _, r := range f.api() {
		if strings.Contains(r.RequestURI, testToken) || strings.Contains(r.Body, testToken) {
			t.Errorf("the token was sent outside the Authorization header: %s %s", r.RequestURI, r.Body)
		}
	}
}

// TestTokenNotInArgv runs the git actions with a git that records its
// arguments: the token travels in the environment only.
func TestTokenNotInArgv(t *testing.T) {
	dir := t.TempDir()
	argv := filepath.Join(dir, "argv")
	script := filepath.Join(dir, "git")
	if err := os.WriteFile(script, []byte("#!/bin/sh\necho \"$@\" >> '"+argv+"'\nexit 1\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	f := newFake(t)
	p, _ := newPlugin(t, f, baseConfig)
	p.gitPath = script
	res := runAction(t, actionOf(t, p, "azure:repo:clone"), t.TempDir(), map[string]any{"remoteUrl": f.url() + "/acme/p/_git/r"})
	if res.err == nil {
		t.Fatal("want an error from the fake git")
	}
	ws := t.TempDir()
	gittest.WriteFiles(t, ws, map[string]string{".git/HEAD": "ref: refs/heads/main\n", ".git/config": ""})
	res = runAction(t, actionOf(t, p, "azure:repo:push"), ws, map[string]any{"remoteUrl": f.url() + "/acme/p/_git/r"})
	if res.err == nil {
		t.Fatal("want an error from the fake git")
	}
	b, err := os.ReadFile(argv)
	if err != nil {
		t.Fatal(err)
	}
	// clone, then push's git config and PushDir's git init
	if lines := strings.Split(strings.TrimSpace(string(b)), "\n"); len(lines) != 3 || !strings.HasPrefix(lines[0], "clone -q --depth 1 --branch main --single-branch -- "+f.url()+"/acme/p/_git/r ") {
		t.Errorf("argv:\n%s", b)
	}
	noSecret(t, "argv", string(b))
}
