package github

import (
	"context"
	"encoding/base64"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/greenroom-dev/greenroom/plugins/gittest"
	"github.com/greenroom-dev/greenroom/scaffolder/action"
)

type actionResult struct {
	logs    []string
	outputs map[string]any
	err     error
}

func (r *actionResult) log() string { return strings.Join(r.logs, "\n") }

func findAction(t *testing.T, p *Plugin, id string) action.Action {
	t.Helper()
	for _, a := range p.Actions() {
		if a.ID() == id {
			return a
		}
	}
	t.Fatalf("no action %s", id)
	return nil
}

func runAction(t *testing.T, p *Plugin, id, workspace string, input map[string]any, dryRun bool) *actionResult {
	t.Helper()
	res := &actionResult{outputs: map[string]any{}}
	c := &action.Context{
		Ctx: context.Background(), Workspace: workspace, Input: input, DryRun: dryRun,
		Log:    func(format string, args ...any) { res.logs = append(res.logs, fmt.Sprintf(format, args...)) },
		Output: func(name string, v any) { res.outputs[name] = v },
	}
	res.err = action.Run(findAction(t, p, id), c)
	return res
}

// workspace holds a catalog file, an executable script and a link.
func workspace(t *testing.T) string {
	t.Helper()
	ws := t.TempDir()
	must := func(err error) {
		if err != nil {
			t.Fatal(err)
		}
	}
	must(os.WriteFile(filepath.Join(ws, "catalog-info.yaml"), []byte("kind: Component\n"), 0o644))
	must(os.MkdirAll(filepath.Join(ws, "src"), 0o755))
	must(os.WriteFile(filepath.Join(ws, "src", "run.sh"), []byte("#!/bin/sh\necho hi\n"), 0o755))
	return ws
}

func TestDryRunSupport(t *testing.T) {
	f := newFake(t)
	e := newPlugin(t, f, nil)
	want := map[string]bool{
		"publish:github": false, "github:repo:create": false, "github:repo:push": false,
		"publish:github:pull-request": true, "github:webhook": true, "github:actions:dispatch": false, "github:pages:enable": false,
	}
	got := map[string]bool{}
	for _, a := range e.p.Actions() {
		got[a.ID()] = action.SupportsDryRun(a)
		in, out := a.Schema()
		if in["type"] != "object" {
			t.Errorf("%s: input schema is not an object", a.ID())
		}
		if req, _ := in["required"].([]string); len(req) == 0 || req[0] != "repoUrl" {
			t.Errorf("%s: required = %v, want repoUrl first", a.ID(), in["required"])
		}
		_ = out
	}
	equal(t, "SupportsDryRun", got, want)
}

