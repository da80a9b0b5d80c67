package azure

import (
	"encoding/base64"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/greenroom-dev/greenroom/plugins/gittest"
)

// createRoute answers Azure's create-repository call as Azure does,
// creating the bare repository the push goes to.
func createRoute(f *fakeAzure, org, project, projectDir, repo string) {
	f.handle("POST /"+org+"/"+project+"/_apis/git/repositories", func(w http.ResponseWriter, r *http.Request) {
		f.bareRepo(org + "/" + projectDir + "/_git/" + repo)
		w.Header().Set("Content-Type", "application/json; charset=utf-8; api-version=6.0")
		w.WriteHeader(http.StatusCreated)
		// Azure's remoteUrl carries the organization as a user name
		fmt.Fprintf(w, `{"id":"6ce954b1-ce1f-45d1-b94d-e6bf2464ba2c","name":%q,"url":"%[2]s/%[3]s/_apis/git/repositories/6ce954b1","remoteUrl":"http://%[3]s@%[4]s/%[3]s/%[5]s/_git/%[1]s","webUrl":"%[2]s/%[3]s/%[5]s/_git/%[1]s","project":{"name":"x"}}`,
			repo, f.url(), org, f.host(), project)
	})
}

func TestPublishAzure(t *testing.T) {
	f := newFake(t)
	createRoute(f, "acme", "My%20Project", "My Project", "my-repo")
	p, logs := newPlugin(t, f, baseConfig+"scaffolder: {defaultAuthor: {name: Robot, email: robot@example.com}}")

	ws := t.TempDir()
	gittest.WriteFiles(t, ws, map[string]string{"app/catalog-info.yaml": "kind: Component\n", "app/src/main.go": "package main\n", "outside.txt": "no"})
	res := runAction(t, actionOf(t, p, "publish:azure"), ws, map[string]any{
		"repoUrl":       f.host() + "?organization=acme&project=My Project&repo=my-repo",
		"sourcePath":    "app",
		"defaultBranch": "main",
		"description":   "not sent: Backstage does not send it",
	})
	if res.err != nil {
		t.Fatal(res.err)
	}
	if got := strings.Join(f.calls(), "\n"); got != "POST /acme/My%20Project/_apis/git/repositories?api-version=6.0" {
		t.Fatalf("calls:\n%s", got)
	}
	req := f.api()[0]
	if req.Header.Get("Authorization") != wantAuth || req.Header.Get("Content-Type") != "application/json" || req.Header.Get("Accept") != "application/json" {
		t.Errorf("headers %v", req.Header)
	}
	jsonEq(t, "create", req.Body, map[string]any{"name": "my-repo"})

	// the push authenticated as Backstage's does: user "notempty", the PAT
	git := f.gitReqs()
	if len(git) == 0 {
		t.Fatal("no git requests")
	}
	for _, g := range git {
		if !strings.HasPrefix(g.RawPath, "/acme/My%20Project/_git/my-repo/") {
			t.Errorf("git request to %s", g.RawPath)
		}
		if a := g.Header.Get("Authorization"); a != "Basic "+base64.StdEncoding.EncodeToString([]byte("notempty:"+testToken)) {
			t.Errorf("git auth %q", a)
		}
	}

	bare := f.gitRoot + "/acme/My Project/_git/my-repo"
	files, dir := cloneFiles(t, bare, "main")
	if len(files) != 2 || files["catalog-info.yaml"] != "kind: Component\n" || files["src/main.go"] != "package main\n" {
		t.Errorf("pushed files %v", files)
	}
	if got := gittest.Git(t, dir, "log", "-1", "--format=%an <%ae>|%s"); got != "Robot <robot@example.com>|initial commit" {
		t.Errorf("commit %q", got)
	}
	head := gittest.Git(t, dir, "rev-parse", "HEAD")
	want := map[string]any{
		"remoteUrl":       "http://acme@" + f.host() + "/acme/My%20Project/_git/my-repo",
		"repoContentsUrl": f.url() + "/acme/My%20Project/_git/my-repo",
		"repositoryId":    "6ce954b1-ce1f-45d1-b94d-e6bf2464ba2c",
		"commitHash":      head,
	}
	if fmt.Sprint(res.outputs) != fmt.Sprint(want) {
		t.Errorf("outputs\n got  %v\n want %v", res.outputs, want)
	}
	noSecret(t, "logs", logs.String(), strings.Join(res.logs, "\n"), fmt.Sprint(res.outputs))
}

