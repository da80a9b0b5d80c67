package roadie

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/greenroom-dev/greenroom/plugins"
	"github.com/greenroom-dev/greenroom/scaffolder/action"
)

const token = "tok-9f8e7d6c5b4a"

// seen is one request the test backend received.
type seen struct {
	method, path, rawQuery, body string
	header                       http.Header
}

// backend is a test Backstage backend recording what it receives.
type backend struct {
	*httptest.Server
	mu   sync.Mutex
	reqs []seen
}

func newBackend(t *testing.T, prefix string) *backend {
	b := &backend{}
	mux := http.NewServeMux()
	mux.HandleFunc(prefix+"/api/catalog/entities", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json; charset=utf-8")
		w.Header().Set("X-Total", "2")
		io.WriteString(w, `{"items":[{"kind":"Component","metadata":{"name":"cart"}}],"z":1,"a":2}`)
	})
	mux.HandleFunc(prefix+"/api/proxy/text", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain")
		io.WriteString(w, "plain answer")
	})
	mux.HandleFunc(prefix+"/api/proxy/missing", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("X-Secretish", "h")
		w.WriteHeader(404)
		io.WriteString(w, `{"error":{"name":"NotFoundError","message":"no such thing"}}`)
	})
	mux.HandleFunc(prefix+"/api/proxy/echo-auth", func(w http.ResponseWriter, r *http.Request) {
		// a backend that echoes the credential in its error
		w.WriteHeader(500)
		io.WriteString(w, "bad token "+r.Header.Get("Authorization"))
	})
	mux.HandleFunc(prefix+"/api/proxy/redirect-in", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, prefix+"/api/proxy/text", http.StatusFound)
	})
	mux.HandleFunc(prefix+"/api/proxy/redirect-out", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, prefix+"/metrics", http.StatusFound)
	})
	mux.HandleFunc(prefix+"/metrics", func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "internal metrics")
	})
	b.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		b.mu.Lock()
		b.reqs = append(b.reqs, seen{method: r.Method, path: r.URL.EscapedPath(), rawQuery: r.URL.RawQuery, body: string(body), header: r.Header.Clone()})
		b.mu.Unlock()
		mux.ServeHTTP(w, r)
	}))
	t.Cleanup(b.Close)
	return b
}

func (b *backend) requests() []seen {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]seen(nil), b.reqs...)
}

func requestAction(t *testing.T, base string) action.Action {
	t.Helper()
	return find(t, newPlugin(t, map[string]any{"plugins": map[string]any{ID: map[string]any{"baseUrl": base}}}), "http:backstage:request")
}

func withToken(c *action.Context) { c.Secrets = map[string]string{"backstageToken": token} }

func TestRequestSendsWhatItIsGiven(t *testing.T) {
	b := newBackend(t, "")
	a := requestAction(t, b.URL)
	for _, tc := range []struct {
		name, input string
		want        seen
		auth        string
	}{
		{name: "GET with params in order, form-encoded",
			input: `{"method":"GET","path":"/api/catalog/entities","params":{"filter":"kind=component","fields":"metadata.name","q":"a b*~"}}`,
			want:  seen{method: "GET", path: "/api/catalog/entities", rawQuery: "filter=kind%3Dcomponent&fields=metadata.name&q=a+b*%7E"},
			auth:  "Bearer " + token},
		{name: "Roadie's discovery form /<plugin>/…",
			input: `{"method":"GET","path":"/catalog/entities"}`,
			want:  seen{method: "GET", path: "/api/catalog/entities"}, auth: "Bearer " + token},
		{name: "a query that carries URLs (Backstage filters by location)",
			input: `{"method":"GET","path":"/catalog/entities?filter=metadata.annotations.backstage.io/managed-by-location=url:https://example.com/demo"}`,
			want:  seen{method: "GET", path: "/api/catalog/entities", rawQuery: "filter=metadata.annotations.backstage.io/managed-by-location=url:https://example.com/demo"}, auth: "Bearer " + token},
		{name: "no leading slash",
			input: `{"method":"GET","path":"catalog/entities?limit=1","params":{"offset":2}}`,
			want:  seen{method: "GET", path: "/api/catalog/entities", rawQuery: "limit=1&offset=2"}, auth: "Bearer " + token},
		{name: "POST a JSON body with headers; an Authorization header given wins",
			input: `{"method":"POST","path":"/api/catalog/entities","headers":{"content-type":"application/json","Authorization":"Basic abc","X-Num":5},"body":{"name":"test","bar":"foo","n":[1,true]}}`,
			want:  seen{method: "POST", path: "/api/catalog/entities", body: `{"name":"test","bar":"foo","n":[1,true]}`},
			auth:  "Basic abc"},
		{name: "a string body is sent as it is",
			input: `{"method":"PUT","path":"/api/catalog/entities","body":"raw {body}"}`,
			want:  seen{method: "PUT", path: "/api/catalog/entities", body: "raw {body}"}, auth: "Bearer " + token},
	} {
		before := len(b.requests())
		r := run(t, a, "", tc.input, withToken)
		if r.err != nil {
			t.Errorf("%s: %v", tc.name, r.err)
			continue
		}
		reqs := b.requests()[before:]
		if len(reqs) != 1 {
			t.Fatalf("%s: %d requests", tc.name, len(reqs))
		}
		got := reqs[0]
		if got.method != tc.want.method || got.path != tc.want.path || got.rawQuery != tc.want.rawQuery || got.body != tc.want.body {
			t.Errorf("%s: got %s %s ? %s body %q, want %s %s ? %s body %q", tc.name, got.method, got.path, got.rawQuery, got.body,
				tc.want.method, tc.want.path, tc.want.rawQuery, tc.want.body)
		}
		if got.header.Get("Authorization") != tc.auth {
			t.Errorf("%s: Authorization %q, want %q", tc.name, got.header.Get("Authorization"), tc.auth)
		}
		if tc.name[:4] == "POST" && (got.header.Get("Content-Type") != "application/json" || got.header.Get("X-Num") != "5") {
			t.Errorf("%s: headers %v", tc.name, got.header)
		}
	}
}

