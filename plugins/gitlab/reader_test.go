package gitlab

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"io/fs"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/greenroom-dev/greenroom/plugins/reading"
)

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

func mustURL(t *testing.T, s string) *url.URL {
	t.Helper()
	u, err := url.Parse(s)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

func TestReadURL(t *testing.T) {
	f := newFake(t)
	route := "GET /api/v4/projects/group%2Fsub%2Fproj/repository/files/docs%2Fcatalog-info.yaml/raw"
	f.handle(route, func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Query().Get("ref") != "main" {
			http.Error(w, "ref", http.StatusBadRequest)
			return
		}
		if r.Header.Get("If-None-Match") == `"etag-1"` {
			w.WriteHeader(http.StatusNotModified)
			return
		}
		w.Header().Set("ETag", `"etag-1"`)
		_, _ = w.Write([]byte("kind: Component\n"))
	})
	p, _ := newPlugin(t, f, baseConfig)
	r := readerFor(t, p, f.host())
	ctx := context.Background()

	for _, kind := range []string{"blob", "raw"} {
		f.reset()
		file, err := r.ReadURL(ctx, mustURL(t, f.url()+"/group/sub/proj/-/"+kind+"/main/docs/catalog-info.yaml"), reading.Options{})
		if err != nil {
			t.Fatal(err)
		}
		if string(file.Data) != "kind: Component\n" || file.ETag != `"etag-1"` {
			t.Errorf("file %q etag %q", file.Data, file.ETag)
		}
		got := f.find(t, "GET", "/api/v4/projects/group%2Fsub%2Fproj/repository/files/docs%2Fcatalog-info.yaml/raw")
		if got.RequestURI != "/api/v4/projects/group%2Fsub%2Fproj/repository/files/docs%2Fcatalog-info.yaml/raw?ref=main" {
			t.Errorf("request URI %s", got.RequestURI)
		}
		if got.Header.Get("PRIVATE-TOKEN") != testToken || got.Header.Get("Authorization") != "" {
			t.Errorf("auth headers %v", got.Header)
		}
	}

	_, err := r.ReadURL(ctx, mustURL(t, f.url()+"/group/sub/proj/-/blob/main/docs/catalog-info.yaml"), reading.Options{ETag: `"etag-1"`})
	if !errors.Is(err, reading.ErrNotModified) {
		t.Errorf("want ErrNotModified, got %v", err)
	}
	_, err = r.ReadURL(ctx, mustURL(t, f.url()+"/group/sub/proj/-/blob/main/missing.yaml"), reading.Options{})
	var nf *reading.NotFoundError
	if !errors.As(err, &nf) || !errors.Is(err, fs.ErrNotExist) || nf.URL != f.url()+"/group/sub/proj/-/blob/main/missing.yaml" {
		t.Errorf("want NotFoundError, got %v", err)
	}
	for _, bad := range []string{"/group/proj/-/blob/main/../../x", "/group/proj/-/tree/main/x", "/group/proj/-/blob/main"} {
		if _, err := r.ReadURL(ctx, mustURL(t, f.url()+bad), reading.Options{}); err == nil {
			t.Errorf("%s: want an error", bad)
		}
	}
}

func TestReadURLRelativeBase(t *testing.T) {
	f := newFake(t)
	f.handle("GET /gitlab/api/v4/projects/g%2Fp/repository/files/catalog-info.yaml/raw", func(w http.ResponseWriter, r *http.Request) {
		_, _ = w.Write([]byte("ok"))
	})
	p, _ := newPlugin(t, f, `
integrations:
  gitlab:
    - host: "{{HOST}}"
      baseUrl: "{{URL}}/gitlab"
      token: "{{TOKEN}}"
`)
	r := readerFor(t, p, f.host())
	file, err := r.ReadURL(context.Background(), mustURL(t, f.url()+"/gitlab/g/p/-/blob/main/catalog-info.yaml"), reading.Options{})
	if err != nil || string(file.Data) != "ok" {
		t.Fatalf("%v %q", err, file)
	}
	if _, err := r.ReadURL(context.Background(), mustURL(t, f.url()+"/g/p/-/blob/main/catalog-info.yaml"), reading.Options{}); err == nil ||
		!strings.Contains(err.Error(), "not under GitLab's base URL") {
		t.Errorf("outside the base URL: %v", err)
	}
}

type tarEntry struct {
	name, body, link string
	typ              byte
	mode             int64
}