// TestPublishAzureDefaults: master, Backstage's default message, the
// Scaffolder author, and a token input that wins over the integration's.
func TestPublishAzureDefaults(t *testing.T) {
	f := newFake(t)
	createRoute(f, "other", "proj", "proj", "r")
	p, _ := newPlugin(t, f, `
integrations:
  azure:
    - host: "{{HOST}}"
      baseUrl: "{{URL}}"
      credentials: [{personalAccessToken: integration-token-not-used}]
`)
	ws := t.TempDir()
	gittest.WriteFiles(t, ws, map[string]string{"README.md": "hi\n"})
	res := runAction(t, actionOf(t, p, "publish:azure"), ws, map[string]any{
		"repoUrl": f.host() + "?organization=other&project=proj&repo=r", "token": testToken,
	})
	if res.err != nil {
		t.Fatal(res.err)
	}
	if a := f.api()[0].Header.Get("Authorization"); a != wantAuth {
		t.Errorf("auth %q: the token input must win", a)
	}
	files, dir := cloneFiles(t, f.gitRoot+"/other/proj/_git/r", "master")
	if len(files) != 1 || files["README.md"] != "hi\n" {
		t.Errorf("files %v", files)
	}
	if got := gittest.Git(t, dir, "log", "-1", "--format=%an <%ae>|%s"); got != "Scaffolder <scaffolder@backstage.io>|initial commit" {
		t.Errorf("commit %q", got)
	}
}

func TestPublishAzureRefusals(t *testing.T) {
	f := newFake(t)
	// an answer whose remoteUrl points elsewhere: the token must not follow
	f.json("POST /acme/p/_apis/git/repositories", 201, map[string]any{
		"id": "x", "remoteUrl": "https://evil.example.com/acme/p/_git/r", "webUrl": "https://evil.example.com/acme/p/_git/r"})
	f.json("POST /acme/noweb/_apis/git/repositories", 201, map[string]any{"id": "x", "remoteUrl": f.url() + "/acme/noweb/_git/r"})
	f.json("POST /acme/exists/_apis/git/repositories", 409, map[string]any{
		"message": "TF400948: A Git repository with the name r already exists.", "typeKey": "GitRepositoryNameAlreadyExistsException"})
	f.handle("POST /acme/signin/_apis/git/repositories", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		w.WriteHeader(http.StatusNonAuthoritativeInfo)
		_, _ = w.Write([]byte("<html>Azure DevOps Services | Sign In</html>"))
	})
	p, _ := newPlugin(t, f, baseConfig)
	h := f.host()
	cases := []struct {
		name  string
		input map[string]any
		want  string
	}{
		{"no organization", map[string]any{"repoUrl": h + "?project=p&repo=r"},
			"Invalid URL provider was included in the repo URL to create " + h + "?project=p&repo=r, missing organization"},
		{"no project", map[string]any{"repoUrl": h + "?organization=acme&repo=r"}, "missing project"},
		{"no repo", map[string]any{"repoUrl": h + "?organization=acme&project=p"}, "missing repo"},
		{"bad project", map[string]any{"repoUrl": h + "?organization=acme&project=../x&repo=r"}, "is not a valid Azure DevOps name"},
		{"unknown host", map[string]any{"repoUrl": "azure.example.com?organization=acme&project=p&repo=r"},
			"No matching integration configuration for host azure.example.com, please check your integrations config"},
		{"no credentials for the organization", map[string]any{"repoUrl": h + "?organization=zzz&project=p&repo=r"},
			"No credentials provided " + f.url() + "/zzz, please check your integrations config"},
		{"no credentials on dev.azure.com", map[string]any{"repoUrl": "dev.azure.com?organization=acme&project=p&repo=r"},
			"No credentials provided https://dev.azure.com/acme"},
		{"signCommit", map[string]any{"repoUrl": h + "?organization=acme&project=p&repo=r", "signCommit": true}, "signCommit is not supported yet"},
		{"bad branch", map[string]any{"repoUrl": h + "?organization=acme&project=p&repo=r", "defaultBranch": "-x"}, `invalid defaultBranch "-x"`},
		{"sourcePath outside", map[string]any{"repoUrl": h + "?organization=acme&project=p&repo=r", "sourcePath": "../x"}, "sourcePath"},
		{"remote elsewhere", map[string]any{"repoUrl": h + "?organization=acme&project=p&repo=r"},
			"No matching integration configuration for the created repository's remoteUrl https://evil.example.com/acme/p/_git/r"},
		{"no web URL", map[string]any{"repoUrl": h + "?organization=acme&project=noweb&repo=r"}, "No web URL returned from create repository for Azure"},
		{"exists", map[string]any{"repoUrl": h + "?organization=acme&project=exists&repo=r"},
			"Azure DevOps " + h + ": POST /acme/exists/_apis/git/repositories: 409 Conflict: TF400948: A Git repository with the name r already exists."},
		{"sign-in page", map[string]any{"repoUrl": h + "?organization=acme&project=signin&repo=r"},
			"Azure DevOps " + h + ": POST /acme/signin/_apis/git/repositories: the answer (203, text/html) is not JSON: a sign-in page, so the token was not accepted"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			res := runAction(t, actionOf(t, p, "publish:azure"), t.TempDir(), tc.input)
			if res.err == nil || !strings.Contains(res.err.Error(), tc.want) {
				t.Fatalf("error %v, want %q", res.err, tc.want)
			}
			t.Logf("error: %v", res.err)
			noSecret(t, "error", res.err.Error())
		})
	}
	if g := f.gitReqs(); len(g) != 0 {
		t.Errorf("git requests: %v", g)
	}
}