func TestRequestOutputs(t *testing.T) {
	b := newBackend(t, "")
	a := requestAction(t, b.URL)

	r := run(t, a, "", `{"method":"GET","path":"/api/catalog/entities"}`)
	if r.err != nil {
		t.Fatal(r.err)
	}
	if r.out["code"] != float64(200) {
		t.Errorf("code = %v", r.out["code"])
	}
	if got := asJSON(r.out["body"]); got != `{"items":[{"kind":"Component","metadata":{"name":"cart"}}],"z":1,"a":2}` {
		t.Errorf("body = %s", got)
	}
	if h := asJSON(r.out["headers"]); !strings.Contains(h, `"content-type":"application/json; charset=utf-8"`) || !strings.Contains(h, `"x-total":"2"`) {
		t.Errorf("headers = %s", h)
	}
	if got := r.log(); got != "Creating GET request with http:backstage:request scaffolder action against /api/catalog/entities" {
		t.Errorf("log = %q", got)
	}

	r = run(t, a, "", `{"method":"GET","path":"/api/proxy/text"}`)
	if r.err != nil || asJSON(r.out["body"]) != `{"message":"plain answer"}` {
		t.Errorf("text body: %v %s", r.err, asJSON(r.out["body"]))
	}

	r = run(t, a, "", `{"method":"GET","path":"/api/proxy/redirect-in"}`)
	if r.err != nil || asJSON(r.out["body"]) != `{"message":"plain answer"}` {
		t.Errorf("redirect within /api/: %v %s", r.err, asJSON(r.out["body"]))
	}
}

func TestRequestBadResponses(t *testing.T) {
	b := newBackend(t, "")
	a := requestAction(t, b.URL)

	r := run(t, a, "", `{"method":"GET","path":"/api/proxy/missing?x=1"}`)
	wantErr(t, "404", r.err, "Unable to complete request: GET /api/proxy/missing answered 404")
	if len(r.out) != 0 {
		t.Errorf("outputs of a failed request: %v", r.out)
	}
	if !strings.Contains(r.log(), `Status code: 404 Response body: {"error":{"name":"NotFoundError","message":"no such thing"}}`) {
		t.Errorf("log = %q", r.log())
	}

	r = run(t, a, "", `{"method":"GET","path":"/api/proxy/missing","continueOnBadResponse":true}`)
	if r.err != nil {
		t.Fatal(r.err)
	}
	if r.out["code"] != float64(404) || asJSON(r.out["headers"]) != `{}` ||
		asJSON(r.out["body"]) != `{"error":{"name":"NotFoundError","message":"no such thing"}}` {
		t.Errorf("continueOnBadResponse outputs: %v %s %s", r.out["code"], asJSON(r.out["headers"]), asJSON(r.out["body"]))
	}

	r = run(t, a, "", `{"method":"GET","path":"/api/proxy/redirect-out"}`)
	wantErr(t, "redirect out of /api/", r.err, "redirected away from the backend's /api/")
	for _, q := range b.requests() {
		if q.path == "/metrics" {
			t.Error("the redirect outside /api/ was followed")
		}
	}
}