func makeTarGz(t *testing.T, entries []tarEntry) []byte {
	t.Helper()
	var buf bytes.Buffer
	gz := gzip.NewWriter(&buf)
	tw := tar.NewWriter(gz)
	for _, e := range entries {
		h := &tar.Header{Name: e.name, Typeflag: e.typ, Mode: e.mode, Size: int64(len(e.body)), Linkname: e.link}
		if h.Mode == 0 {
			h.Mode = 0o644
		}
		if e.typ != tar.TypeReg {
			h.Size = 0
		}
		if err := tw.WriteHeader(h); err != nil {
			t.Fatal(err)
		}
		if e.typ == tar.TypeReg {
			_, _ = tw.Write([]byte(e.body))
		}
	}
	_ = tw.Close()
	_ = gz.Close()
	return buf.Bytes()
}

func TestReadTree(t *testing.T) {
	const sha = "0123456789abcdef0123456789abcdef01234567"
	top := "proj-main-" + sha + "-docs/"
	good := makeTarGz(t, []tarEntry{
		{name: top, typ: tar.TypeDir},
		{name: top + "docs/", typ: tar.TypeDir},
		{name: top + "docs/index.md", body: "# Hi", typ: tar.TypeReg},
		{name: top + "docs/sub/run.sh", body: "#!/bin/sh", typ: tar.TypeReg, mode: 0o755},
		{name: top + "docs/link", link: "/etc/passwd", typ: tar.TypeSymlink},
		{name: top + "README.md", body: "outside the subpath", typ: tar.TypeReg},
	})
	evil := makeTarGz(t, []tarEntry{{name: top + "docs/../../evil", body: "x", typ: tar.TypeReg}})
	abs := makeTarGz(t, []tarEntry{{name: "/etc/evil", body: "x", typ: tar.TypeReg}})

	f := newFake(t)
	f.json("GET /api/v4/projects/group%2Fproj/repository/commits", 200, []map[string]any{{"id": sha}})
	archive := good
	f.handle("GET /api/v4/projects/group%2Fproj/repository/archive.tar.gz", func(w http.ResponseWriter, r *http.Request) {
		_, _ = w.Write(archive)
	})
	f.json("GET /api/v4/projects/group%2Fproj", 200, map[string]any{"default_branch": "main"})
	p, _ := newPlugin(t, f, baseConfig)
	r := readerFor(t, p, f.host())
	ctx := context.Background()

	tree, err := r.ReadTree(ctx, mustURL(t, f.url()+"/group/proj/-/tree/main/docs"), reading.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if tree.ETag != sha || len(tree.Files) != 2 ||
		tree.Files[0].Path != "index.md" || string(tree.Files[0].Data) != "# Hi" || tree.Files[0].Executable ||
		tree.Files[1].Path != "sub/run.sh" || !tree.Files[1].Executable {
		t.Fatalf("tree %+v", tree)
	}
	want := []string{
		"GET /api/v4/projects/group%2Fproj/repository/commits?path=docs&per_page=1&ref_name=main",
		"GET /api/v4/projects/group%2Fproj/repository/archive.tar.gz?path=docs&sha=main",
	}
	if got := f.calls(); strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("calls:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}

	f.reset()
	if _, err := r.ReadTree(ctx, mustURL(t, f.url()+"/group/proj/-/tree/main/docs"), reading.Options{ETag: sha}); !errors.Is(err, reading.ErrNotModified) {
		t.Errorf("want ErrNotModified, got %v", err)
	}
	if n := len(f.calls()); n != 1 {
		t.Errorf("an unchanged tree is not downloaded: %v", f.calls())
	}

	// a repository URL reads the default branch first
	f.reset()
	archive = makeTarGz(t, []tarEntry{{name: "proj-main-x/a.txt", body: "a", typ: tar.TypeReg}})
	tree, err = r.ReadTree(ctx, mustURL(t, f.url()+"/group/proj"), reading.Options{})
	if err != nil || len(tree.Files) != 1 || tree.Files[0].Path != "a.txt" {
		t.Fatalf("%v %+v", err, tree)
	}
	if c := f.calls(); c[0] != "GET /api/v4/projects/group%2Fproj" || c[1] != "GET /api/v4/projects/group%2Fproj/repository/commits?per_page=1&ref_name=main" {
		t.Errorf("calls %v", c)
	}

	for name, a := range map[string][]byte{"dot-dot": evil, "absolute": abs} {
		archive = a
		if _, err := r.ReadTree(ctx, mustURL(t, f.url()+"/group/proj/-/tree/main/docs"), reading.Options{}); err == nil ||
			!strings.Contains(err.Error(), "archive") {
			t.Errorf("%s: want an archive error, got %v", name, err)
		}
	}

	f.json("GET /api/v4/projects/group%2Fproj/repository/commits", 200, []map[string]any{})
	var nf *reading.NotFoundError
	if _, err := r.ReadTree(ctx, mustURL(t, f.url()+"/group/proj/-/tree/main/nope"), reading.Options{}); !errors.As(err, &nf) {
		t.Errorf("a path without commits does not exist: %v", err)
	}
}
