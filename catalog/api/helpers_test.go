package api_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-chi/chi/v5"

	"github.com/greenroom-dev/greenroom/catalog"
	"github.com/greenroom-dev/greenroom/catalog/api"
	"github.com/greenroom-dev/greenroom/catalog/ingest"
	"github.com/greenroom-dev/greenroom/catalog/store"
	"github.com/greenroom-dev/greenroom/plugins/reading"
)

// remote is a tiny HTTP "SCM": fixed files the test may change, served for
// url locations (registration, analyze-location).
type remote struct {
	*httptest.Server
	mu    sync.Mutex
	files map[string]string
	hits  int
}

// requests is how many requests the remote has answered.
func (r *remote) requests() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.hits
}

func newRemote(t *testing.T) *remote {
	t.Helper()
	r := &remote{files: map[string]string{}}
	r.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		r.mu.Lock()
		r.hits++
		body, ok := r.files[req.URL.Path]
		r.mu.Unlock()
		if !ok {
			http.NotFound(w, req)
			return
		}
		io.WriteString(w, body)
	}))
	t.Cleanup(r.Close)
	return r
}

func (r *remote) set(path, body string) {
	r.mu.Lock()
	r.files[path] = body
	r.mu.Unlock()
}

// env is a Greenroom catalog API over the testdata/catalog fixtures,
// registered as a config file location and crawled once.
type env struct {
	t      *testing.T
	ctx    context.Context
	st     *store.Store
	eng    *ingest.Engine
	srv    *httptest.Server
	remote *remote
	config catalog.LocationSpec
	base   string // <srv>/api/catalog
}

type envOpts struct {
	readonly bool
	run      bool // run the refresh loop, so Refresh requests are served
	maxBody  int64
	// strictReader reads URLs through a reader with no allow rule, as a
	// server configured with no integration and no backend.reading.allow.
	strictReader bool
}

