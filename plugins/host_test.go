package plugins_test

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/a-h/templ"

	"github.com/greenroom-dev/greenroom/catalog"
	"github.com/greenroom-dev/greenroom/plugins"
)

// hooky is a plugin with a webhook topic, a card that panics and a health
// check against an upstream, to test what the host does with them.
type hooky struct {
	env  plugins.Env
	got  chan string
	base string
}

func (h *hooky) ID() string { return "test.hooky" }
func (h *hooky) Webhooks() []plugins.Webhook {
	return []plugins.Webhook{{
		Topic: "hooky",
		Verify: func(hd http.Header, body []byte) error {
			if hd.Get("X-Sig") != "good" {
				return errors.New("bad signature")
			}
			return nil
		},
		Handle: func(ctx context.Context, loc plugins.Locations, hd http.Header, body []byte) (string, error) {
			h.got <- string(body)
			return "ok", nil
		},
	}}
}
func (h *hooky) EntityCards() []plugins.EntityView { return []plugins.EntityView{panicky{}} }
func (h *hooky) CheckHealth(ctx context.Context) error {
	req, _ := http.NewRequestWithContext(ctx, "GET", h.base, nil)
	resp, err := h.env.HTTP.Do(req)
	if err != nil {
		return err
	}
	resp.Body.Close()
	return nil
}

type panicky struct{}

func (panicky) Name() string                 { return "boom" }
func (panicky) Title() string                { return "Boom" }
func (panicky) Applies(*catalog.Entity) bool { return true }
func (panicky) Render(context.Context, *catalog.Entity, plugins.Viewer) (templ.Component, error) {
	panic("the plugin's bug")
}

func newHooky(t *testing.T, upstream string) (*plugins.Host, *hooky, *bytes.Buffer) {
	t.Helper()
	p := &hooky{got: make(chan string, 4), base: upstream}
	var logs bytes.Buffer
	info := plugins.Info{ID: "test.hooky", New: func(env plugins.Env) (plugins.Plugin, error) { p.env = env; return p, nil }}
	h, err := plugins.NewHost([]plugins.Info{info}, plugins.NewConfig(map[string]any{"plugins": map[string]any{"test.hooky": map[string]any{}}}),
		plugins.HostOptions{Log: slog.New(slog.NewTextHandler(&logs, nil))})
	if err != nil {
		t.Fatal(err)
	}
	return h, p, &logs
}

func TestEventsIngress(t *testing.T) {
	h, p, logs := newHooky(t, "")
	srv := httptest.NewServer(http.StripPrefix("/api/events", h.EventsHandler()))
	defer srv.Close()
	post := func(topic, sig, body string) int {
		req, _ := http.NewRequest("POST", srv.URL+"/api/events/http/"+topic, strings.NewReader(body))
		req.Header.Set("X-Sig", sig)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if c := post("nobody", "good", "{}"); c != 404 {
		t.Errorf("unknown topic: %d", c)
	}
	if c := post("hooky", "forged", `{"secret-payload":1}`); c != 403 {
		t.Errorf("bad signature: %d", c)
	}
	if !strings.Contains(logs.String(), "webhook refused") || strings.Contains(logs.String(), "secret-payload") {
		t.Errorf("a refusal is logged, without the body: %s", logs)
	}
	if c := post("hooky", "good", `{"n":1}`); c != 202 {
		t.Errorf("accepted delivery: %d", c)
	}
	if err := h.ProcessNext(context.Background(), nil); err != nil {
		t.Fatal(err)
	}
	if got := <-p.got; got != `{"n":1}` {
		t.Errorf("handled %q", got)
	}
}

func TestViewPanicIsAnErrorAndHealthIsRecorded(t *testing.T) {
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(503) }))
	defer up.Close()
	h, p, _ := newHooky(t, up.URL)
	e := &catalog.Entity{Kind: "Component", Metadata: catalog.Metadata{Name: "x"}}
	if _, err := h.RenderView(context.Background(), "test.hooky", "boom", false, e, plugins.Viewer{}); err == nil || !strings.Contains(err.Error(), "the plugin's bug") {
		t.Errorf("a panicking card: %v", err)
	}
	in, _ := h.Instance("test.hooky")
	p.CheckHealth(context.Background())
	st := in.Status.Snapshot()
	if st.Healthy() || !strings.Contains(st.LastError, "503") || strings.Contains(st.LastError, up.URL) {
		t.Errorf("status after a 503 upstream: %+v (want failing, naming the status, not the full URL)", st)
	}
}
