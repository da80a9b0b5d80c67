package roadie

import (
	"sort"
	"strings"
	"testing"

	"github.com/greenroom-dev/greenroom/plugins"
	"github.com/greenroom-dev/greenroom/scaffolder/action"
)

func host(t *testing.T, cfg map[string]any) (*plugins.Host, error) {
	t.Helper()
	return plugins.NewHost([]plugins.Info{Info()}, plugins.NewConfig(cfg), plugins.HostOptions{DataDir: t.TempDir()})
}

var allIDs = []string{
	"http:backstage:request",
	"roadiehq:utils:fs:append",
	"roadiehq:utils:fs:parse",
	"roadiehq:utils:fs:replace",
	"roadiehq:utils:fs:write",
	"roadiehq:utils:json:merge",
	"roadiehq:utils:merge",
	"roadiehq:utils:serialize:json",
	"roadiehq:utils:serialize:yaml",
	"roadiehq:utils:sleep",
	"roadiehq:utils:zip",
}

func TestHostOffWithoutConfig(t *testing.T) {
	// settings Roadie's actions use elsewhere do not turn the plugin on
	h, err := host(t, map[string]any{"backend": map[string]any{"baseUrl": "http://localhost:7007"}})
	if err != nil {
		t.Fatal(err)
	}
	in, ok := h.Instance(ID)
	if !ok || in.Enabled || len(h.Actions()) != 0 {
		t.Fatalf("the plugin must stay off without plugins.%s: enabled=%v actions=%d", ID, in.Enabled, len(h.Actions()))
	}
}

func TestHostOnWithEmptySection(t *testing.T) {
	h, err := host(t, map[string]any{"plugins": map[string]any{ID: map[string]any{}}})
	if err != nil {
		t.Fatal(err)
	}
	in, _ := h.Instance(ID)
	if !in.Enabled {
		t.Fatal("plugins.roadie.utils: {} must enable the plugin")
	}
	var ids []string
	for _, a := range h.Actions() {
		ids = append(ids, a.ID())
		if !action.SupportsDryRun(a) {
			t.Errorf("%s: Roadie declares supportsDryRun: true", a.ID())
		}
		if in, out := a.Schema(); in["type"] != "object" || out["type"] != "object" {
			t.Errorf("%s: schemas %v %v", a.ID(), in, out)
		}
	}
	sort.Strings(ids)
	if strings.Join(ids, " ") != strings.Join(allIDs, " ") {
		t.Errorf("actions = %v, want %v", ids, allIDs)
	}
}

func TestConfig(t *testing.T) {
	for _, tc := range []struct {
		name     string
		cfg      map[string]any
		base     string
		maxSleep float64
		err      string
	}{
		{name: "default", cfg: map[string]any{}, base: "http://127.0.0.1:7007", maxSleep: 600},
		{name: "backend.baseUrl", cfg: map[string]any{"backend": map[string]any{"baseUrl": "https://portal.example.com/"}}, base: "https://portal.example.com", maxSleep: 600},
		{name: "own baseUrl wins", cfg: map[string]any{
			"backend": map[string]any{"baseUrl": "https://portal.example.com"},
			"plugins": map[string]any{ID: map[string]any{"baseUrl": "http://10.0.0.5:7007/backstage", "maxSleep": 30}}},
			base: "http://10.0.0.5:7007/backstage", maxSleep: 30},
		{name: "unknown key", cfg: map[string]any{"plugins": map[string]any{ID: map[string]any{"baseURL": "http://x"}}}, err: "baseURL"},
		{name: "not http", cfg: map[string]any{"plugins": map[string]any{ID: map[string]any{"baseUrl": "ftp://x"}}}, err: "plugins.roadie.utils.baseUrl"},
		{name: "credentials", cfg: map[string]any{"backend": map[string]any{"baseUrl": "http://u:p@x"}}, err: "backend.baseUrl"},
		{name: "maxSleep too long", cfg: map[string]any{"plugins": map[string]any{ID: map[string]any{"maxSleep": 7200}}}, err: "maxSleep"},
	} {
		h, err := host(t, tc.cfg)
		if tc.err != "" {
			if _, ok := tc.cfg["plugins"]; !ok {
				// backend.baseUrl alone does not enable the plugin: make it directly
				_, err = New(plugins.Env{Config: plugins.NewConfig(tc.cfg), HTTP: newPlugin(t, nil).http})
			}
			wantErr(t, tc.name, err, tc.err)
			continue
		}
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		_ = h
		p := newPlugin(t, tc.cfg)
		if p.base.String() != tc.base || p.maxSleep != tc.maxSleep {
			t.Errorf("%s: base %s maxSleep %v, want %s %v", tc.name, p.base, p.maxSleep, tc.base, tc.maxSleep)
		}
		if u, err := BackendURL(plugins.NewConfig(tc.cfg)); err != nil || u.String() != tc.base {
			t.Errorf("%s: BackendURL = %v, %v", tc.name, u, err)
		}
	}
}