// newReader is the server's URL reader for tests: allowed to read the
// remote on 127.0.0.1 (an IP-literal rule admits its address), or, strict,
// nothing at all.
func newReader(t testing.TB, strict bool) *reading.Mux {
	t.Helper()
	var c reading.Config
	if !strict {
		c.Allow = []reading.AllowRule{{Host: "127.0.0.1:1-65535"}}
	}
	m, err := reading.New(c)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func newEnv(t *testing.T, opts ...envOpts) *env {
	t.Helper()
	var o envOpts
	if len(opts) > 0 {
		o = opts[0]
	}
	ctx, cancel := context.WithCancel(context.Background())
	st, err := store.OpenSQLite(ctx, filepath.Join(t.TempDir(), "c.db"))
	if err != nil {
		t.Fatal(err)
	}
	eng := &ingest.Engine{Store: st, Crawler: &ingest.Crawler{Reader: &ingest.Reader{Fetcher: newReader(t, o.strictReader)}}}
	root, err := filepath.Abs(filepath.Join("testdata", "catalog", "root.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	spec := catalog.LocationSpec{Type: "file", Target: root}
	if err := eng.SyncConfigLocations(ctx, []catalog.LocationSpec{spec}); err != nil {
		t.Fatal(err)
	}
	if err := eng.CrawlAll(ctx); err != nil {
		t.Fatal(err)
	}
	var done chan struct{}
	if o.run {
		done = make(chan struct{})
		go func() { defer close(done); eng.Run(ctx) }()
	}
	r := chi.NewRouter()
	r.Mount("/api/catalog", (&api.Server{Store: st, Ingester: eng, Readonly: o.readonly,
		AllowedLocationTypes: []string{"url", "git"}, MaxBodyBytes: o.maxBody}).Routes())
	srv := httptest.NewServer(r)
	e := &env{t: t, ctx: ctx, st: st, eng: eng, srv: srv, remote: newRemote(t), config: spec, base: srv.URL + "/api/catalog"}
	t.Cleanup(func() {
		srv.Close()
		cancel()
		if done != nil {
			<-done
		}
		st.Close()
	})
	return e
}

// resp is one answer: status, headers and body.
type resp struct {
	status int
	header http.Header
	body   []byte
}

func (r resp) json(t *testing.T) any {
	t.Helper()
	var v any
	if err := json.Unmarshal(r.body, &v); err != nil {
		t.Fatalf("body is not JSON (%v): %q", err, trunc(string(r.body)))
	}
	return v
}

func trunc(s string) string {
	if len(s) > 600 {
		return s[:600] + "…"
	}
	return s
}

// do sends a request; path is relative to /api/catalog and used verbatim.
func (e *env) do(method, path string, body any, header ...string) resp {
	e.t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	case []byte:
		rd = bytes.NewReader(b)
	default:
		data, err := json.Marshal(b)
		if err != nil {
			e.t.Fatal(err)
		}
		rd = bytes.NewReader(data)
	}
	req, err := http.NewRequestWithContext(e.ctx, method, e.base+path, rd)
	if err != nil {
		e.t.Fatal(err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	for i := 0; i+1 < len(header); i += 2 {
		if header[i+1] == "" {
			req.Header.Del(header[i])
		} else {
			req.Header.Set(header[i], header[i+1])
		}
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer res.Body.Close()
	data, err := io.ReadAll(res.Body)
	if err != nil {
		e.t.Fatal(err)
	}
	return resp{status: res.StatusCode, header: res.Header, body: data}
}

func (e *env) get(path string) resp { return e.do("GET", path, nil) }

func (e *env) post(path string, body any) resp { return e.do("POST", path, body) }

// ok asserts a status and decodes the body.
func (e *env) ok(r resp, status int) any {
	e.t.Helper()
	if r.status != status {
		e.t.Fatalf("status %d, want %d; body %s", r.status, status, trunc(string(r.body)))
	}
	if len(r.body) == 0 {
		return nil
	}
	return r.json(e.t)
}

// wantError asserts Backstage's error envelope, field by field.
func wantError(t *testing.T, r resp, method, requestURL string, status int, name, message string) {
	t.Helper()
	if r.status != status {
		t.Fatalf("status %d, want %d; body %s", r.status, status, trunc(string(r.body)))
	}
	if ct := r.header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Errorf("Content-Type %q, want application/json", ct)
	}
	var got struct {
		Error    map[string]any `json:"error"`
		Request  map[string]any `json:"request"`
		Response map[string]any `json:"response"`
	}
	if err := json.Unmarshal(r.body, &got); err != nil {
		t.Fatalf("error body is not JSON: %q", r.body)
	}
	want := map[string]any{"name": name, "message": message}
	if message == "*" {
		want["message"] = got.Error["message"]
	}
	if !reflect.DeepEqual(got.Error, want) {
		t.Errorf("error = %v\nwant    %v", got.Error, want)
	}
	if requestURL != "" {
		if wantReq := (map[string]any{"method": method, "url": requestURL}); !reflect.DeepEqual(got.Request, wantReq) {
			t.Errorf("request = %v, want %v", got.Request, wantReq)
		}
	}
	if wantRes := (map[string]any{"statusCode": float64(status)}); !reflect.DeepEqual(got.Response, wantRes) {
		t.Errorf("response = %v, want %v", got.Response, wantRes)
	}
}

// errCase checks an error answer to a request path relative to /api/catalog.
func (e *env) wantErr(method, path string, body any, status int, name, message string) {
	e.t.Helper()
	r := e.do(method, path, body)
	wantError(e.t, r, method, "/api/catalog"+path, status, name, message)
}

// entity helpers over decoded JSON.

func obj(v any) map[string]any { m, _ := v.(map[string]any); return m }

func list(v any) []any { l, _ := v.([]any); return l }

func field(v any, path ...string) any {
	for _, p := range path {
		v = obj(v)[p]
	}
	return v
}

func str(v any, path ...string) string { s, _ := field(v, path...).(string); return s }

// refOf is an entity's canonical lower-case ref.
func refOf(v any) string {
	if v == nil {
		return "<nil>"
	}
	ns := str(v, "metadata", "namespace")
	if ns == "" {
		ns = "default"
	}
	return strings.ToLower(str(v, "kind") + ":" + ns + "/" + str(v, "metadata", "name"))
}

func refsOf(items []any) []string {
	out := make([]string, 0, len(items))
	for _, it := range items {
		out = append(out, refOf(it))
	}
	return out
}

func sorted(s []string) []string {
	c := append([]string{}, s...)
	sort.Strings(c)
	return c
}

func q(kv ...string) string {
	v := url.Values{}
	for i := 0; i+1 < len(kv); i += 2 {
		v.Add(kv[i], kv[i+1])
	}
	return v.Encode()
}

func mustEqual(t *testing.T, what string, got, want any) {
	t.Helper()
	if !reflect.DeepEqual(got, want) {
		gj, _ := json.Marshal(got)
		wj, _ := json.Marshal(want)
		t.Errorf("%s:\n got %s\nwant %s", what, gj, wj)
	}
}

// eventually polls until cond holds (the refresh loop crawls asynchronously).
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		if cond() {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("timed out waiting for %s", what)
}

// fixtureRefs is every entity the fixture catalog holds, in ref order.
var fixtureRefs = []string{
	"api:default/proofing-api",
	"component:default/proofing-service",
	"component:default/recipe-search",
	"component:default/storefront",
	"component:finance/ledger",
	"group:default/frosting",
	"group:default/guests",
	"group:default/ovens",
	"location:default/bakery-root",
	"location:default/bakery-teams",
	"location:default/GENERATED",
	"resource:default/bin-01",
	"resource:default/bin-02",
	"resource:default/bin-03",
	"resource:default/bin-04",
	"resource:default/bin-05",
	"resource:default/bin-06",
	"resource:default/bin-07",
	"resource:default/bin-08",
	"system:default/kitchen",
	"user:default/ada",
	"user:default/bruno",
}

// allRefs is fixtureRefs with the generated root location's real name.
func (e *env) allRefs() []string {
	out := make([]string, len(fixtureRefs))
	for i, r := range fixtureRefs {
		out[i] = strings.Replace(r, "GENERATED", catalog.GeneratedLocationName(e.config), 1)
	}
	return sorted(out)
}

func (e *env) generatedRef() string {
	return "location:default/" + catalog.GeneratedLocationName(e.config)
}

// entity fetches one entity by ref through the API.
func (e *env) entity(ref string) any {
	e.t.Helper()
	kind, rest, _ := strings.Cut(ref, ":")
	ns, name, _ := strings.Cut(rest, "/")
	return e.ok(e.get("/entities/by-name/"+kind+"/"+ns+"/"+name), 200)
}

func toJSON(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}
