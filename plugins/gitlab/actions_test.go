package gitlab

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/greenroom-dev/greenroom/plugins/gittest"
	"github.com/greenroom-dev/greenroom/scaffolder/action"
)

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

func TestNoDryRunButEnsureExists(t *testing.T) {
	p, _, err := tryPlugin(nil, "integrations: {gitlab: [{host: git.example.com}]}")
	if err != nil {
		t.Fatal(err)
	}
	var ids, dry []string
	for _, a := range p.Actions() {
		ids = append(ids, a.ID())
		if action.SupportsDryRun(a) {
			dry = append(dry, a.ID())
		}
		in, out := a.Schema()
		if in["type"] != "object" || out["type"] != "object" {
			t.Errorf("%s schema %v %v", a.ID(), in, out)
		}
	}
	sort.Strings(ids)
	want := "gitlab:group:ensureExists,gitlab:pipeline:trigger,gitlab:projectAccessToken:create,gitlab:projectVariable:create,gitlab:repo:push,publish:gitlab,publish:gitlab:merge-request"
	if strings.Join(ids, ",") != want {
		t.Errorf("actions %v", ids)
	}
	// Backstage's gitlab:group:ensureExists has supportsDryRun: true; the
	// others are skipped in dry runs.
	if strings.Join(dry, ",") != "gitlab:group:ensureExists" {
		t.Errorf("dry-run actions %v", dry)
	}
	ex := action.ExampleOutput(func() map[string]any { _, o := actionOf(t, p, "publish:gitlab").Schema(); return o }())
	if m := ex.(map[string]any); m["remoteUrl"] != "<example>" || m["projectId"] != float64(0) {
		t.Errorf("example output %v", ex)
	}
}

