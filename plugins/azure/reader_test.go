package azure

import (
	"archive/zip"
	"bytes"
	"context"
	"errors"
	"io/fs"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/greenroom-dev/greenroom/plugins/reading"
)

const sha1 = "0123456789abcdef0123456789abcdef01234567"

func mustURL(t *testing.T, s string) *url.URL {
	t.Helper()
	u, err := url.Parse(s)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

func readerFor(t *testing.T, p *Plugin, host string) reading.HostReader {
	t.Helper()
	for _, r := range p.URLReaders() {
		if r.Host() == host {
			return r
		}
	}
	t.Fatalf("no reader for %s", host)
	return nil
}

type zipEntry struct {
	name, body string
	mode       fs.FileMode
}

func zipOf(t *testing.T, entries []zipEntry) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for _, e := range entries {
		h := &zip.FileHeader{Name: e.name, Method: zip.Deflate}
		mode := e.mode
		if mode == 0 {
			mode = 0o644
		}
		h.SetMode(mode)
		w, err := zw.CreateHeader(h)
		if err != nil {
			t.Fatal(err)
		}
		w.Write([]byte(e.body))
	}
	zw.Close()
	return buf.Bytes()
}

func TestParseBrowserURL(t *testing.T) {
	p, _ := newPlugin(t, nil, `
integrations:
  azure:
    - host: dev.azure.com
    - host: tfs.example.com
      baseUrl: https://tfs.example.com/tfs
    - host: acme.visualstudio.com
`)
	ok := []struct {
		host, raw string
		want      location
	}{
		{"dev.azure.com", "https://dev.azure.com/acme/My%20Project/_git/app?path=/catalog-info.yaml&version=GBmain&_a=contents",
			location{org: "acme", project: "My Project", repo: "app", path: "/catalog-info.yaml", ref: "main"}},
		{"dev.azure.com", "https://dev.azure.com/acme/_git/app", location{org: "acme", project: "app", repo: "app"}},
		{"tfs.example.com", "https://tfs.example.com/tfs/Coll/p/_git/r?path=/docs", location{org: "Coll", project: "p", repo: "r", path: "/docs"}},
		{"acme.visualstudio.com", "https://acme.visualstudio.com/p/_git/r?version=GBfeature/x", location{org: "acme", project: "p", repo: "r", ref: "feature/x"}},
	}
	for _, tc := range ok {
		got, err := p.integration(tc.host).parse(mustURL(t, tc.raw))
		if err != nil || got != tc.want {
			t.Errorf("%s: %+v %v", tc.raw, got, err)
		}
	}
	bad := []struct{ host, raw, want string }{
		{"dev.azure.com", "https://dev.azure.com/acme/p/app", "Azure URL must point to a git repository"},
		{"dev.azure.com", "https://dev.azure.com/acme/p/_git/r?version=GCabc", "Azure URL version must point to a git branch"},
		{"dev.azure.com", "https://dev.azure.com/acme/p/_git/r?path=/a/../../b", "must not hold . or .. segments"},
		{"dev.azure.com", "https://dev.azure.com/a%2Fb/p/_git/r", "is not a valid Azure DevOps name"},
		{"dev.azure.com", "https://other.example.com/acme/p/_git/r", "is not on Azure DevOps host dev.azure.com"},
		{"tfs.example.com", "https://tfs.example.com/acme/p/_git/r", "is not under Azure DevOps base URL https://tfs.example.com/tfs"},
	}
	for _, tc := range bad {
		_, err := p.integration(tc.host).parse(mustURL(t, tc.raw))
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, want %q", tc.raw, err, tc.want)
		}
	}
}

func TestReadURL(t *testing.T) {
	f := newFake(t)
	f.handle("GET /acme/My%20Project/_apis/git/repositories/app/items", func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Query().Get("path") {
		case "/catalog-info.yaml":
			w.Header().Set("Content-Type", "application/octet-stream")
			w.Write([]byte("kind: Component\n"))
		case "/signin.yaml":
			w.Header().Set("Content-Type", "text/html")
			w.WriteHeader(http.StatusNonAuthoritativeInfo)
		default:
			w.WriteHeader(http.StatusNotFound)
		}
	})
	p, _ := newPlugin(t, f, baseConfig)
	r := readerFor(t, p, f.host())
	ctx := context.Background()
	file, err := r.ReadURL(ctx, mustURL(t, f.url()+"/acme/My%20Project/_git/app?path=/catalog-info.yaml&version=GBmain"), reading.Options{})
	if err != nil || string(file.Data) != "kind: Component\n" {
		t.Fatalf("%v %v", file, err)
	}
	if got := strings.Join(f.calls(), "\n"); got != "GET /acme/My%20Project/_apis/git/repositories/app/items?api-version=6.0&path=%2Fcatalog-info.yaml&version=main" {
		t.Errorf("calls:\n%s", got)
	}
	if h := f.api()[0].Header; h.Get("Authorization") != wantAuth || h.Get("Accept") != "*/*" {
		t.Errorf("headers %v", h)
	}

	missing := f.url() + "/acme/My%20Project/_git/app?path=/missing.yaml"
	_, err = r.ReadURL(ctx, mustURL(t, missing), reading.Options{})
	var nf *reading.NotFoundError
	if !errors.As(err, &nf) || !errors.Is(err, fs.ErrNotExist) || nf.URL != missing {
		t.Errorf("missing: %v", err)
	}
	_, err = r.ReadURL(ctx, mustURL(t, f.url()+"/acme/My%20Project/_git/app?path=/signin.yaml"), reading.Options{})
	if err == nil || !strings.Contains(err.Error(), "answered 203 with a sign-in page, so the token was not accepted") {
		t.Errorf("sign-in: %v", err)
	}
	_, err = r.ReadURL(ctx, mustURL(t, f.url()+"/acme/My%20Project/_git/app"), reading.Options{})
	if err == nil || !strings.Contains(err.Error(), "Azure URL must point to a specific path") {
		t.Errorf("no path: %v", err)
	}
}