func TestPublishGithub(t *testing.T) {
	f := newFake(t)
	e := newPlugin(t, f, nil)
	bare := f.bare(t, "acme/new")
	f.on("GET /users/acme", 200, map[string]any{"login": "acme", "type": "Organization"})
	f.on("POST /orgs/acme/repos", 201, repoJSON(f, "acme", "new", nil))
	f.on("PUT /repos/acme/new/collaborators/jane", 201, map[string]any{})
	f.on("PUT /orgs/acme/teams/devs/repos/acme/new", 204, "")
	f.on("PUT /repos/acme/new/topics", 200, map[string]any{"names": []any{"go"}})
	f.on("PUT /repos/acme/new/branches/main/protection", 200, map[string]any{})
	ws := workspace(t)
	res := runAction(t, e.p, "publish:github", ws, map[string]any{
		"repoUrl":        f.host() + "?owner=acme&repo=new",
		"description":    "A new service",
		"defaultBranch":  "main",
		"repoVisibility": "internal",
		"collaborators": []any{
			map[string]any{"user": "user:default/jane", "access": "push"},
			map[string]any{"team": "devs", "access": "admin"},
		},
		"topics":                       []any{"Go", "Backstage"},
		"hasWiki":                      false,
		"requiredApprovingReviewCount": float64(2),
		"requireCodeOwnerReviews":      true,
		"gitCommitMessage":             "first",
		"gitAuthorName":                "Ada",
		"gitAuthorEmail":               "ada@example.com",
	}, false)
	if res.err != nil {
		t.Fatalf("%v\n%s", res.err, res.log())
	}
	equal(t, "calls", f.routesCalled(), []string{
		"GET /users/acme",
		"POST /orgs/acme/repos",
		"PUT /repos/acme/new/collaborators/jane",
		"PUT /orgs/acme/teams/devs/repos/acme/new",
		"PUT /repos/acme/new/topics",
		"PUT /repos/acme/new/branches/main/protection",
	})
	create := f.find(t, "POST", "/orgs/acme/repos")
	equal(t, "Authorization", create.Header.Get("Authorization"), "token "+testToken)
	equal(t, "Content-Type", create.Header.Get("Content-Type"), "application/json")
	equal(t, "create body", create.JSON(t), map[string]any{
		"name": "new", "private": false, "visibility": "internal", "description": "A new service",
		"delete_branch_on_merge": false, "allow_merge_commit": true, "allow_squash_merge": true,
		"allow_rebase_merge": true, "allow_auto_merge": false,
		"squash_merge_commit_title": "COMMIT_OR_PR_TITLE", "squash_merge_commit_message": "COMMIT_MESSAGES",
		"has_wiki": false,
	})
	equal(t, "collaborator body", f.find(t, "PUT", "/repos/acme/new/collaborators/jane").JSON(t), map[string]any{"permission": "push"})
	equal(t, "team body", f.find(t, "PUT", "/orgs/acme/teams/devs/repos/acme/new").JSON(t), map[string]any{"permission": "admin"})
	equal(t, "topics body", f.find(t, "PUT", "/repos/acme/new/topics").JSON(t), map[string]any{"names": []any{"go", "backstage"}})
	prot := f.find(t, "PUT", "/repos/acme/new/branches/main/protection")
	equal(t, "protection Accept", prot.Header.Get("Accept"), "application/vnd.github.luke-cage-preview+json")
	equal(t, "protection body", prot.JSON(t), map[string]any{
		"required_status_checks": map[string]any{"strict": true, "contexts": []any{}},
		"restrictions":           nil,
		"enforce_admins":         true,
		"required_pull_request_reviews": map[string]any{
			"required_approving_review_count": float64(2), "require_code_owner_reviews": true,
			"dismiss_stale_reviews": false, "require_last_push_approval": false,
		},
		"required_conversation_resolution": false,
		"required_linear_history":          false,
	})

	// the push reached the bare repository, authenticated
	head := gittest.Git(t, "", "--git-dir="+bare, "rev-parse", "refs/heads/main")
	equal(t, "outputs", res.outputs, map[string]any{
		"remoteUrl":       f.srv.URL + "/git/acme/new.git",
		"repoContentsUrl": f.web("acme/new") + "/blob/main",
		"commitHash":      head,
	})
	wantAuth := "Basic " + base64.StdEncoding.EncodeToString([]byte("x-access-token:"+testToken))
	if len(f.gitAuth) == 0 {
		t.Fatal("no git request reached the server")
	}
	for _, a := range f.gitAuth {
		equal(t, "git Authorization", a, wantAuth)
	}
	clone := gittest.Clone(t, bare, "main")
	data, err := os.ReadFile(filepath.Join(clone, "catalog-info.yaml"))
	if err != nil || string(data) != "kind: Component\n" {
		t.Fatalf("pushed catalog-info.yaml = %q, %v", data, err)
	}
	if fi, err := os.Stat(filepath.Join(clone, "src", "run.sh")); err != nil || fi.Mode()&0o100 == 0 {
		t.Fatalf("pushed src/run.sh is not executable: %v", err)
	}
	equal(t, "commit", gittest.Git(t, clone, "log", "-1", "--format=%an <%ae> %s"), "Ada <ada@example.com> first")
	if strings.Contains(res.log(), testToken) {
		t.Error("the token is in the log")
	}
}