func TestRequestRefusesPathsOutsideTheAPI(t *testing.T) {
	b := newBackend(t, "")
	a := requestAction(t, b.URL)
	for _, p := range []string{
		"http://evil.example/api/catalog",
		"https://127.0.0.1/api/catalog",
		"//evil.example/api/catalog",
		"/api/../metrics",
		"/api/catalog/../../metrics",
		"/api/%2e%2e/metrics",
		"/api/catalog%2f..%2f..%2fmetrics",
		"/api/./catalog",
		"/api/",
		"/api",
		"/",
		"/api/catalog#frag",
		`/api\catalog`,
		"/api/catalog entities",
		"/api/catalog\nX: y",
	} {
		r := run(t, a, "", `{"method":"GET","path":`+asJSON(p)+`}`)
		wantErr(t, p, r.err, `input "path"`)
	}
	if n := len(b.requests()); n != 0 {
		t.Errorf("%d requests reached the backend", n)
	}
	for in, want := range map[string]string{
		`{"path":"/api/catalog/entities"}`:                                         `input "method" is required`,
		`{"method":"TRACE","path":"/api/catalog/entities"}`:                        `input "method" must be one of`,
		`{"method":"GET"}`:                                                         `input "path" is required`,
		`{"method":"GET","path":"/api/catalog/entities","body":"x"}`:               "a GET request can not have a body",
		`{"method":"GET","path":"/api/catalog/entities","headers":{"a b":"x"}}`:    "not a valid header name",
		`{"method":"GET","path":"/api/catalog/entities","headers":{"X":"a\nb"}}`:   "line break",
		`{"method":"GET","path":"/api/catalog/entities","params":"x=1"}`:           `input "params" must be an object`,
		`{"method":"GET","path":"/api/catalog/entities","timeout":-1}`:             `input "timeout" must be a positive`,
		`{"method":"GET","path":"/api/catalog/entities","logRequestPath":"maybe"}`: `input "logRequestPath" must be a boolean`,
	} {
		wantErr(t, in, run(t, a, "", in).err, want)
	}
}

func TestRequestBaseURLWithPrefix(t *testing.T) {
	b := newBackend(t, "/backstage")
	a := requestAction(t, b.URL+"/backstage/")
	r := run(t, a, "", `{"method":"GET","path":"/catalog/entities"}`)
	if r.err != nil {
		t.Fatal(r.err)
	}
	if reqs := b.requests(); len(reqs) != 1 || reqs[0].path != "/backstage/api/catalog/entities" {
		t.Errorf("requests = %+v", reqs)
	}
}

func TestRequestDryRun(t *testing.T) {
	b := newBackend(t, "")
	a := requestAction(t, b.URL)
	dry := func(c *action.Context) { c.DryRun = true }
	r := run(t, a, "", `{"method":"POST","path":"/api/catalog/entities","body":{"a":1}}`, dry)
	if r.err != nil || len(r.out) != 0 || len(b.requests()) != 0 {
		t.Errorf("dry-run POST: err %v outputs %v requests %d", r.err, r.out, len(b.requests()))
	}
	if !strings.Contains(r.log(), "Dry run mode. Skipping non dry-run safe method 'POST' request to /api/catalog/entities") {
		t.Errorf("log = %q", r.log())
	}
	r = run(t, a, "", `{"method":"GET","path":"/api/catalog/entities"}`, dry)
	if r.err != nil || r.out["code"] != float64(200) || len(b.requests()) != 1 {
		t.Errorf("dry-run GET: err %v outputs %v requests %d", r.err, r.out, len(b.requests()))
	}
}

func TestRequestKeepsSecretsOutOfLogsAndErrors(t *testing.T) {
	b := newBackend(t, "")
	a := requestAction(t, b.URL)
	var all []string
	for _, in := range []string{
		`{"method":"GET","path":"/api/proxy/echo-auth"}`,
		`{"method":"GET","path":"/api/proxy/echo-auth","continueOnBadResponse":true}`,
		`{"method":"POST","path":"/api/proxy/missing?token=` + token + `","headers":{"X-Api-Key":"` + token + `"},"logRequestPath":false}`,
	} {
		r := run(t, a, "", in, withToken)
		all = append(all, r.logs...)
		if r.err != nil {
			all = append(all, r.err.Error())
		}
	}
	if len(b.requests()) != 3 || b.requests()[0].header.Get("Authorization") != "Bearer "+token {
		t.Fatalf("the token was not sent: %+v", b.requests())
	}
	text := strings.Join(all, "\n")
	if strings.Contains(text, token) {
		t.Errorf("the token appears in logs or errors:\n%s", text)
	}
	if !strings.Contains(text, "bad token Bearer ***") {
		t.Errorf("the echoed body is not logged masked:\n%s", text)
	}
	if strings.Contains(text, "/api/proxy/missing") {
		t.Errorf("logRequestPath: false, yet the path is logged:\n%s", text)
	}

	// a transport error names the host only, not the query
	p, err := New(plugins.Env{Config: plugins.NewConfig(map[string]any{"plugins": map[string]any{ID: map[string]any{"baseUrl": "http://127.0.0.1:1"}}}), HTTP: &http.Client{}})
	if err != nil {
		t.Fatal(err)
	}
	r := run(t, find(t, p, "http:backstage:request"), "", `{"method":"GET","path":"/api/x/y","params":{"k":"`+token+`"}}`)
	wantErr(t, "unreachable", r.err, "There was an issue with the request to 127.0.0.1:1 /api/x/y")
	if r.err != nil && strings.Contains(r.err.Error(), token) {
		t.Errorf("the query shows in the error: %v", r.err)
	}
}
