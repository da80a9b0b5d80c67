// Package example is the smallest useful Greenroom plugin, the one the
// README's "Writing a plugin" walks through: it reads its own config
// section, shows a card on entity pages, serves an HTTP route under
// /api/example.hello and offers a scaffolder action.
//
// Enable it with:
//
//	plugins:
//	  example.hello:
//	    greeting: Hello
//	    kinds: [Component]
package example

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/a-h/templ"

	"github.com/greenroom-dev/greenroom/catalog"
	"github.com/greenroom-dev/greenroom/plugins"
	"github.com/greenroom-dev/greenroom/scaffolder/action"
)

// ID is the plugin's ID.
const ID = "example.hello"

// Info registers the plugin (cmd/greenroom lists it with the built-ins).
func Info() plugins.Info {
	return plugins.Info{
		ID:          ID,
		Description: "An example: a greeting card on entity pages, a route and an action.",
		New:         New,
	}
}

// Config is the plugins.example.hello section. Unknown keys are errors.
type Config struct {
	Greeting string   `yaml:"greeting"`
	Kinds    []string `yaml:"kinds"` // which entity kinds get the card (default: all)
}

// Plugin is the enabled plugin.
type Plugin struct {
	cfg Config
}

// New reads the plugin's section.
func New(env plugins.Env) (plugins.Plugin, error) {
	var c Config
	if v := env.Config.Plugin(ID); v != nil {
		if err := plugins.DecodeValue("plugins."+ID, v, &c); err != nil {
			return nil, err
		}
	}
	if c.Greeting == "" {
		c.Greeting = "Hello"
	}
	if strings.ContainsAny(c.Greeting, "\n\r") {
		return nil, errors.New("config plugins." + ID + ".greeting must be one line")
	}
	return &Plugin{cfg: c}, nil
}

// ID is the plugin's ID.
func (p *Plugin) ID() string { return ID }

// EntityCards offers the greeting card.
func (p *Plugin) EntityCards() []plugins.EntityView { return []plugins.EntityView{greetingCard{p}} }

// EntityTabs offers a tab with the same greeting and the entity's tags,
// to show the shape of a tab.
func (p *Plugin) EntityTabs() []plugins.EntityView {
	return []plugins.EntityView{helloTab{greetingCard{p}}}
}

type helloTab struct{ greetingCard }

func (helloTab) Name() string  { return "hello" }
func (helloTab) Title() string { return "Hello" }

func (t helloTab) Render(ctx context.Context, e *catalog.Entity, v plugins.Viewer) (templ.Component, error) {
	name := e.Metadata.Title
	if name == "" {
		name = e.Metadata.Name
	}
	return tab(t.p.greet(name), e.Metadata.Tags), nil
}

type greetingCard struct{ p *Plugin }

func (greetingCard) Name() string  { return "greeting" }
func (greetingCard) Title() string { return "Greeting" }

func (c greetingCard) Applies(e *catalog.Entity) bool {
	if len(c.p.cfg.Kinds) == 0 {
		return true
	}
	for _, k := range c.p.cfg.Kinds {
		if strings.EqualFold(k, e.Kind) {
			return true
		}
	}
	return false
}

func (c greetingCard) Render(ctx context.Context, e *catalog.Entity, v plugins.Viewer) (templ.Component, error) {
	who := v.Ref
	if who == "" {
		who = "guest"
	}
	name := e.Metadata.Title
	if name == "" {
		name = e.Metadata.Name
	}
	return card(c.p.greet(name), who), nil
}

func (p *Plugin) greet(name string) string { return p.cfg.Greeting + ", " + name + "!" }

// SearchDocuments offers one document, so searching for the greeting
// finds the plugin's route.
func (p *Plugin) SearchDocuments(ctx context.Context) ([]plugins.SearchDocument, error) {
	return []plugins.SearchDocument{{
		Type: "example-greeting", Title: p.cfg.Greeting + " from the example plugin",
		Text:     "The example.hello plugin greets every entity with " + p.cfg.Greeting + ".",
		Location: "/plugins#plugin-" + ID,
	}}, nil
}

// Routes serves GET /api/example.hello/greet?name=….
func (p *Plugin) Routes() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /greet", func(w http.ResponseWriter, r *http.Request) {
		name := r.URL.Query().Get("name")
		if name == "" {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusBadRequest)
			json.NewEncoder(w).Encode(map[string]any{"error": map[string]string{"name": "InputError", "message": "the name query parameter is required"}})
			return
		}
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(map[string]string{"greeting": p.greet(name)})
	})
	return mux
}

// Actions offers example:greet, which writes the greeting into a file.
func (p *Plugin) Actions() []action.Action { return []action.Action{greetAction{p}} }

type greetAction struct{ p *Plugin }

func (greetAction) ID() string          { return "example:greet" }
func (greetAction) Description() string { return "Writes a greeting to GREETING.txt in the workspace." }
func (greetAction) Schema() (map[string]any, map[string]any) {
	return action.ObjectSchema([]string{"name"}, map[string]any{
			"name": action.TypeSchema("string", "Name", "Who to greet"),
		}), action.ObjectSchema(nil, map[string]any{
			"greeting": action.TypeSchema("string", "Greeting", "The text written"),
		})
}

// SupportsDryRun: writing into the workspace is what dry runs show.
func (greetAction) SupportsDryRun() bool { return true }

func (a greetAction) Run(c *action.Context) error {
	name, err := action.StringInput(c.Input, "name")
	if err != nil {
		return err
	}
	if name == "" {
		return fmt.Errorf("input %q is required", "name")
	}
	g := a.p.greet(name)
	if err := action.WriteWorkspaceFile(c, "GREETING.txt", []byte(g+"\n")); err != nil {
		return err
	}
	c.Logf("Wrote GREETING.txt")
	c.SetOutput("greeting", g)
	return nil
}
