package azure

import (
	"context"
	"net/http"
	"strings"
	"testing"
)

const prAnswer = `{"pullRequestId":42,"status":"active","createdBy":{"id":"d6245f20-2af8-44f4-9451-8107cb2767db","displayName":"Robot"},"url":"https://dev.azure.com/acme/_apis/git/repositories/r/pullRequests/42"}`

func prRoute(f *fakeAzure, path string) {
	f.handle("POST "+path, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json; charset=utf-8")
		w.WriteHeader(http.StatusCreated)
		_, _ = w.Write([]byte(prAnswer))
	})
}

func TestPullRequest(t *testing.T) {
	f := newFake(t)
	prRoute(f, "/acme/My%20Project/_apis/git/repositories/app/pullrequests")
	f.json("PATCH /acme/My%20Project/_apis/git/repositories/app/pullrequests/42", 200, map[string]any{"pullRequestId": 42})
	p, logs := newPlugin(t, f, baseConfig)
	res := runAction(t, actionOf(t, p, "azure:repo:pr"), t.TempDir(), map[string]any{
		"server": f.host(), "organization": "acme", "project": "My Project", "repoId": "app",
		"sourceBranch": "feature/x", "targetBranch": "refs/heads/develop", "title": "Add the service", "description": "Made by the scaffolder",
		"supportsIterations": false, "autoComplete": true,
	})
	if res.err != nil {
		t.Fatal(res.err)
	}
	want := []string{
		"POST /acme/My%20Project/_apis/git/repositories/app/pullrequests?api-version=6.0&supportsIterations=false",
		"PATCH /acme/My%20Project/_apis/git/repositories/app/pullrequests/42?api-version=6.0",
	}
	if got := f.calls(); strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("calls:\n%s", strings.Join(got, "\n"))
	}
	reqs := f.api()
	for _, r := range reqs {
		if r.Header.Get("Authorization") != wantAuth || r.Header.Get("Content-Type") != "application/json" {
			t.Errorf("%s headers %v", r.Method, r.Header)
		}
	}
	jsonEq(t, "create", reqs[0].Body, map[string]any{
		"description": "Made by the scaffolder", "sourceRefName": "refs/heads/feature/x",
		"targetRefName": "refs/heads/develop", "title": "Add the service",
	})
	jsonEq(t, "update", reqs[1].Body, map[string]any{
		"autoCompleteSetBy": map[string]any{"id": "d6245f20-2af8-44f4-9451-8107cb2767db"},
		"completionOptions": map[string]any{"deleteSourceBranch": true},
	})
	if len(res.outputs) != 1 || res.outputs["pullRequestId"] != float64(42) {
		t.Errorf("outputs %v", res.outputs)
	}
	noSecret(t, "logs", logs.String(), strings.Join(res.logs, "\n"))
}

// TestPullRequestDefaults: the community module's branch defaults, no
// project (a repository ID is unique in its organization), no
// supportsIterations query, no auto-complete call.
func TestPullRequestDefaults(t *testing.T) {
	f := newFake(t)
	prRoute(f, "/acme/_apis/git/repositories/6ce954b1-ce1f-45d1-b94d-e6bf2464ba2c/pullrequests")
	p, _ := newPlugin(t, f, baseConfig)
	res := runAction(t, actionOf(t, p, "azure:repo:pr"), t.TempDir(), map[string]any{
		"server": f.host(), "organization": "acme", "repoId": "6ce954b1-ce1f-45d1-b94d-e6bf2464ba2c", "title": "T",
	})
	if res.err != nil {
		t.Fatal(res.err)
	}
	if got := strings.Join(f.calls(), "\n"); got != "POST /acme/_apis/git/repositories/6ce954b1-ce1f-45d1-b94d-e6bf2464ba2c/pullrequests?api-version=6.0" {
		t.Fatalf("calls:\n%s", got)
	}
	jsonEq(t, "create", f.api()[0].Body, map[string]any{
		"description": "", "sourceRefName": "refs/heads/scaffolder", "targetRefName": "refs/heads/main", "title": "T",
	})
	if res.outputs["pullRequestId"] != float64(42) {
		t.Errorf("outputs %v", res.outputs)
	}
}