func TestPublishGitlab(t *testing.T) {
	f := newFake(t)
	f.json("GET /api/v4/namespaces/group%2Fsub", 200, map[string]any{"id": 42, "kind": "group", "full_path": "group/sub"})
	f.handle("POST /api/v4/projects", func(w http.ResponseWriter, r *http.Request) {
		f.bareRepo("group/sub/my-repo")
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusCreated)
		fmt.Fprintf(w, `{"id":99,"path_with_namespace":"group/sub/my-repo","web_url":"%[1]s/group/sub/my-repo","http_url_to_repo":"%[1]s/group/sub/my-repo.git"}`, f.url())
	})
	f.json("POST /api/v4/projects/99/repository/branches", 201, map[string]any{"name": "develop"})
	f.json("POST /api/v4/projects/99/protected_branches", 201, map[string]any{"name": "develop"})
	f.json("POST /api/v4/projects/99/variables", 201, map[string]any{"key": "X"})
	p, logs := newPlugin(t, f, baseConfig+"scaffolder: {defaultAuthor: {name: Robot, email: robot@example.com}}")

	ws := t.TempDir()
	gittest.WriteFiles(t, ws, map[string]string{"app/catalog-info.yaml": "kind: Component\n", "app/run.sh": "#!/bin/sh\n", "outside.txt": "no"})
	res := runAction(t, actionOf(t, p, "publish:gitlab"), ws, map[string]any{
		"repoUrl":       f.host() + "?owner=group/sub&repo=my-repo",
		"sourcePath":    "app",
		"defaultBranch": "main",
		"topics":        []any{"backstage"},
		"settings":      map[string]any{"description": "My repo", "visibility": "internal"},
		"branches":      []any{map[string]any{"name": "develop", "create": true, "protect": true, "ref": "main"}},
		"projectVariables": []any{
			map[string]any{"key": "API_KEY", "value": "variable-secret-value", "masked": true},
		},
	})
	if res.err != nil {
		t.Fatal(res.err)
	}

	wantCalls := []string{
		"GET /api/v4/namespaces/group%2Fsub",
		"POST /api/v4/projects",
		"POST /api/v4/projects/99/repository/branches",
		"POST /api/v4/projects/99/protected_branches",
		"POST /api/v4/projects/99/variables",
	}
	if got := f.calls(); strings.Join(got, "\n") != strings.Join(wantCalls, "\n") {
		t.Fatalf("calls:\n%s", strings.Join(got, "\n"))
	}
	for _, r := range f.requests() {
		if r.Header.Get("PRIVATE-TOKEN") != testToken {
			t.Errorf("%s %s without PRIVATE-TOKEN", r.Method, r.RequestURI)
		}
		if r.Method == "POST" && r.Header.Get("Content-Type") != "application/json" {
			t.Errorf("%s content type %q", r.RequestURI, r.Header.Get("Content-Type"))
		}
	}
	jsonEq(t, "create project", f.find(t, "POST", "/api/v4/projects").Body, map[string]any{
		"namespace_id": 42, "name": "my-repo", "path": "my-repo", "visibility": "internal",
		"topics": []string{"backstage"}, "description": "My repo",
	})
	jsonEq(t, "branch", f.find(t, "POST", "/api/v4/projects/99/repository/branches").Body, map[string]any{"branch": "develop", "ref": "main"})
	jsonEq(t, "protect", f.find(t, "POST", "/api/v4/projects/99/protected_branches").Body, map[string]any{"name": "develop"})
	jsonEq(t, "variable", f.find(t, "POST", "/api/v4/projects/99/variables").Body, map[string]any{
		"key": "API_KEY", "value": "variable-secret-value", "variable_type": "env_var", "protected": false,
		"masked": true, "raw": false, "environment_scope": "*",
	})

	hash, _ := res.outputs["commitHash"].(string)
	if len(hash) != 40 || res.outputs["remoteUrl"] != f.url()+"/group/sub/my-repo" ||
		res.outputs["repoContentsUrl"] != f.url()+"/group/sub/my-repo/-/blob/main" || res.outputs["projectId"] != float64(99) {
		t.Errorf("outputs %v", res.outputs)
	}

	// what was pushed, seen by a clone
	clone := gittest.Clone(t, filepath.Join(f.gitRoot, "group/sub/my-repo.git"), "main")
	if head := gittest.Git(t, clone, "rev-parse", "HEAD"); head != hash {
		t.Errorf("HEAD %s, commitHash %s", head, hash)
	}
	if b, err := os.ReadFile(filepath.Join(clone, "catalog-info.yaml")); err != nil || string(b) != "kind: Component\n" {
		t.Errorf("catalog-info.yaml %q %v", b, err)
	}
	if _, err := os.Stat(filepath.Join(clone, "outside.txt")); err == nil {
		t.Error("only sourcePath is published")
	}
	if got := gittest.Git(t, clone, "log", "-1", "--format=%an <%ae> %s"); got != "Robot <robot@example.com> initial commit" {
		t.Errorf("commit %q", got)
	}
	if mode := gittest.Git(t, clone, "ls-files", "-s", "run.sh"); !strings.HasPrefix(mode, "100755") {
		t.Errorf("run.sh mode %q", mode)
	}
	noSecret(t, "logs", logs.String(), strings.Join(res.logs, "\n"))
	for _, l := range res.logs {
		if strings.Contains(l, "variable-secret-value") {
			t.Errorf("a variable value was logged: %s", l)
		}
	}
}

func TestPublishGitlabErrors(t *testing.T) {
	f := newFake(t)
	f.json("GET /api/v4/namespaces/nobody", 404, map[string]any{"message": "404 Namespace Not Found"})
	f.json("GET /api/v4/namespaces/grp", 200, map[string]any{"id": 1, "kind": "group"})
	// an upstream that echoes the token back must not leak it
	f.json("POST /api/v4/projects", 400, map[string]any{"message": map[string]any{"name": []string{"has already been taken by " + testToken}}})
	p, _ := newPlugin(t, f, baseConfig+`
    - host: tokenless.example.com
`)
	pub := actionOf(t, p, "publish:gitlab")
	ws := t.TempDir()
	tests := []struct {
		name    string
		input   map[string]any
		wantErr string
	}{
		{"unknown host", map[string]any{"repoUrl": "nowhere.example.com?owner=a&repo=b"},
			"No matching integration configuration for host nowhere.example.com, please check your integrations config"},
		{"no token", map[string]any{"repoUrl": "tokenless.example.com?owner=a&repo=b"}, "No token available for host tokenless.example.com"},
		{"missing owner", map[string]any{"repoUrl": f.host() + "?repo=b"}, "missing owner"},
		{"bad repo", map[string]any{"repoUrl": f.host() + "?owner=a&repo=..%2Fx"}, "Invalid repo URL"},
		{"namespace not found", map[string]any{"repoUrl": f.host() + "?owner=nobody&repo=b"},
			"The namespace nobody is not found or the user doesn't have permissions to access it"},
		{"create fails", map[string]any{"repoUrl": f.host() + "?owner=grp&repo=b"}, "POST /projects: 400 Bad Request"},
		{"bad branch", map[string]any{"repoUrl": f.host() + "?owner=grp&repo=b", "defaultBranch": "-x"}, "invalid defaultBranch"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := runAction(t, pub, ws, tt.input)
			if res.err == nil || !strings.Contains(res.err.Error(), tt.wantErr) {
				t.Fatalf("error %v, want %q", res.err, tt.wantErr)
			}
			noSecret(t, "error", res.err.Error())
			t.Log(res.err)
		})
	}
}