func TestPublishGithubForUser(t *testing.T) {
	f := newFake(t)
	e := newPlugin(t, f, nil)
	bare := f.bare(t, "jane/tool")
	f.on("GET /users/jane", 200, map[string]any{"login": "jane", "type": "User"})
	f.on("POST /user/repos", 201, repoJSON(f, "jane", "tool", nil))
	res := runAction(t, e.p, "publish:github", workspace(t), map[string]any{
		"repoUrl": f.host() + "?owner=jane&repo=tool", "protectDefaultBranch": false, "customProperties": map[string]any{"team": "x"},
	}, false)
	if res.err != nil {
		t.Fatalf("%v\n%s", res.err, res.log())
	}
	equal(t, "calls", f.routesCalled(), []string{"GET /users/jane", "POST /user/repos"})
	equal(t, "create body", f.find(t, "POST", "/user/repos").JSON(t), map[string]any{
		"name": "tool", "private": true,
		"delete_branch_on_merge": false, "allow_merge_commit": true, "allow_squash_merge": true,
		"allow_rebase_merge": true, "allow_auto_merge": false,
		"squash_merge_commit_title": "COMMIT_OR_PR_TITLE", "squash_merge_commit_message": "COMMIT_MESSAGES",
	})
	head := gittest.Git(t, "", "--git-dir="+bare, "rev-parse", "refs/heads/master")
	equal(t, "outputs", res.outputs, map[string]any{
		"remoteUrl": f.srv.URL + "/git/jane/tool.git", "repoContentsUrl": f.web("jane/tool") + "/blob/master", "commitHash": head,
	})
}

func TestRepoCreateAndPush(t *testing.T) {
	f := newFake(t)
	e := newPlugin(t, f, nil)
	f.on("GET /users/acme", 200, map[string]any{"login": "acme", "type": "Organization"})
	f.on("POST /orgs/acme/repos", 201, repoJSON(f, "acme", "made", nil))
	res := runAction(t, e.p, "github:repo:create", workspace(t), map[string]any{"repoUrl": f.host() + "?owner=acme&repo=made"}, false)
	if res.err != nil {
		t.Fatal(res.err)
	}
	equal(t, "create outputs", res.outputs, map[string]any{
		"remoteUrl": f.srv.URL + "/git/acme/made.git", "repoContentsUrl": f.web("acme/made") + "/blob/main",
	})
	equal(t, "create calls", f.routesCalled(), []string{"GET /users/acme", "POST /orgs/acme/repos"})

	f2 := newFake(t)
	e2 := newPlugin(t, f2, nil)
	bare := f2.bare(t, "acme/existing")
	f2.on("GET /repos/acme/existing", 200, repoJSON(f2, "acme", "existing", nil))
	f2.on("PUT /repos/acme/existing/branches/trunk/protection", 200, map[string]any{})
	f2.on("POST /repos/acme/existing/branches/trunk/protection/required_signatures", 200, map[string]any{})
	res = runAction(t, e2.p, "github:repo:push", workspace(t), map[string]any{
		"repoUrl": f2.host() + "?owner=acme&repo=existing", "defaultBranch": "trunk", "requiredCommitSigning": true,
		"restrictions": map[string]any{"users": []any{"jane"}},
	}, false)
	if res.err != nil {
		t.Fatalf("%v\n%s", res.err, res.log())
	}
	head := gittest.Git(t, "", "--git-dir="+bare, "rev-parse", "refs/heads/trunk")
	equal(t, "push outputs", res.outputs, map[string]any{
		"remoteUrl": f2.srv.URL + "/git/acme/existing.git", "repoContentsUrl": f2.web("acme/existing") + "/blob/trunk", "commitHash": head,
	})
	equal(t, "push calls", f2.routesCalled(), []string{
		"GET /repos/acme/existing",
		"PUT /repos/acme/existing/branches/trunk/protection",
		"POST /repos/acme/existing/branches/trunk/protection/required_signatures",
	})
	equal(t, "restrictions", f2.find(t, "PUT", "/repos/acme/existing/branches/trunk/protection").JSON(t)["restrictions"],
		map[string]any{"users": []any{"jane"}, "teams": []any{}})
}

