package gitea

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"log/slog"
	"net/http"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/greenroom-dev/greenroom/catalog"
	"github.com/greenroom-dev/greenroom/plugins"
	"github.com/greenroom-dev/greenroom/plugins/gitea/giteatest"
)

// gitea is the real Gitea shared by this package's tests; it starts on
// the first test that needs it.
var gitea giteatest.Shared

func TestMain(m *testing.M) { os.Exit(gitea.Main(m)) }

// testEnv is a plugin environment whose log is kept for inspection.
type testEnv struct {
	plugins.Env
	logs *syncBuffer
}

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

func newEnv(cfg map[string]any) testEnv {
	logs := &syncBuffer{}
	return testEnv{
		Env: plugins.Env{
			Config: plugins.NewConfig(cfg),
			Log:    slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
			HTTP:   &http.Client{Timeout: 30 * time.Second},
			Status: &plugins.Status{},
		},
		logs: logs,
	}
}

func mustNew(t *testing.T, cfg map[string]any) *Plugin {
	t.Helper()
	p, err := New(newEnv(cfg).Env)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func sign(secret string, body []byte) string {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write(body)
	return hex.EncodeToString(m.Sum(nil))
}

// fakeLocations records what handlers ask of the catalog.
type fakeLocations struct {
	mu       sync.Mutex
	added    map[string][]string // provider → targets
	removed  map[string][]string
	refresh  []string
	refreshN int // what RefreshURLs answers
	calls    chan struct{}
}

func newFakeLocations() *fakeLocations {
	return &fakeLocations{added: map[string][]string{}, removed: map[string][]string{}, calls: make(chan struct{}, 100)}
}

func (f *fakeLocations) AddProviderLocations(_ context.Context, provider string, specs []catalog.LocationSpec) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, s := range specs {
		f.added[provider] = append(f.added[provider], s.Type+":"+s.Target+":"+s.Presence)
	}
	return nil
}

func (f *fakeLocations) RemoveProviderLocations(_ context.Context, provider string, specs []catalog.LocationSpec) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, s := range specs {
		f.removed[provider] = append(f.removed[provider], s.Type+":"+s.Target+":"+s.Presence)
	}
	return nil
}

func (f *fakeLocations) RefreshURLs(_ context.Context, urls []string) (int, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.refresh = append(f.refresh, urls...)
	return f.refreshN, nil
}

func (f *fakeLocations) snapshot() (added, removed map[string][]string, refresh []string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	added, removed = map[string][]string{}, map[string][]string{}
	for k, v := range f.added {
		added[k] = append([]string(nil), v...)
	}
	for k, v := range f.removed {
		removed[k] = append([]string(nil), v...)
	}
	return added, removed, append([]string(nil), f.refresh...)
}

func (f *fakeLocations) reset() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.added, f.removed, f.refresh = map[string][]string{}, map[string][]string{}, nil
}

// entityAt is a component whose managed-by-location is loc.
func entityAt(loc string) *catalog.Entity {
	return &catalog.Entity{Kind: "Component", Metadata: catalog.Metadata{Name: "svc",
		Annotations: map[string]string{"backstage.io/managed-by-location": loc}}}
}