func TestPublishRefusesForeignRemote(t *testing.T) {
	f := newFake(t)
	f.json("GET /api/v4/namespaces/grp", 200, map[string]any{"id": 1, "kind": "group"})
	f.json("POST /api/v4/projects", 201, map[string]any{"id": 5, "http_url_to_repo": "https://evil.example.com/grp/b.git"})
	p, _ := newPlugin(t, f, baseConfig)
	res := runAction(t, actionOf(t, p, "publish:gitlab"), t.TempDir(), map[string]any{"repoUrl": f.host() + "?owner=grp&repo=b"})
	if res.err == nil || !strings.Contains(res.err.Error(), "is not on the integration's base URL") {
		t.Fatalf("error %v", res.err)
	}
}

func sha(s string) string { h := sha256.Sum256([]byte(s)); return hex.EncodeToString(h[:]) }

func TestMergeRequest(t *testing.T) {
	f := newFake(t)
	pr := "/api/v4/projects/group%2Fproj"
	f.json("GET /api/v4/users", 200, []map[string]any{{"id": 11, "username": "jane"}})
	f.json("GET "+pr, 200, map[string]any{"id": 3, "default_branch": "main"})
	f.json("GET "+pr+"/repository/tree", 200, []map[string]any{
		{"path": "svc/same.yaml", "type": "blob"}, {"path": "svc/changed.yaml", "type": "blob"}, {"path": "svc", "type": "tree"},
	}, "X-Next-Page", "")
	f.json("GET "+pr+"/repository/files/svc%2Fsame.yaml", 200, map[string]any{"content_sha256": sha("same\n")})
	f.json("GET "+pr+"/repository/files/svc%2Fchanged.yaml", 200, map[string]any{"content_sha256": sha("old\n")})
	f.json("POST "+pr+"/repository/branches", 201, map[string]any{"name": "feature"})
	f.json("POST "+pr+"/repository/commits", 201, map[string]any{"id": "abc"})
	f.json("POST "+pr+"/merge_requests", 201, map[string]any{"iid": 4, "web_url": f.url() + "/group/proj/-/merge_requests/4"})
	p, logs := newPlugin(t, f, baseConfig)

	ws := t.TempDir()
	gittest.WriteFiles(t, ws, map[string]string{"out/same.yaml": "same\n", "out/changed.yaml": "new\n", "out/new.sh": "#!/bin/sh\n", "out/.git/HEAD": "x"})
	res := runAction(t, actionOf(t, p, "publish:gitlab:merge-request"), ws, map[string]any{
		"repoUrl":            f.host() + "?owner=group&repo=proj",
		"title":              "Add service",
		"description":        "Created by Greenroom",
		"branchName":         "feature",
		"sourcePath":         "out",
		"targetPath":         "svc",
		"removeSourceBranch": true,
		"assignee":           "jane",
		"reviewers":          []any{"jane"},
		"labels":             []any{"a", "b"},
		"draft":              true,
		"token":              "user-oauth-token",
	})
	if res.err != nil {
		t.Fatal(res.err)
	}
	wantCalls := []string{
		"GET /api/v4/users?username=jane",
		"GET /api/v4/users?username=jane",
		"GET " + pr,
		"GET " + pr + "/repository/tree?page=1&path=svc&per_page=100&recursive=true&ref=main",
		"GET " + pr + "/repository/files/svc%2Fchanged.yaml?ref=main",
		"GET " + pr + "/repository/files/svc%2Fsame.yaml?ref=main",
		"GET " + pr + "/repository/branches/feature",
		"POST " + pr + "/repository/branches",
		"POST " + pr + "/repository/commits",
		"POST " + pr + "/merge_requests",
	}
	if got := f.calls(); strings.Join(got, "\n") != strings.Join(wantCalls, "\n") {
		t.Fatalf("calls:\n%s", strings.Join(got, "\n"))
	}
	for _, r := range f.requests() {
		if r.Header.Get("Authorization") != "Bearer user-oauth-token" || r.Header.Get("PRIVATE-TOKEN") != "" {
			t.Errorf("%s: the token input is a Bearer token: %v", r.RequestURI, r.Header)
		}
	}
	b64 := func(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }
	jsonEq(t, "branch", f.find(t, "POST", pr+"/repository/branches").Body, map[string]any{"branch": "feature", "ref": "main"})
	jsonEq(t, "commit", f.find(t, "POST", pr+"/repository/commits").Body, map[string]any{
		"branch": "feature", "commit_message": "Add service",
		"actions": []map[string]any{
			{"action": "update", "file_path": "svc/changed.yaml", "content": b64("new\n"), "encoding": "base64"},
			{"action": "create", "file_path": "svc/new.sh", "content": b64("#!/bin/sh\n"), "encoding": "base64", "execute_filemode": true},
		},
	})
	jsonEq(t, "merge request", f.find(t, "POST", pr+"/merge_requests").Body, map[string]any{
		"source_branch": "feature", "target_branch": "main", "title": "Draft: Add service",
		"description": "Created by Greenroom", "remove_source_branch": true,
		"assignee_id": 11, "reviewer_ids": []int{11}, "labels": "a,b",
	})
	want := map[string]any{"projectid": "group/proj", "projectPath": "group/proj", "targetBranchName": "main",
		"mergeRequestUrl": f.url() + "/group/proj/-/merge_requests/4"}
	for k, v := range want {
		if res.outputs[k] != v {
			t.Errorf("output %s = %v, want %v", k, res.outputs[k], v)
		}
	}
	noSecret(t, "logs", logs.String())
}