func TestPublishProtectionFailureWarns(t *testing.T) {
	f := newFake(t)
	e := newPlugin(t, f, nil)
	f.bare(t, "acme/p")
	f.on("GET /repos/acme/p", 200, repoJSON(f, "acme", "p", nil))
	f.on("PUT /repos/acme/p/branches/master/protection", 403, map[string]any{"message": "Must have admin rights to Repository."})
	res := runAction(t, e.p, "github:repo:push", workspace(t), map[string]any{"repoUrl": f.host() + "?owner=acme&repo=p"}, false)
	if res.err != nil {
		t.Fatal(res.err)
	}
	if !strings.Contains(res.log(), "Skipping: default branch protection on 'p', GitHub PUT /repos/acme/p/branches/master/protection answered 403: Must have admin rights to Repository.") {
		t.Errorf("log = %s", res.log())
	}
}

func TestActionErrorsAndSecrets(t *testing.T) {
	const inputToken = "ghp_INPUT_token_do_not_leak"
	f := newFake(t)
	e := newPlugin(t, f, nil)
	f.on("GET /users/acme", 200, map[string]any{"login": "acme", "type": "Organization"})
	// an upstream that echoes the credentials it was sent
	f.handle("POST /orgs/acme/repos", func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusUnprocessableEntity)
		fmt.Fprintf(w, `{"message":"Repository creation failed for %s"}`, r.Header.Get("Authorization"))
	})
	res := runAction(t, e.p, "publish:github", workspace(t), map[string]any{
		"repoUrl": f.host() + "?owner=acme&repo=new", "token": inputToken,
	}, false)
	if res.err == nil {
		t.Fatal("no error")
	}
	equal(t, "Authorization", f.find(t, "POST", "/orgs/acme/repos").Header.Get("Authorization"), "token "+inputToken)
	if !strings.HasPrefix(res.err.Error(), "Failed to create the Organization repository acme/new, GitHub POST /orgs/acme/repos answered 422") {
		t.Errorf("err = %v", res.err)
	}
	for _, s := range []string{inputToken, testToken} {
		if strings.Contains(res.err.Error(), s) || strings.Contains(res.log(), s) || strings.Contains(e.log.String(), s) {
			t.Errorf("a token is in the error or the logs: %v", res.err)
		}
	}

	tests := []struct {
		name, id string
		input    map[string]any
		want     string
	}{
		{"unknown host", "publish:github", map[string]any{"repoUrl": "gitlab.example.com?owner=a&repo=b"},
			"No matching integration configuration for host gitlab.example.com, please check your integrations config"},
		{"missing owner", "github:actions:dispatch", map[string]any{"repoUrl": f.host() + "?repo=b", "workflowId": "ci.yml", "branchOrTagName": "main"},
			"missing owner"},
		{"missing repoUrl", "github:webhook", map[string]any{"webhookUrl": "https://x.example.com/hook"}, `input "repoUrl" is required`},
		{"secrets refused", "github:repo:create", map[string]any{"repoUrl": f.host() + "?owner=acme&repo=b", "secrets": map[string]any{"K": "v"}},
			"repository secrets are not supported yet"},
		{"bad visibility", "github:repo:create", map[string]any{"repoUrl": f.host() + "?owner=acme&repo=b", "repoVisibility": "secret"},
			`input "repoVisibility" must be one of private, public, internal`},
		{"escaping targetPath", "publish:github:pull-request", map[string]any{"repoUrl": f.host() + "?owner=acme&repo=b",
			"branchName": "x", "title": "t", "description": "d", "targetPath": "../up"}, `input "targetPath"`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			res := runAction(t, e.p, tc.id, workspace(t), tc.input, false)
			if res.err == nil || !strings.Contains(res.err.Error(), tc.want) {
				t.Fatalf("err = %v, want %q", res.err, tc.want)
			}
		})
	}
}