func TestPullRequestRefusals(t *testing.T) {
	f := newFake(t)
	f.json("POST /acme/p/_apis/git/repositories/exists/pullrequests", 409, map[string]any{
		"message": "TF401179: An active pull request for the source and target branch already exists."})
	prRoute(f, "/acme/p/_apis/git/repositories/noauto/pullrequests")
	f.json("PATCH /acme/p/_apis/git/repositories/noauto/pullrequests/42", 403, map[string]any{"message": "TF401027: You need the Git 'PullRequestContribute' permission"})
	p, _ := newPlugin(t, f, baseConfig)
	h := f.host()
	base := func(kv ...any) map[string]any {
		m := map[string]any{"server": h, "organization": "acme", "project": "p", "repoId": "r", "title": "T"}
		for i := 0; i+1 < len(kv); i += 2 {
			if kv[i+1] == nil {
				delete(m, kv[i].(string))
			} else {
				m[kv[i].(string)] = kv[i+1]
			}
		}
		return m
	}
	cases := []struct {
		name  string
		input map[string]any
		want  string
	}{
		{"no title", base("title", nil), `input "title" is required`},
		{"no repoId", base("repoId", nil), `input "repoId" is required`},
		{"no organization", base("organization", nil), `input "organization" is required`},
		{"default server is dev.azure.com without credentials", base("server", nil), "No token credentials provided for https://dev.azure.com/acme"},
		{"unknown server", base("server", "azure.example.com"), "No matching integration configuration for host azure.example.com"},
		{"path in repoId", base("repoId", "../../_apis/projects"), `input "repoId" "../../_apis/projects" is not a repository ID or name`},
		{"bad project", base("project", "a/b"), `input "project" "a/b" is not a valid project name`},
		{"bad organization", base("organization", "a?b"), `input "organization" "a?b" is not a valid organization name`},
		{"bad branch", base("sourceBranch", "a b"), `input "sourceBranch": invalid branch "a b"`},
		{"supportsIterations type", base("supportsIterations", "yes"), "supportsIterations"},
		{"exists", base("repoId", "exists"), "Azure DevOps " + h + ": POST /acme/p/_apis/git/repositories/exists/pullrequests: 409 Conflict: TF401179"},
		{"auto-complete fails", base("repoId", "noauto", "autoComplete", true),
			"pull request 42 was created, but setting auto-complete failed: Azure DevOps " + h + ": PATCH /acme/p/_apis/git/repositories/noauto/pullrequests/42: 403 Forbidden: TF401027"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			res := runAction(t, actionOf(t, p, "azure:repo:pr"), t.TempDir(), tc.input)
			if res.err == nil || !strings.Contains(res.err.Error(), tc.want) {
				t.Fatalf("error %v, want %q", res.err, tc.want)
			}
			noSecret(t, "error", res.err.Error())
		})
	}
}

func TestHealth(t *testing.T) {
	f := newFake(t)
	f.json("GET /acme/_apis/projects", 200, map[string]any{"count": 1, "value": []any{map[string]any{"name": "p"}}})
	p, _ := newPlugin(t, f, `
integrations:
  azure:
    - host: "{{HOST}}"
      baseUrl: "{{URL}}"
      credentials:
        - personalAccessToken: "{{TOKEN}}"
        - {personalAccessToken: "{{TOKEN}}", organizations: [acme, second]}
`)
	if err := p.CheckHealth(context.Background()); err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(f.calls(), "\n"); got != "GET /acme/_apis/projects?$top=1&api-version=6.0" {
		t.Fatalf("calls:\n%s", got)
	}
	if a := f.api()[0].Header.Get("Authorization"); a != wantAuth {
		t.Errorf("auth %q", a)
	}

	// no organization known: nothing to ask, and dev.azure.com (implicit)
	// is never polled
	f2 := newFake(t)
	p2, _ := newPlugin(t, f2, `integrations: {azure: [{host: "{{HOST}}", baseUrl: "{{URL}}", token: "{{TOKEN}}"}]}`)
	if err := p2.CheckHealth(context.Background()); err != nil || len(f2.reqs) != 0 {
		t.Errorf("%v %v", err, f2.calls())
	}

	// a rejected token is an error naming the host
	f3 := newFake(t)
	f3.json("GET /acme/_apis/projects", 401, map[string]any{"message": "Access Denied: " + testToken})
	p3, _ := newPlugin(t, f3, baseConfig)
	err := p3.CheckHealth(context.Background())
	if err == nil || err.Error() != "Azure DevOps "+f3.host()+": GET /acme/_apis/projects: 401 Unauthorized: Access Denied: ***" {
		t.Fatalf("error %v", err)
	}
}