func TestReadTree(t *testing.T) {
	f := newFake(t)
	f.json("GET /acme/p/_apis/git/repositories/app/commits", 200, map[string]any{"count": 1, "value": []any{map[string]any{"commitId": sha1}}})
	archive := zipOf(t, []zipEntry{
		{name: "docs/"},
		{name: "docs/index.md", body: "# Hi\n"},
		{name: "docs/sub/run.sh", body: "#!/bin/sh\n", mode: 0o755},
		{name: "docs/link", body: "/etc/passwd", mode: fs.ModeSymlink | 0o777},
	})
	f.handle("GET /acme/p/_apis/git/repositories/app/items", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/zip")
		w.Write(archive)
	})
	p, _ := newPlugin(t, f, baseConfig)
	r := readerFor(t, p, f.host())
	u := mustURL(t, f.url()+"/acme/p/_git/app?path=/docs&version=GBmain")
	tree, err := r.ReadTree(context.Background(), u, reading.Options{})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		"GET /acme/p/_apis/git/repositories/app/commits?api-version=6.0&searchCriteria.$top=1&searchCriteria.itemVersion.version=main",
		"GET /acme/p/_apis/git/repositories/app/items?api-version=6.0&download=true&recursionLevel=full&scopePath=%2Fdocs&version=" + sha1 + "&versionType=commit",
	}
	if got := f.calls(); strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("calls:\n%s", strings.Join(got, "\n"))
	}
	if h := f.api()[1].Header; h.Get("Accept") != "application/zip" || h.Get("Authorization") != wantAuth {
		t.Errorf("archive headers %v", h)
	}
	if tree.ETag != sha1 || len(tree.Files) != 2 ||
		tree.Files[0].Path != "index.md" || string(tree.Files[0].Data) != "# Hi\n" || tree.Files[0].Executable ||
		tree.Files[1].Path != "sub/run.sh" || !tree.Files[1].Executable {
		t.Errorf("tree %+v", tree)
	}

	n := len(f.api())
	if _, err := r.ReadTree(context.Background(), u, reading.Options{ETag: sha1}); !errors.Is(err, reading.ErrNotModified) {
		t.Errorf("etag: %v", err)
	}
	if len(f.api()) != n+1 {
		t.Errorf("an unchanged tree still downloaded the archive")
	}
}

func TestUnzipRefusals(t *testing.T) {
	for _, name := range []string{"../evil", "a/../../evil", "/abs", `a\b`, "a//b"} {
		_, err := unzip(zipOf(t, []zipEntry{{name: name, body: "x"}}), "")
		if err == nil || !strings.Contains(err.Error(), "has a forbidden name") {
			t.Errorf("%q: %v", name, err)
		}
	}
	if _, err := unzip([]byte("not a zip"), ""); err == nil || !strings.Contains(err.Error(), "not a zip archive") {
		t.Errorf("garbage: %v", err)
	}
	files, err := unzip(zipOf(t, []zipEntry{{name: "a.txt", body: "a"}, {name: "other/b.txt", body: "b"}}), "other")
	if err != nil || len(files) != 1 || files[0].Path != "b.txt" {
		t.Errorf("top: %+v %v", files, err)
	}
}

func FuzzUnzip(f *testing.F) {
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	w, _ := zw.Create("top/a.txt")
	w.Write([]byte("a"))
	zw.Close()
	f.Add(buf.Bytes(), "top")
	f.Add([]byte("PK\x03\x04"), "")
	f.Fuzz(func(t *testing.T, data []byte, top string) {
		files, err := unzip(data, top)
		if err != nil {
			return
		}
		for _, tf := range files {
			for _, s := range strings.Split(tf.Path, "/") {
				if s == "" || s == "." || s == ".." || strings.ContainsAny(s, "\\\x00") {
					t.Fatalf("unsafe path %q", tf.Path)
				}
			}
		}
	})
}

// FuzzParseURLs: what the reader and the git actions accept from a URL
// stays on the integration and names valid segments.
func FuzzParseURLs(f *testing.F) {
	f.Add("https://dev.azure.com/acme/My%20Project/_git/app?path=/a.yaml&version=GBmain")
	f.Add("https://acme@dev.azure.com/acme/p/_git/r")
	f.Add("https://dev.azure.com/a/../p/_git/r")
	p, _, _, err := tryPlugin(nil, "integrations: {azure: [{host: dev.azure.com}]}")
	if err != nil {
		f.Fatal(err)
	}
	in := p.integration("dev.azure.com")
	f.Fuzz(func(t *testing.T, raw string) {
		if r, err := p.parseRemote("remoteUrl", raw); err == nil {
			u, err := url.Parse(r.url)
			if err != nil || u.User != nil || !r.in.sameOrigin(u) || u.RawQuery != "" {
				t.Fatalf("accepted %q as %q", raw, r.url)
			}
		}
		u, err := url.Parse(raw)
		if err != nil {
			return
		}
		if loc, err := in.parse(u); err == nil {
			if !validOrg(loc.org) || !validName(loc.project) || !validName(loc.repo) || (loc.ref != "" && !validBranch(loc.ref)) {
				t.Fatalf("accepted %q as %+v", raw, loc)
			}
			for _, s := range strings.Split(loc.path, "/") {
				if s == ".." {
					t.Fatalf("accepted %q with path %q", raw, loc.path)
				}
			}
		}
	})
}