func TestPullRequest(t *testing.T) {
	f := newFake(t)
	e := newPlugin(t, f, nil)
	base := strings.Repeat("c0", 20)
	f.on("GET /repos/acme/svc", 200, repoJSON(f, "acme", "svc", nil))
	f.on("GET /repos/acme/svc/git/ref/heads/main", 200, map[string]any{"ref": "refs/heads/main", "object": map[string]any{"sha": base, "type": "commit"}})
	f.on("GET /repos/acme/svc/git/commits/"+base, 200, map[string]any{"sha": base, "tree": map[string]any{"sha": "t0"}})
	var blobs atomic.Int32
	f.handle("POST /repos/acme/svc/git/blobs", func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(201)
		fmt.Fprintf(w, `{"sha":"b%d"}`, blobs.Add(1))
	})
	f.on("POST /repos/acme/svc/git/trees", 201, map[string]any{"sha": "t1"})
	f.on("POST /repos/acme/svc/git/commits", 201, map[string]any{"sha": "c1"})
	f.on("POST /repos/acme/svc/git/refs", 201, map[string]any{"ref": "refs/heads/feature/add"})
	f.on("POST /repos/acme/svc/pulls", 201, map[string]any{"number": 7, "html_url": f.web("acme/svc") + "/pull/7", "base": map[string]any{"ref": "main"}})
	f.on("POST /repos/acme/svc/pulls/7/requested_reviewers", 201, map[string]any{})
	ws := workspace(t)
	if err := os.Symlink("catalog-info.yaml", filepath.Join(ws, "link")); err != nil {
		t.Fatal(err)
	}
	input := map[string]any{
		"repoUrl": f.host() + "?owner=acme&repo=svc", "branchName": "feature/add", "title": "Add things",
		"description": "Body", "targetPath": "services/new", "draft": true,
		"reviewers": []any{"jane"}, "teamReviewers": []any{"devs", "devs"},
	}
	res := runAction(t, e.p, "publish:github:pull-request", ws, input, false)
	if res.err != nil {
		t.Fatalf("%v\n%s", res.err, res.log())
	}
	equal(t, "calls", f.routesCalled(), []string{
		"GET /repos/acme/svc",
		"GET /repos/acme/svc/git/ref/heads/main",
		"GET /repos/acme/svc/git/commits/" + base,
		"POST /repos/acme/svc/git/blobs",
		"POST /repos/acme/svc/git/blobs",
		"POST /repos/acme/svc/git/blobs",
		"POST /repos/acme/svc/git/trees",
		"POST /repos/acme/svc/git/commits",
		"POST /repos/acme/svc/git/refs",
		"POST /repos/acme/svc/pulls",
		"POST /repos/acme/svc/pulls/7/requested_reviewers",
	})
	var blobBodies []any
	for _, r := range f.requests() {
		if r.Path == "/repos/acme/svc/git/blobs" {
			blobBodies = append(blobBodies, r.JSON(t))
		}
	}
	equal(t, "blobs", blobBodies, []any{
		map[string]any{"content": base64.StdEncoding.EncodeToString([]byte("kind: Component\n")), "encoding": "base64"},
		map[string]any{"content": "catalog-info.yaml", "encoding": "utf-8"},
		map[string]any{"content": base64.StdEncoding.EncodeToString([]byte("#!/bin/sh\necho hi\n")), "encoding": "base64"},
	})
	equal(t, "tree", f.find(t, "POST", "/repos/acme/svc/git/trees").JSON(t), map[string]any{
		"base_tree": "t0",
		"tree": []any{
			map[string]any{"path": "services/new/catalog-info.yaml", "mode": "100644", "type": "blob", "sha": "b1"},
			map[string]any{"path": "services/new/link", "mode": "120000", "type": "blob", "sha": "b2"},
			map[string]any{"path": "services/new/src/run.sh", "mode": "100755", "type": "blob", "sha": "b3"},
		},
	})
	equal(t, "commit", f.find(t, "POST", "/repos/acme/svc/git/commits").JSON(t), map[string]any{
		"message": "Add things", "tree": "t1", "parents": []any{base},
	})
	equal(t, "ref", f.find(t, "POST", "/repos/acme/svc/git/refs").JSON(t), map[string]any{"ref": "refs/heads/feature/add", "sha": "c1"})
	equal(t, "pull", f.find(t, "POST", "/repos/acme/svc/pulls").JSON(t), map[string]any{
		"title": "Add things", "head": "feature/add", "base": "main", "body": "Body", "draft": true,
	})
	equal(t, "reviewers", f.find(t, "POST", "/repos/acme/svc/pulls/7/requested_reviewers").JSON(t), map[string]any{
		"reviewers": []any{"jane"}, "team_reviewers": []any{"devs"},
	})
	equal(t, "outputs", res.outputs, map[string]any{
		"targetBranchName": "main", "remoteUrl": f.web("acme/svc") + "/pull/7", "pullRequestNumber": 7,
	})

	// a dry run calls nothing and answers Backstage's example outputs
	f.mu.Lock()
	f.reqs = nil
	f.mu.Unlock()
	res = runAction(t, e.p, "publish:github:pull-request", ws, input, true)
	if res.err != nil {
		t.Fatal(res.err)
	}
	equal(t, "dry-run calls", len(f.requests()), 0)
	equal(t, "dry-run outputs", res.outputs, map[string]any{
		"targetBranchName": "feature/add", "remoteUrl": f.host() + "?owner=acme&repo=svc", "pullRequestNumber": 43,
	})
}