func TestMergeRequestExistingBranch(t *testing.T) {
	f := newFake(t)
	pr := "/api/v4/projects/42"
	f.json("GET "+pr+"/repository/branches/feature", 200, map[string]any{"web_url": f.url() + "/g/p/-/tree/feature"})
	f.json("GET "+pr+"/merge_requests", 200, []map[string]any{{"web_url": f.url() + "/g/p/-/merge_requests/1"}})
	p, _ := newPlugin(t, f, baseConfig)
	ws := t.TempDir()
	gittest.WriteFiles(t, ws, map[string]string{"a.txt": "a"})
	res := runAction(t, actionOf(t, p, "publish:gitlab:merge-request"), ws, map[string]any{
		"repoUrl": f.host() + "?project=42", "title": "t", "branchName": "feature", "targetBranchName": "main", "commitAction": "create",
	})
	want := "The branch creation failed because the branch already exists at: " + f.url() + "/g/p/-/tree/feature. Additionally, there is a Merge Request for this branch: " + f.url() + "/g/p/-/merge_requests/1"
	if res.err == nil || res.err.Error() != want {
		t.Fatalf("error %v\nwant %s", res.err, want)
	}
	if got := f.calls(); strings.Join(got, ",") != "GET "+pr+"/repository/branches/feature,GET "+pr+"/merge_requests?source_branch=feature" {
		t.Errorf("calls %v", got)
	}
}

