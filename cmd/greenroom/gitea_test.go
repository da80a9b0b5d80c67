package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/greenroom-dev/greenroom/catalog/demo"
	"github.com/greenroom-dev/greenroom/plugins/gitea/giteatest"
)

// syncBuffer collects the server's log lines from its goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// serveLogged runs serve like startServe, keeping its log.
func serveLogged(tb testing.TB, args ...string) (string, *syncBuffer) {
	tb.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	logs := &syncBuffer{}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan int, 1)
	go func() { done <- run(ctx, append([]string{"serve", "--addr", addr}, args...), io.Discard, logs) }()
	tb.Cleanup(func() {
		cancel()
		if tb.Failed() {
			tb.Logf("server log:\n%s", logs)
		}
		select {
		case <-done:
		case <-time.After(15 * time.Second):
			tb.Error("serve did not stop")
		}
	})
	base := "http://" + addr
	deadline := time.Now().Add(5 * time.Minute) // a 100k-entity first crawl in the benchmark
	for {
		select {
		case code := <-done:
			tb.Fatalf("serve exited with %d:\n%s", code, logs)
		default:
		}
		resp, err := http.Get(base + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return base, logs
			}
		}
		if time.Now().After(deadline) {
			tb.Fatalf("not ready: %v\n%s", err, logs)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// giteaConfig writes an app-config.yaml that reads the demo catalog from
// files and the Gitea organisation through the Gitea plugin: its
// integration, its provider and its webhook secret.
func giteaConfig(tb testing.TB, g *giteatest.Server, org, secret string, extra ...string) string {
	tb.Helper()
	dir := tb.TempDir()
	root, err := demo.Write(filepath.Join(dir, "demo"))
	if err != nil {
		tb.Fatal(err)
	}
	locs := []any{map[string]any{"type": "file", "target": root}}
	for _, e := range extra {
		locs = append(locs, map[string]any{"type": "file", "target": e})
	}
	cfg := map[string]any{
		"catalog": map[string]any{
			"rules":     []any{map[string]any{"allow": []any{"Component", "API", "Resource", "System", "Domain", "Group", "User", "Location", "Template"}}},
			"locations": locs,
			"providers": map[string]any{"gitea": map[string]any{"main": map[string]any{
				"organization": org, "host": g.Host, "branch": "main", "catalogPath": "catalog-info.yaml",
				"schedule": map[string]any{"frequency": map[string]any{"minutes": 30}, "timeout": map[string]any{"minutes": 3}},
			}}},
		},
		"integrations": map[string]any{"gitea": []any{g.IntegrationConfig()}},
		"events":       map[string]any{"modules": map[string]any{"gitea": map[string]any{"webhookSecret": secret}}},
	}
	data, _ := yaml.Marshal(cfg)
	p := filepath.Join(dir, "app-config.yaml")
	if err := os.WriteFile(p, data, 0o600); err != nil {
		tb.Fatal(err)
	}
	return p
}

func componentInfo(name, description string) string {
	return fmt.Sprintf(`apiVersion: backstage.io/v1alpha1
kind: Component
metadata:
  name: %s
  description: %s
spec:
  type: service
  lifecycle: production
  owner: group:default/team-storefront
`, name, description)
}

// waitEntity polls the catalog API until check accepts the entity.
func waitEntity(tb testing.TB, base, ref string, limit time.Duration, check func(e map[string]any) bool) map[string]any {
	tb.Helper()
	deadline := time.Now().Add(limit)
	kind, rest, _ := strings.Cut(ref, ":")
	ns, name, _ := strings.Cut(rest, "/")
	last := ""
	for {
		resp, err := http.Get(base + "/api/catalog/entities/by-name/" + kind + "/" + ns + "/" + name)
		if err == nil {
			var e map[string]any
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			last = fmt.Sprintf("%d %.600s", resp.StatusCode, body)
			if resp.StatusCode == 200 {
				json.Unmarshal(body, &e)
			}
			if e != nil && check(e) {
				return e
			}
		}
		if time.Now().After(deadline) {
			tb.Fatalf("%s did not appear as expected within %s; last answer %s", ref, limit, last)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func description(e map[string]any) string {
	m, _ := e["metadata"].(map[string]any)
	d, _ := m["description"].(string)
	return d
}

// TestGiteaEndToEnd runs the git plane against a real Gitea: the provider
// discovers the organisation's repositories, a push delivered by Gitea's
// webhook refreshes the entity, the golden-path template creates a Gitea
// repository with publish:gitea and registers it, and neither the
// integration's password nor the webhook secret reaches the log.
func TestGiteaEndToEnd(t *testing.T) {
	g := giteatest.Start(t)
	const org, secret = "freshcart", "whsec-6c1f0a9e2b"
	if err := g.CreateOrg(org); err != nil {
		t.Fatal(err)
	}
	for _, r := range []string{"orders", "empty", "no-catalog"} {
		if _, err := g.CreateRepo(org, r, r != "empty"); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := g.PutFile(org, "orders", "main", "catalog-info.yaml", componentInfo("orders", "Takes orders."), "add catalog-info.yaml"); err != nil {
		t.Fatal(err)
	}
	base, logs := serveLogged(t, "--config", giteaConfig(t, g, org, secret), "--data-dir", t.TempDir())

	// discovery: the provider's location for the one repository with a
	// catalog file
	orders := waitEntity(t, base, "component:default/orders", 30*time.Second, func(e map[string]any) bool { return description(e) == "Takes orders." })
	ann := orders["metadata"].(map[string]any)["annotations"].(map[string]any)
	if want := "url:" + g.URL + "/" + org + "/orders/src/branch/main/catalog-info.yaml"; ann["backstage.io/managed-by-location"] != want {
		t.Errorf("managed-by-location %v, want %s", ann["backstage.io/managed-by-location"], want)
	}

	// a push, delivered by Gitea's own webhook
	if _, err := g.CreateOrgWebhook(org, base+"/api/events/http/gitea", secret, []string{"push", "repository"}); err != nil {
		t.Fatal(err)
	}
	if _, err := g.PutFile(org, "orders", "main", "catalog-info.yaml", componentInfo("orders", "Takes and tracks orders."), "describe tracking"); err != nil {
		t.Fatal(err)
	}
	waitEntity(t, base, "component:default/orders", 30*time.Second, func(e map[string]any) bool { return description(e) == "Takes and tracks orders." })

	// a catalog file added to a repository: a new location of the provider
	if _, err := g.PutFile(org, "no-catalog", "main", "catalog-info.yaml", componentInfo("payments", "Charges cards."), "add catalog-info.yaml"); err != nil {
		t.Fatal(err)
	}
	waitEntity(t, base, "component:default/payments", 30*time.Second, func(map[string]any) bool { return true })

	// a forged delivery is refused
	body := []byte(`{"ref":"refs/heads/main"}`)
	req, _ := http.NewRequest("POST", base+"/api/events/http/gitea", bytes.NewReader(body))
	req.Header.Set("X-Gitea-Event", "push")
	req.Header.Set("X-Gitea-Signature", strings.Repeat("0", 64))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusForbidden {
		t.Errorf("forged delivery answered %d, want 403", resp.StatusCode)
	}

	// the golden path, publishing to Gitea
	body, _ = json.Marshal(map[string]any{
		"templateRef": "template:default/new-go-service",
		"values": map[string]any{
			"name": "basket-api", "description": "Keeps baskets between visits.",
			"owner": "group:default/team-storefront", "system": "system:default/storefront",
			"lifecycle": "production", "repoUrl": g.Host + "?owner=" + org + "&repo=basket-api",
		},
	})
	resp, err = http.Post(base+"/api/scaffolder/v2/tasks", "application/json", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	var created struct{ ID string }
	json.NewDecoder(resp.Body).Decode(&created)
	resp.Body.Close()
	if resp.StatusCode != 201 {
		t.Fatalf("create task: %d", resp.StatusCode)
	}
	var task struct {
		Status string
		Steps  []struct{ ID, Status string }
	}
	deadline := time.Now().Add(90 * time.Second)
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
		var events []struct{ Body map[string]any }
		getJSON(t, base+"/api/scaffolder/v2/tasks/"+created.ID+"/events", &events)
		t.Fatalf("task %s: steps %+v, events %+v", task.Status, task.Steps, events)
	}
	repo, err := g.GetRepo(org, "basket-api")
	if err != nil {
		t.Fatalf("the repository was not created: %v", err)
	}
	if repo.Empty || repo.DefaultBranch != "main" {
		t.Errorf("repository %+v: want the skeleton pushed to main", repo)
	}
	basket := waitEntity(t, base, "component:default/basket-api", 10*time.Second, func(map[string]any) bool { return true })
	ann = basket["metadata"].(map[string]any)["annotations"].(map[string]any)
	if loc, _ := ann["backstage.io/managed-by-location"].(string); loc != "url:"+g.URL+"/"+org+"/basket-api/src/branch/main/catalog-info.yaml" {
		t.Errorf("basket-api managed-by-location %q", loc)
	}
	// its docs, read from Gitea as a tree
	resp, err = http.Get(base + "/docs/default/component/basket-api/")
	if err != nil {
		t.Fatal(err)
	}
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.Contains(string(page), "basket-api") {
		t.Errorf("docs page from Gitea: %d\n%.1500s", resp.StatusCode, page)
	}
	// the repository card, from Gitea's API
	resp, err = http.Get(base + "/catalog/default/component/basket-api/cards/git.gitea/repository")
	if err != nil {
		t.Fatal(err)
	}
	card, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.Contains(string(card), org+"/basket-api") || !strings.Contains(string(card), "Create basket-api") {
		t.Errorf("repository card: %d\n%.1500s", resp.StatusCode, card)
	}

	// a template registered from a URL: its skeleton is read from Gitea
	// as a tree through the reader
	if _, err := g.CreateRepo(org, "templates", true); err != nil {
		t.Fatal(err)
	}
	if _, err := g.PutFile(org, "templates", "main", "hello/template.yaml", `apiVersion: scaffolder.backstage.io/v1beta3
kind: Template
metadata:
  name: hello-from-gitea
spec:
  owner: group:default/team-platform
  type: service
  parameters:
    - properties:
        name: {type: string, default: world}
  steps:
    - id: fetch
      action: fetch:template
      input:
        url: ./skeleton
        values: {name: '${{ parameters.name }}'}
    - id: read
      action: fs:read
      input: {path: GREETING.md}
  output:
    text:
      - title: Greeting
        content: '${{ steps.read.output.content }}'
`, "add the hello template"); err != nil {
		t.Fatal(err)
	}
	if _, err := g.PutFile(org, "templates", "main", "hello/skeleton/GREETING.md", "Hello, ${{ values.name }}, from Gitea!\n", "add its skeleton"); err != nil {
		t.Fatal(err)
	}
	body, _ = json.Marshal(map[string]string{"type": "url", "target": g.URL + "/" + org + "/templates/src/branch/main/hello/template.yaml"})
	resp, err = http.Post(base+"/api/catalog/locations", "application/json", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 201 {
		t.Fatalf("register the template's URL: %d", resp.StatusCode)
	}
	waitEntity(t, base, "template:default/hello-from-gitea", 10*time.Second, func(map[string]any) bool { return true })
	body, _ = json.Marshal(map[string]any{"templateRef": "template:default/hello-from-gitea", "values": map[string]any{"name": "Aroha"}})
	resp, err = http.Post(base+"/api/scaffolder/v2/tasks", "application/json", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	json.NewDecoder(resp.Body).Decode(&created)
	resp.Body.Close()
	var hello struct {
		Status string
		Output struct {
			Text []struct{ Title, Content string }
		}
	}
	deadline = time.Now().Add(30 * time.Second)
	for {
		getJSON(t, base+"/api/scaffolder/v2/tasks/"+created.ID, &hello)
		if hello.Status != "open" && hello.Status != "processing" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("hello task still %s", hello.Status)
		}
		time.Sleep(50 * time.Millisecond)
	}
	if hello.Status != "completed" || len(hello.Output.Text) != 1 || hello.Output.Text[0].Content != "Hello, Aroha, from Gitea!\n" {
		var events []struct{ Body map[string]any }
		getJSON(t, base+"/api/scaffolder/v2/tasks/"+created.ID+"/events", &events)
		t.Errorf("template from a URL: %s, output %+v, events %+v", hello.Status, hello.Output, events)
	}

	for name, s := range map[string]string{"the integration password": g.AdminPassword, "the webhook secret": secret} {
		if strings.Contains(logs.String(), s) {
			t.Errorf("%s is in the server log", name)
		}
	}
}