func TestPullRequestExistingBranch(t *testing.T) {
	f := newFake(t)
	e := newPlugin(t, f, nil)
	base := strings.Repeat("ab", 20)
	f.on("GET /repos/acme/svc/git/ref/heads/dev", 200, map[string]any{"object": map[string]any{"sha": base}})
	f.on("GET /repos/acme/svc/git/commits/"+base, 200, map[string]any{"tree": map[string]any{"sha": "t0"}})
	f.on("POST /repos/acme/svc/git/blobs", 201, map[string]any{"sha": "b"})
	f.on("POST /repos/acme/svc/git/trees", 201, map[string]any{"sha": "t1"})
	f.on("POST /repos/acme/svc/git/commits", 201, map[string]any{"sha": "c1"})
	f.on("POST /repos/acme/svc/git/refs", 422, map[string]any{"message": "Reference already exists"})
	input := map[string]any{"repoUrl": f.host() + "?owner=acme&repo=svc", "branchName": "b", "targetBranchName": "dev",
		"title": "T", "description": "D", "gitAuthorName": "Ada"}
	res := runAction(t, e.p, "publish:github:pull-request", workspace(t), input, false)
	if res.err == nil || !strings.Contains(res.err.Error(), "Pull request creation failed: the branch b already exists in acme/svc") {
		t.Fatalf("err = %v", res.err)
	}
	equal(t, "author", f.find(t, "POST", "/repos/acme/svc/git/commits").JSON(t)["author"],
		map[string]any{"name": "Ada", "email": "scaffolder@backstage.io"})
}

func TestWebhookAction(t *testing.T) {
	f := newFake(t)
	e := newPlugin(t, f, map[string]any{"events": map[string]any{"modules": map[string]any{"github": map[string]any{"webhookSecret": testSecret}}}})
	f.on("POST /repos/acme/svc/hooks", 201, map[string]any{"id": 1})
	const hookSecret = "hook-secret-xyz"
	res := runAction(t, e.p, "github:webhook", workspace(t), map[string]any{
		"repoUrl": f.host() + "?owner=acme&repo=svc", "webhookUrl": "https://portal.example.com/api/events/http/github",
		"webhookSecret": hookSecret, "events": []any{"push", "repository"}, "contentType": "json",
	}, false)
	if res.err != nil {
		t.Fatal(res.err)
	}
	hook := f.find(t, "POST", "/repos/acme/svc/hooks")
	equal(t, "hook body", hook.JSON(t), map[string]any{
		"config": map[string]any{"url": "https://portal.example.com/api/events/http/github", "content_type": "json",
			"secret": hookSecret, "insecure_ssl": "0"},
		"events": []any{"push", "repository"}, "active": true,
	})
	equal(t, "Authorization", hook.Header.Get("Authorization"), "token "+testToken)

	// defaults: form, [push], active, the events secret
	f.mu.Lock()
	f.reqs = nil
	f.mu.Unlock()
	res = runAction(t, e.p, "github:webhook", workspace(t), map[string]any{
		"repoUrl": f.host() + "?owner=acme&repo=svc", "webhookUrl": "https://portal.example.com/hook", "insecureSsl": true,
	}, false)
	if res.err != nil {
		t.Fatal(res.err)
	}
	equal(t, "default body", f.find(t, "POST", "/repos/acme/svc/hooks").JSON(t), map[string]any{
		"config": map[string]any{"url": "https://portal.example.com/hook", "content_type": "form", "secret": testSecret, "insecure_ssl": "1"},
		"events": []any{"push"}, "active": true,
	})

	// a failure is a warning
	res = runAction(t, e.p, "github:webhook", workspace(t), map[string]any{
		"repoUrl": f.host() + "?owner=acme&repo=gone", "webhookUrl": "https://portal.example.com/hook", "webhookSecret": hookSecret,
	}, false)
	if res.err != nil {
		t.Fatalf("a failed hook failed the action: %v", res.err)
	}
	if !strings.Contains(res.log(), "Failed: create webhook 'https://portal.example.com/hook' on repo: 'gone', GitHub POST /repos/acme/gone/hooks answered 404") {
		t.Errorf("log = %s", res.log())
	}

	// a dry run creates nothing
	f.mu.Lock()
	f.reqs = nil
	f.mu.Unlock()
	res = runAction(t, e.p, "github:webhook", workspace(t), map[string]any{
		"repoUrl": f.host() + "?owner=acme&repo=svc", "webhookUrl": "https://portal.example.com/hook", "webhookSecret": hookSecret,
	}, true)
	if res.err != nil {
		t.Fatal(res.err)
	}
	equal(t, "dry-run calls", len(f.requests()), 0)
	for _, s := range []string{hookSecret, testSecret} {
		if strings.Contains(res.log(), s) || strings.Contains(e.log.String(), s) {
			t.Error("a webhook secret is in the log")
		}
	}
}

