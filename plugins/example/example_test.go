package example_test

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/greenroom-dev/greenroom/catalog"
	"github.com/greenroom-dev/greenroom/plugins"
	"github.com/greenroom-dev/greenroom/plugins/example"
	"github.com/greenroom-dev/greenroom/scaffolder/action"
)

func host(t *testing.T, cfg map[string]any) (*plugins.Host, error) {
	t.Helper()
	return plugins.NewHost([]plugins.Info{example.Info()}, plugins.NewConfig(cfg), plugins.HostOptions{DataDir: t.TempDir()})
}

func TestOffByDefault(t *testing.T) {
	h, err := host(t, map[string]any{})
	if err != nil {
		t.Fatal(err)
	}
	in, _ := h.Instance(example.ID)
	if in.Enabled || len(h.Actions()) != 0 || len(h.Routes()) != 0 {
		t.Fatalf("a plugin without config must stay off: %+v", in)
	}
}

func TestConfigErrors(t *testing.T) {
	for name, cfg := range map[string]map[string]any{
		"unknown plugin": {"plugins": map[string]any{"example.helo": map[string]any{}}},
		"unknown key":    {"plugins": map[string]any{"example.hello": map[string]any{"greting": "Hi"}}},
		"two lines":      {"plugins": map[string]any{"example.hello": map[string]any{"greeting": "a\nb"}}},
	} {
		_, err := host(t, cfg)
		if err == nil {
			t.Errorf("%s: no error", name)
			continue
		}
		for _, want := range map[string][]string{
			"unknown plugin": {"plugins.example.helo", "example.hello"},
			"unknown key":    {"plugin example.hello", "greting"},
			"two lines":      {"plugins.example.hello.greeting"},
		}[name] {
			if !strings.Contains(err.Error(), want) {
				t.Errorf("%s: error %q does not name %q", name, err, want)
			}
		}
	}
}

func TestCardRouteAction(t *testing.T) {
	h, err := host(t, map[string]any{"plugins": map[string]any{"example.hello": map[string]any{"greeting": "Kia ora", "kinds": []any{"Component"}}}})
	if err != nil {
		t.Fatal(err)
	}
	comp := &catalog.Entity{Kind: "Component", Metadata: catalog.Metadata{Name: "cart"}}
	api := &catalog.Entity{Kind: "API", Metadata: catalog.Metadata{Name: "cart-api"}}
	if got := h.EntityCards(api); len(got) != 0 {
		t.Errorf("card on an API: %v", got)
	}
	cards := h.EntityCards(comp)
	if len(cards) != 1 || cards[0].Path() != "example.hello/greeting" || cards[0].Title != "Greeting" {
		t.Fatalf("cards = %+v", cards)
	}
	c, err := h.RenderView(context.Background(), "example.hello", "greeting", false, comp, plugins.Viewer{Ref: "user:default/ana"})
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	c.Render(context.Background(), &b)
	if !strings.Contains(b.String(), "Kia ora, cart!") || !strings.Contains(b.String(), "user:default/ana") {
		t.Errorf("card = %s", b.String())
	}
	if _, err := h.RenderView(context.Background(), "example.hello", "greeting", false, api, plugins.Viewer{}); err != plugins.ErrNoView {
		t.Errorf("render for an entity it does not apply to: %v", err)
	}

	rt := h.Routes()["example.hello"]
	rec := httptest.NewRecorder()
	rt.ServeHTTP(rec, httptest.NewRequest("GET", "/greet?name=Mere", nil))
	var body map[string]string
	json.Unmarshal(rec.Body.Bytes(), &body)
	if rec.Code != 200 || body["greeting"] != "Kia ora, Mere!" {
		t.Errorf("route: %d %s", rec.Code, rec.Body)
	}
	rec = httptest.NewRecorder()
	rt.ServeHTTP(rec, httptest.NewRequest("GET", "/greet", nil))
	if rec.Code != 400 {
		t.Errorf("route without a name: %d", rec.Code)
	}

	acts := h.Actions()
	if len(acts) != 1 || acts[0].ID() != "example:greet" || !action.SupportsDryRun(acts[0]) {
		t.Fatalf("actions = %v", acts)
	}
	ws := t.TempDir()
	out := map[string]any{}
	err = action.Run(acts[0], &action.Context{Workspace: ws, Input: map[string]any{"name": "Tama"},
		Output: func(k string, v any) { out[k] = v }})
	if err != nil {
		t.Fatal(err)
	}
	data, _ := os.ReadFile(filepath.Join(ws, "GREETING.txt"))
	if string(data) != "Kia ora, Tama!\n" || out["greeting"] != "Kia ora, Tama!" {
		t.Errorf("file %q, outputs %v", data, out)
	}
	tabs := h.EntityTabs(comp)
	if len(tabs) != 1 || tabs[0].Path() != "example.hello/hello" {
		t.Fatalf("tabs = %+v", tabs)
	}
	comp.Metadata.Tags = []string{"go"}
	tc, err := h.RenderView(context.Background(), "example.hello", "hello", true, comp, plugins.Viewer{})
	if err != nil {
		t.Fatal(err)
	}
	b.Reset()
	tc.Render(context.Background(), &b)
	if !strings.Contains(b.String(), "Kia ora, cart!") || !strings.Contains(b.String(), "<code>go</code>") {
		t.Errorf("tab = %s", b.String())
	}
	in, _ := h.Instance(example.ID)
	if got := strings.Join(in.Contributes(), "; "); !strings.Contains(got, "example:greet") || !strings.Contains(got, "entity cards: Greeting") || !strings.Contains(got, "entity tabs: Hello") || !strings.Contains(got, "/api/example.hello") {
		t.Errorf("contributes = %s", got)
	}
}