func TestRepoPush(t *testing.T) {
	f := newFake(t)
	pr := "/api/v4/projects/group%2Fproj"
	f.json("GET "+pr+"/repository/branches/release%2F1", 404, map[string]any{"message": "404 Branch Not Found"})
	f.json("GET "+pr, 200, map[string]any{"id": 3, "default_branch": "main"})
	f.json("POST "+pr+"/repository/branches", 201, map[string]any{"name": "release/1"})
	f.json("POST "+pr+"/repository/commits", 201, map[string]any{"id": "c0ffee"})
	p, _ := newPlugin(t, f, baseConfig)
	ws := t.TempDir()
	gittest.WriteFiles(t, ws, map[string]string{"docs/a.md": "# A"})
	res := runAction(t, actionOf(t, p, "gitlab:repo:push"), ws, map[string]any{
		"repoUrl": f.host() + "?owner=group&repo=proj", "branchName": "release/1", "commitMessage": "docs",
		"sourcePath": "docs", "targetPath": "handbook", "commitAction": "update",
	})
	if res.err != nil {
		t.Fatal(res.err)
	}
	want := []string{"GET " + pr + "/repository/branches/release%2F1", "GET " + pr, "POST " + pr + "/repository/branches", "POST " + pr + "/repository/commits"}
	if got := f.calls(); strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("calls:\n%s", strings.Join(got, "\n"))
	}
	jsonEq(t, "branch", f.find(t, "POST", pr+"/repository/branches").Body, map[string]any{"branch": "release/1", "ref": "main"})
	jsonEq(t, "commit", f.find(t, "POST", pr+"/repository/commits").Body, map[string]any{
		"branch": "release/1", "commit_message": "docs",
		"actions": []map[string]any{{"action": "update", "file_path": "handbook/a.md", "content": base64.StdEncoding.EncodeToString([]byte("# A")), "encoding": "base64"}},
	})
	if res.outputs["commitHash"] != "c0ffee" || res.outputs["projectid"] != "group/proj" || res.outputs["projectPath"] != "group/proj" {
		t.Errorf("outputs %v", res.outputs)
	}

	// a symbolic link in the workspace is refused, not followed
	if err := os.Symlink("/etc/passwd", filepath.Join(ws, "docs", "link")); err != nil {
		t.Skip(err)
	}
	res = runAction(t, actionOf(t, p, "gitlab:repo:push"), ws, map[string]any{
		"repoUrl": f.host() + "?owner=group&repo=proj", "branchName": "release/1", "commitMessage": "docs", "sourcePath": "docs",
	})
	if res.err == nil || !strings.Contains(res.err.Error(), "symbolic link") {
		t.Errorf("error %v", res.err)
	}
}

func TestPipelineTrigger(t *testing.T) {
	const triggerToken = "glptt-trigger-secret"
	for _, fail := range []bool{false, true} {
		t.Run(fmt.Sprintf("trigger fails=%v", fail), func(t *testing.T) {
			f := newFake(t)
			f.json("POST /api/v4/projects/12/triggers", 201, map[string]any{"id": 77, "token": triggerToken, "description": "greenroom"})
			if fail {
				f.json("POST /api/v4/projects/12/trigger/pipeline", 400, map[string]any{"message": "bad ref for token " + triggerToken})
			} else {
				f.json("POST /api/v4/projects/12/trigger/pipeline", 201, map[string]any{"id": 1000, "web_url": f.url() + "/g/p/-/pipelines/1000"})
			}
			f.json("DELETE /api/v4/projects/12/triggers/77", 204, nil)
			p, logs := newPlugin(t, f, baseConfig)
			res := runAction(t, actionOf(t, p, "gitlab:pipeline:trigger"), t.TempDir(), map[string]any{
				"repoUrl": f.host() + "?owner=g&repo=p", "projectId": float64(12), "tokenDescription": "greenroom",
				"branch": "main", "variables": map[string]any{"ENV": "prod"},
			})
			want := []string{"POST /api/v4/projects/12/triggers", "POST /api/v4/projects/12/trigger/pipeline", "DELETE /api/v4/projects/12/triggers/77"}
			if got := f.calls(); strings.Join(got, "\n") != strings.Join(want, "\n") {
				t.Fatalf("calls:\n%s", strings.Join(got, "\n"))
			}
			jsonEq(t, "trigger", f.find(t, "POST", "/api/v4/projects/12/triggers").Body, map[string]any{"description": "greenroom"})
			jsonEq(t, "pipeline", f.find(t, "POST", "/api/v4/projects/12/trigger/pipeline").Body, map[string]any{
				"token": triggerToken, "ref": "main", "variables": map[string]string{"ENV": "prod"}})
			if fail {
				if res.err == nil || !strings.HasPrefix(res.err.Error(), "Failed to trigger Pipeline: ") {
					t.Fatalf("error %v", res.err)
				}
				if strings.Contains(res.err.Error(), triggerToken) {
					t.Errorf("the trigger token leaked: %v", res.err)
				}
			} else if res.err != nil || res.outputs["pipelineUrl"] != f.url()+"/g/p/-/pipelines/1000" {
				t.Fatalf("%v %v", res.err, res.outputs)
			}
			all := logs.String() + strings.Join(res.logs, "\n")
			if strings.Contains(all, triggerToken) {
				t.Errorf("the trigger token was logged")
			}
			noSecret(t, "logs", all)
		})
	}
}