func TestDispatch(t *testing.T) {
	f := newFake(t)
	e := newPlugin(t, f, nil)
	f.on("POST /repos/acme/svc/actions/workflows/ci.yml/dispatches", 204, "")
	res := runAction(t, e.p, "github:actions:dispatch", workspace(t), map[string]any{
		"repoUrl": f.host() + "?owner=acme&repo=svc", "workflowId": "ci.yml", "branchOrTagName": "main",
		"workflowInputs": map[string]any{"env": "prod"},
	}, false)
	if res.err != nil {
		t.Fatal(res.err)
	}
	equal(t, "body", f.find(t, "POST", "/repos/acme/svc/actions/workflows/ci.yml/dispatches").JSON(t),
		map[string]any{"ref": "main", "inputs": map[string]any{"env": "prod"}})
	equal(t, "outputs", len(res.outputs), 0)
	if !strings.Contains(res.log(), "Workflow ci.yml dispatched successfully") {
		t.Errorf("log = %s", res.log())
	}
	res = runAction(t, e.p, "github:actions:dispatch", workspace(t), map[string]any{
		"repoUrl": f.host() + "?owner=acme&repo=svc", "workflowId": "missing.yml", "branchOrTagName": "main",
	}, false)
	if res.err == nil || !strings.Contains(res.err.Error(), "dispatching the workflow missing.yml on acme/svc: GitHub POST /repos/acme/svc/actions/workflows/missing.yml/dispatches answered 404: Not Found") {
		t.Fatalf("err = %v", res.err)
	}
}

func TestPagesEnable(t *testing.T) {
	f := newFake(t)
	e := newPlugin(t, f, nil)
	f.on("POST /repos/acme/svc/pages", 201, `{"url":"https://api.github.com/repos/acme/svc/pages"}`)
	res := runAction(t, e.p, "github:pages:enable", workspace(t), map[string]any{
		"repoUrl": f.host() + "?owner=acme&repo=svc", "buildType": "legacy", "sourcePath": "/docs",
	}, false)
	if res.err != nil {
		t.Fatal(res.err)
	}
	equal(t, "body", f.find(t, "POST", "/repos/acme/svc/pages").JSON(t),
		map[string]any{"build_type": "legacy", "source": map[string]any{"branch": "main", "path": "/docs"}})
	if !strings.Contains(res.log(), "Completed enabling GitHub Pages") {
		t.Errorf("log = %s", res.log())
	}
	res = runAction(t, e.p, "github:pages:enable", workspace(t), map[string]any{
		"repoUrl": f.host() + "?owner=acme&repo=svc", "sourcePath": "/site",
	}, false)
	if res.err == nil || !strings.Contains(res.err.Error(), `"sourcePath" must be "/" or "/docs"`) {
		t.Errorf("bad sourcePath: %v", res.err)
	}
}
