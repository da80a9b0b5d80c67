package gitlab

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/greenroom-dev/greenroom/plugins"
	"github.com/greenroom-dev/greenroom/plugins/reading"
)

// TestSecretsAbsent drives every capability against a GitLab that fails
// every call with the token in its message, and checks that no error and
// no log line holds the token.
func TestSecretsAbsent(t *testing.T) {
	f := newFake(t)
	echo := func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusUnprocessableEntity)
		_ = json.NewEncoder(w).Encode(map[string]any{"message": "rejected " + testToken + " " + r.Header.Get("Authorization")})
	}
	for _, k := range []string{
		"GET /api/v4/projects/g%2Fp/repository/files/catalog-info.yaml/raw", "GET /api/v4/projects/g%2Fp/repository/commits",
		"GET /api/v4/projects", "GET /api/v4/projects/g%2Fp", "GET /api/v4/namespaces/g", "GET /api/v4/version",
		"POST /api/v4/projects/1/triggers", "POST /api/v4/projects/1/variables", "POST /api/v4/projects/1/access_tokens",
		"GET /api/v4/groups", "GET /api/v4/projects/g%2Fp/repository/branches/b",
	} {
		f.handle(k, echo)
	}
	p, logs := newPlugin(t, f, baseConfig+"catalog: {providers: {gitlab: {x: {host: '{{HOST}}'}}}}")
	ctx := context.Background()
	var errs []string
	add := func(err error) {
		if err == nil {
			t.Error("want an error")
			return
		}
		errs = append(errs, err.Error())
	}
	r := readerFor(t, p, f.host())
	_, err := r.ReadURL(ctx, mustURL(t, f.url()+"/g/p/-/blob/main/catalog-info.yaml"), reading.Options{})
	add(err)
	_, err = r.ReadTree(ctx, mustURL(t, f.url()+"/g/p/-/tree/main/docs"), reading.Options{})
	add(err)
	_, err = p.EntityProviders()[0].Discover(ctx)
	add(err)
	_, err = cardOf(t, p).Render(ctx, entity(map[string]string{annotationSlug: "g/p"}), plugins.Viewer{})
	add(err)
	add(p.CheckHealth(ctx))
	inputs := map[string]map[string]any{
		"publish:gitlab":                   {"repoUrl": f.host() + "?owner=g&repo=p"},
		"publish:gitlab:merge-request":     {"repoUrl": f.host() + "?owner=g&repo=p", "branchName": "b", "title": "t"},
		"gitlab:repo:push":                 {"repoUrl": f.host() + "?owner=g&repo=p", "branchName": "b", "commitMessage": "m"},
		"gitlab:pipeline:trigger":          {"repoUrl": f.host(), "projectId": 1.0, "tokenDescription": "d", "branch": "main"},
		"gitlab:projectVariable:create":    {"repoUrl": f.host(), "projectId": 1.0, "key": "K", "value": "v", "variableType": "env_var"},
		"gitlab:projectAccessToken:create": {"repoUrl": f.host(), "projectId": 1.0},
		"gitlab:group:ensureExists":        {"repoUrl": f.host(), "path": []any{"g"}},
	}
	var actionLogs []string
	for id, in := range inputs {
		res := runAction(t, actionOf(t, p, id), t.TempDir(), in)
		add(res.err)
		actionLogs = append(actionLogs, res.logs...)
	}
	// the token input, sent as a Bearer token and echoed back, is masked too
	res := runAction(t, actionOf(t, p, "gitlab:projectVariable:create"), t.TempDir(),
		map[string]any{"repoUrl": f.host(), "projectId": 1.0, "key": "K", "value": "v", "variableType": "env_var", "token": "user-token-XYZ"})
	add(res.err)
	if strings.Contains(res.err.Error(), "user-token-XYZ") {
		t.Errorf("the token input leaked: %v", res.err)
	}
	if len(errs) != 13 {
		t.Errorf("%d errors", len(errs))
	}
	for _, e := range errs {
		if !strings.Contains(e, "***") && !strings.Contains(e, "422") {
			t.Logf("error without the echoed message: %s", e)
		}
	}
	noSecret(t, "errors", errs...)
	noSecret(t, "logs", logs.String(), strings.Join(actionLogs, "\n"))
}

// TestRedirectDropsToken: a GitLab answer redirected to another host (an
// archive on object storage) does not take PRIVATE-TOKEN along.
func TestRedirectDropsToken(t *testing.T) {
	var mu sync.Mutex
	var seen http.Header
	storage := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		seen = r.Header.Clone()
		mu.Unlock()
		_, _ = w.Write([]byte("content"))
	}))
	defer storage.Close()
	f := newFake(t)
	f.handle("GET /api/v4/projects/g%2Fp/repository/files/a.yaml/raw", func(w http.ResponseWriter, r *http.Request) {
		// localhost is another host than 127.0.0.1 for the client
		http.Redirect(w, r, strings.Replace(storage.URL, "127.0.0.1", "localhost", 1)+"/object", http.StatusFound)
	})
	p, _ := newPlugin(t, f, baseConfig)
	file, err := readerFor(t, p, f.host()).ReadURL(context.Background(), mustURL(t, f.url()+"/g/p/-/blob/main/a.yaml"), reading.Options{})
	if err != nil || string(file.Data) != "content" {
		t.Fatalf("%v %v", err, file)
	}
	mu.Lock()
	defer mu.Unlock()
	if seen == nil || seen.Get("PRIVATE-TOKEN") != "" || seen.Get("Authorization") != "" {
		t.Errorf("the redirect target saw %v", seen)
	}
}