func TestProjectVariableCreate(t *testing.T) {
	f := newFake(t)
	f.json("POST /api/v4/projects/group%2Fproj/variables", 201, map[string]any{"key": "DEPLOY"})
	p, _ := newPlugin(t, f, baseConfig)
	a := actionOf(t, p, "gitlab:projectVariable:create")
	res := runAction(t, a, t.TempDir(), map[string]any{
		"repoUrl": f.host(), "projectId": "group/proj", "key": "DEPLOY", "value": "v", "variableType": "file", "masked": true,
	})
	if res.err != nil {
		t.Fatal(res.err)
	}
	jsonEq(t, "variable", f.find(t, "POST", "/api/v4/projects/group%2Fproj/variables").Body, map[string]any{
		"key": "DEPLOY", "value": "v", "variable_type": "file", "protected": false, "masked": true, "raw": false, "environment_scope": "*"})
	res = runAction(t, a, t.TempDir(), map[string]any{"repoUrl": f.host(), "projectId": 1.0, "key": "bad-key", "value": "v", "variableType": "env_var"})
	if res.err == nil || !strings.Contains(res.err.Error(), "bad-key") {
		t.Errorf("error %v", res.err)
	}
}

func TestProjectAccessTokenCreate(t *testing.T) {
	const created = "glpat-CREATED-project-token"
	f := newFake(t)
	f.json("POST /api/v4/projects/5/access_tokens", 201, map[string]any{"id": 1, "token": created})
	p, logs := newPlugin(t, f, baseConfig)
	res := runAction(t, actionOf(t, p, "gitlab:projectAccessToken:create"), t.TempDir(), map[string]any{
		"repoUrl": f.host(), "projectId": 5.0,
	})
	if res.err != nil {
		t.Fatal(res.err)
	}
	jsonEq(t, "token", f.find(t, "POST", "/api/v4/projects/5/access_tokens").Body, map[string]any{
		"name": "tokenname", "scopes": []string{"read_repository"}, "expires_at": "2027-03-01", "access_level": 40})
	if res.outputs["access_token"] != created {
		t.Errorf("outputs %v", res.outputs)
	}
	if strings.Contains(logs.String()+strings.Join(res.logs, "\n"), created) {
		t.Error("the created token was logged")
	}
}

func TestGroupEnsureExists(t *testing.T) {
	f := newFake(t)
	f.handle("GET /api/v4/groups", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		if r.URL.Query().Get("search") == "top" {
			fmt.Fprint(w, `[{"id":1,"full_path":"top"},{"id":9,"full_path":"top/other"}]`)
			return
		}
		fmt.Fprint(w, `[]`)
	})
	f.json("POST /api/v4/groups", 201, map[string]any{"id": 2, "full_path": "top/team-a"})
	p, _ := newPlugin(t, f, baseConfig)
	a := actionOf(t, p, "gitlab:group:ensureExists")
	in := map[string]any{"repoUrl": f.host(), "path": []any{"top", map[string]any{"name": "Team A", "slug": "team-a"}}}
	res := runAction(t, a, t.TempDir(), in)
	if res.err != nil {
		t.Fatal(res.err)
	}
	want := []string{"GET /api/v4/groups?search=top", "GET /api/v4/groups?search=top%2Fteam-a", "POST /api/v4/groups"}
	if got := f.calls(); strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("calls:\n%s", strings.Join(got, "\n"))
	}
	jsonEq(t, "group", f.find(t, "POST", "/api/v4/groups").Body, map[string]any{"name": "Team A", "path": "team-a", "parent_id": 1})
	if res.outputs["groupId"] != float64(2) {
		t.Errorf("outputs %v", res.outputs)
	}

	// a dry run calls nothing and answers Backstage's 42
	f.reset()
	out := map[string]any{}
	c := &action.Context{Ctx: context.Background(), Workspace: t.TempDir(), Input: in, DryRun: true,
		Output: func(k string, v any) { out[k] = v }}
	if err := action.Run(a, c); err != nil || out["groupId"] != float64(42) || len(f.calls()) != 0 {
		t.Errorf("dry run: %v %v %v", err, out, f.calls())
	}
}
