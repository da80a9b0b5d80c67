package github

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"io/fs"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"testing"

	"github.com/greenroom-dev/greenroom/plugins/reading"
)

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

func TestReadURL(t *testing.T) {
	f := newFake(t)
	e := newPlugin(t, f, nil)
	f.handle("GET /repos/acme/svc/contents/docs/catalog-info.yaml", func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("If-None-Match") == `"v1"` {
			w.WriteHeader(http.StatusNotModified)
			return
		}
		w.Header().Set("ETag", `"v1"`)
		w.Write([]byte("kind: Component\n"))
	})
	rd := readerFor(t, e.p, f.host())
	for _, kind := range []string{"blob", "tree", "raw"} {
		t.Run(kind, func(t *testing.T) {
			file, err := rd.ReadURL(context.Background(), mustURL(t, f.web("acme/svc/"+kind+"/main/docs/catalog-info.yaml")), reading.Options{})
			if err != nil {
				t.Fatal(err)
			}
			equal(t, "data", string(file.Data), "kind: Component\n")
			equal(t, "etag", file.ETag, `"v1"`)
		})
	}
	req := f.requests()[0]
	equal(t, "method", req.Method, "GET")
	equal(t, "path", req.Path, "/repos/acme/svc/contents/docs/catalog-info.yaml")
	equal(t, "query", req.Query, "ref=main")
	equal(t, "Accept", req.Header.Get("Accept"), "application/vnd.github.v3.raw")
	equal(t, "Authorization", req.Header.Get("Authorization"), "token "+testToken)
	equal(t, "If-None-Match", req.Header.Get("If-None-Match"), "")

	_, err := rd.ReadURL(context.Background(), mustURL(t, f.web("acme/svc/blob/main/docs/catalog-info.yaml")), reading.Options{ETag: `"v1"`})
	if !errors.Is(err, reading.ErrNotModified) {
		t.Fatalf("with the current ETag: %v, want ErrNotModified", err)
	}
	reqs := f.requests()
	equal(t, "If-None-Match sent", reqs[len(reqs)-1].Header.Get("If-None-Match"), `"v1"`)

	_, err = rd.ReadURL(context.Background(), mustURL(t, f.web("acme/svc/blob/main/missing.yaml")), reading.Options{})
	var nf *reading.NotFoundError
	if !errors.As(err, &nf) || !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("missing file: %v, want a NotFoundError", err)
	}
	for _, bad := range []string{"acme/svc/blob/main/../../x", "acme", "acme/svc/commits/main/x", "acme/svc/blob/main"} {
		if _, err := rd.ReadURL(context.Background(), mustURL(t, f.web(bad)), reading.Options{}); err == nil || errors.As(err, &nf) {
			t.Errorf("ReadURL(%s): %v, want a refusal", bad, err)
		}
	}
	if strings.Contains(e.log.String(), testToken) {
		t.Error("the token is in the log")
	}
}

func TestReadURLRawOnly(t *testing.T) {
	f := newFake(t)
	var got *http.Request
	f.srv.Config.Handler.(*http.ServeMux).HandleFunc("/raw/", func(w http.ResponseWriter, r *http.Request) {
		got = r
		w.Write([]byte("raw body"))
	})
	e := newPlugin(t, f, map[string]any{"integrations": map[string]any{"github": []any{
		map[string]any{"host": f.host(), "rawBaseUrl": f.srv.URL + "/raw"},
	}}})
	file, err := readerFor(t, e.p, f.host()).ReadURL(context.Background(), mustURL(t, f.web("acme/svc/blob/dev/a/b.yaml")), reading.Options{})
	if err != nil {
		t.Fatal(err)
	}
	equal(t, "data", string(file.Data), "raw body")
	equal(t, "path", got.URL.Path, "/raw/acme/svc/dev/a/b.yaml")
	equal(t, "Authorization", got.Header.Get("Authorization"), "")
}

type tarEntry struct {
	name, body, link string
	mode             int64
	typ              byte
}

func tarball(t *testing.T, entries []tarEntry) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	tw := tar.NewWriter(zw)
	// GitHub's tarballs start with a pax global header holding the commit
	if err := tw.WriteHeader(&tar.Header{Typeflag: tar.TypeXGlobalHeader, Name: "pax_global_header", PAXRecords: map[string]string{"comment": "abc"}}); err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		h := &tar.Header{Name: e.name, Mode: e.mode, Typeflag: e.typ, Linkname: e.link, Size: int64(len(e.body))}
		if h.Typeflag == 0 {
			h.Typeflag = tar.TypeReg
		}
		if h.Mode == 0 {
			h.Mode = 0o644
		}
		if h.Typeflag != tar.TypeReg {
			h.Size = 0
		}
		if err := tw.WriteHeader(h); err != nil {
			t.Fatal(err)
		}
		if h.Typeflag == tar.TypeReg {
			tw.Write([]byte(e.body))
		}
	}
	tw.Close()
	zw.Close()
	return buf.Bytes()
}

