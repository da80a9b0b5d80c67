package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// startServe runs the real serve command on a free port and waits until it
// is ready. It returns the base URL.
func startServe(t *testing.T, args ...string) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan int, 1)
	go func() {
		done <- run(ctx, append([]string{"serve", "--addr", addr}, args...), io.Discard, io.Discard)
	}()
	t.Cleanup(func() {
		cancel()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			t.Error("serve did not stop")
		}
	})
	base := "http://" + addr
	deadline := time.Now().Add(20 * time.Second)
	for {
		resp, err := http.Get(base + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return base
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("not ready: %v", err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func getJSON(t *testing.T, url string, into any) int {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if into != nil && resp.StatusCode == 200 {
		if err := json.Unmarshal(body, into); err != nil {
			t.Fatalf("GET %s: %v: %s", url, err, body)
		}
	}
	return resp.StatusCode
}

// TestGoldenPath runs the demo's "New Go service" template through the
// scaffolder API of a real server: it publishes to a real bare git
// repository (the demo host mapped to <data-dir>/repos), registers it, and
// the new component appears in the catalog with its relations and its
// docs.
func TestGoldenPath(t *testing.T) {
	if _, err := exec.LookPath("git"); err != nil {
		t.Skip("git not installed")
	}
	t.Setenv("GREENROOM_CONFIG", "")
	dataDir := t.TempDir()
	base := startServe(t, "--data-dir", dataDir)

	body, _ := json.Marshal(map[string]any{
		"templateRef": "template:default/new-go-service",
		"values": map[string]any{
			"name": "basket-api", "description": "Keeps <b>baskets</b> between visits.",
			"owner": "group:default/team-storefront", "system": "system:default/storefront",
			"lifecycle": "production", "repoUrl": "git.freshcart.example?owner=freshcart&repo=basket-api",
		},
	})
	resp, err := http.Post(base+"/api/scaffolder/v2/tasks", "application/json", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	var created struct{ ID string }
	json.NewDecoder(resp.Body).Decode(&created)
	resp.Body.Close()
	if resp.StatusCode != 201 || created.ID == "" {
		t.Fatalf("create task: %d", resp.StatusCode)
	}
	var task struct {
		Status string
		Steps  []struct{ ID, Status string }
		Output struct {
			Links []struct{ Title, URL, EntityRef string }
		}
	}
	deadline := time.Now().Add(60 * time.Second)
	for {
		getJSON(t, base+"/api/scaffolder/v2/tasks/"+created.ID, &task)
		if task.Status != "open" && task.Status != "processing" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("task still %s", task.Status)
		}
		time.Sleep(100 * time.Millisecond)
	}
	if task.Status != "completed" {
		var events []struct {
			Body map[string]any
		}
		getJSON(t, base+"/api/scaffolder/v2/tasks/"+created.ID+"/events", &events)
		t.Fatalf("task %s: steps %+v, events %+v", task.Status, task.Steps, events)
	}

	// the repository: cloned back from the bare repository it was pushed to
	bare := filepath.Join(dataDir, "repos", "git.freshcart.example", "freshcart", "basket-api.git")
	clone := filepath.Join(t.TempDir(), "clone")
	if out, err := exec.Command("git", "clone", "-q", bare, clone).CombinedOutput(); err != nil {
		t.Fatalf("clone: %v: %s", err, out)
	}
	read := func(p string) string {
		b, err := os.ReadFile(filepath.Join(clone, filepath.FromSlash(p)))
		if err != nil {
			t.Fatalf("the new repository lacks %s: %v", p, err)
		}
		return string(b)
	}
	info := read("catalog-info.yaml")
	for _, want := range []string{"name: basket-api", "owner: group:default/team-storefront", "system: system:default/storefront", "lifecycle: production"} {
		if !strings.Contains(info, want) {
			t.Errorf("catalog-info.yaml lacks %q:\n%s", want, info)
		}
	}
	if !strings.Contains(read("go.mod"), "basket-api") || !strings.Contains(read("main.go"), "package main") {
		t.Error("go.mod/main.go not rendered from their .tmpl files")
	}
	if ci := read(".github/workflows/ci.yaml"); !strings.Contains(ci, "${{") {
		t.Errorf("the CI workflow was templated, want it copied as is:\n%s", ci)
	}
	read("mkdocs.yml")
	read("docs/index.md")
	read("kubernetes/deployment.yaml")
	for _, gone := range []string{"go.mod.tmpl", "main.go.tmpl"} {
		if _, err := os.Stat(filepath.Join(clone, gone)); err == nil {
			t.Errorf("%s still in the repository", gone)
		}
	}
	if out, _ := exec.Command("git", "-C", clone, "log", "-1", "--format=%s").Output(); !strings.Contains(string(out), "Create basket-api") {
		t.Errorf("commit message %q", out)
	}

	// the output links: the repository and the new entity
	var entityRef string
	for _, l := range task.Output.Links {
		if l.EntityRef != "" {
			entityRef = l.EntityRef
		}
	}
	if entityRef != "component:default/basket-api" {
		t.Fatalf("output links %+v", task.Output.Links)
	}

	// the catalog: the component with its relations, from a git location
	var ent struct {
		Metadata struct {
			Description string
			Annotations map[string]string
		}
		Relations []struct{ Type, TargetRef string }
	}
	if code := getJSON(t, base+"/api/catalog/entities/by-name/component/default/basket-api", &ent); code != 200 {
		t.Fatalf("entity: %d", code)
	}
	rels := map[string]bool{}
	for _, r := range ent.Relations {
		rels[r.Type+" "+r.TargetRef] = true
	}
	for _, want := range []string{"ownedBy group:default/team-storefront", "partOf system:default/storefront"} {
		if !rels[want] {
			t.Errorf("relation %s missing: %v", want, ent.Relations)
		}
	}
	if loc := ent.Metadata.Annotations["backstage.io/managed-by-location"]; !strings.HasPrefix(loc, "git:file://") || !strings.HasSuffix(loc, "/blob/main/catalog-info.yaml") {
		t.Errorf("managed-by-location %q", loc)
	}
	// the reverse relation shows on the owner
	var group struct {
		Relations []struct{ Type, TargetRef string }
	}
	getJSON(t, base+"/api/catalog/entities/by-name/group/default/team-storefront", &group)
	owns := false
	for _, r := range group.Relations {
		owns = owns || (r.Type == "ownerOf" && r.TargetRef == "component:default/basket-api")
	}
	if !owns {
		t.Error("team-storefront does not own the new component")
	}

	// its docs, built from the new repository
	resp, err = http.Get(base + "/docs/default/component/basket-api/")
	if err != nil {
		t.Fatal(err)
	}
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.Contains(string(page), "basket-api") {
		t.Errorf("docs page: %d\n%.2000s", resp.StatusCode, page)
	}
}