func TestReadTree(t *testing.T) {
	const sha = "0123456789abcdef0123456789abcdef01234567"
	top := "acme-svc-0123456/"
	good := tarball(t, []tarEntry{
		{name: top, typ: tar.TypeDir},
		{name: top + "README.md", body: "readme"},
		{name: top + "docs/", typ: tar.TypeDir},
		{name: top + "docs/index.md", body: "# Home"},
		{name: top + "docs/sub/run.sh", body: "#!/bin/sh", mode: 0o755},
		{name: top + "docs/link", typ: tar.TypeSymlink, link: "/etc/passwd"},
		{name: top + "docs-other/x.md", body: "not in docs"},
	})
	evil := tarball(t, []tarEntry{
		{name: top + "docs/index.md", body: "# Home"},
		{name: top + "docs/../../../evil", body: "x"},
	})
	tests := []struct {
		name      string
		url       string
		etag      string
		archive   []byte
		wantFiles map[string]string
		wantExec  []string
		wantErr   string
		wantCalls []string
	}{
		{
			name: "subdirectory", url: "acme/svc/tree/main/docs", archive: good,
			wantFiles: map[string]string{"index.md": "# Home", "sub/run.sh": "#!/bin/sh"}, wantExec: []string{"sub/run.sh"},
			wantCalls: []string{"GET /repos/acme/svc/commits/main/status?per_page=0", "GET /repos/acme/svc/tarball/" + sha},
		},
		{
			name: "not modified", url: "acme/svc/tree/main/docs", etag: sha, archive: good, wantErr: "not modified",
			wantCalls: []string{"GET /repos/acme/svc/commits/main/status?per_page=0"},
		},
		{
			name: "escaping entry", url: "acme/svc/tree/main/docs", archive: evil, wantErr: "unsafe path",
			wantCalls: []string{"GET /repos/acme/svc/commits/main/status?per_page=0", "GET /repos/acme/svc/tarball/" + sha},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := newFake(t)
			e := newPlugin(t, f, nil)
			f.on("GET /repos/acme/svc/commits/main/status", 200, map[string]any{
				"state": "success", "sha": sha,
				"repository": map[string]any{"archive_url": f.api() + "/repos/acme/svc/{archive_format}{/ref}"},
			})
			f.on("GET /repos/acme/svc/tarball/"+sha, 200, tc.archive)
			tree, err := readerFor(t, e.p, f.host()).ReadTree(context.Background(), mustURL(t, f.web(tc.url)), reading.Options{ETag: tc.etag})
			equal(t, "calls", f.routesCalled(), tc.wantCalls)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err = %v, want %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			equal(t, "etag", tree.ETag, sha)
			files := map[string]string{}
			var execs []string
			for _, tf := range tree.Files {
				files[tf.Path] = string(tf.Data)
				if tf.Executable {
					execs = append(execs, tf.Path)
				}
			}
			sort.Strings(execs)
			equal(t, "files", files, tc.wantFiles)
			equal(t, "executables", execs, tc.wantExec)
			for _, r := range f.requests() {
				equal(t, "Authorization of "+r.Path, r.Header.Get("Authorization"), "token "+testToken)
			}
		})
	}
}

func TestReadTreeFallbacks(t *testing.T) {
	const sha = "89abcdef0123456789abcdef0123456789abcdef"
	f := newFake(t)
	e := newPlugin(t, f, nil)
	// no ref in the URL: the default branch; a refused combined status:
	// the commit itself
	f.on("GET /repos/acme/svc", 200, map[string]any{"default_branch": "trunk"})
	f.on("GET /repos/acme/svc/commits/trunk/status", 403, map[string]any{"message": "Resource not accessible"})
	f.on("GET /repos/acme/svc/commits/trunk", 200, map[string]any{"sha": sha})
	f.on("GET /repos/acme/svc/tarball/"+sha, 200, tarball(t, []tarEntry{{name: "x/a.txt", body: "a"}}))
	tree, err := readerFor(t, e.p, f.host()).ReadTree(context.Background(), mustURL(t, f.web("acme/svc")), reading.Options{})
	if err != nil {
		t.Fatal(err)
	}
	equal(t, "calls", f.routesCalled(), []string{"GET /repos/acme/svc", "GET /repos/acme/svc/commits/trunk/status?per_page=0",
		"GET /repos/acme/svc/commits/trunk", "GET /repos/acme/svc/tarball/" + sha})
	equal(t, "files", len(tree.Files), 1)

	_, err = readerFor(t, e.p, f.host()).ReadTree(context.Background(), mustURL(t, f.web("acme/gone/tree/main")), reading.Options{})
	if !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("missing repository: %v, want NotFoundError", err)
	}
}

func TestArchiveURLStaysOnAPI(t *testing.T) {
	r := &hostReader{in: &integration{host: "ghe.example.com", api: "https://ghe.example.com/api/v3"}}
	sha := "0123456789abcdef0123456789abcdef01234567"
	for tmpl, want := range map[string]string{
		"https://ghe.example.com/api/v3/repos/o/r/{archive_format}{/ref}": "https://ghe.example.com/api/v3/repos/o/r/tarball/" + sha,
		"https://evil.example.com/repos/o/r/{archive_format}{/ref}":       "https://ghe.example.com/api/v3/repos/o/r/tarball/" + sha,
		"": "https://ghe.example.com/api/v3/repos/o/r/tarball/" + sha,
	} {
		equal(t, tmpl, r.archiveURL(tmpl, "/repos/o/r", sha), want)
	}
}
