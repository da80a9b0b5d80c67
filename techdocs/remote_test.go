package techdocs_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/greenroom-dev/greenroom/catalog"
	"github.com/greenroom-dev/greenroom/catalog/store"
	"github.com/greenroom-dev/greenroom/plugins/reading"
	"github.com/greenroom-dev/greenroom/techdocs"
)

// entities is a catalog of fixed entities.
type entities map[string]*catalog.Entity

func (c entities) FinalByRef(_ context.Context, ref string) ([]byte, error) {
	e, ok := c[ref]
	if !ok {
		return nil, store.ErrNotFound
	}
	return json.Marshal(e)
}

func documented(name, location, docsRef string) *catalog.Entity {
	return &catalog.Entity{APIVersion: "backstage.io/v1alpha1", Kind: "Component",
		Metadata: catalog.Metadata{Name: name, Namespace: "default", Annotations: map[string]string{
			"backstage.io/managed-by-location": location,
			techdocs.RefAnnotation:             docsRef,
		}}}
}

// trees is a fake TreeReader: trees by URL, each at a commit; it records
// every call with the ETag it was given.
type trees struct {
	mu    sync.Mutex
	by    map[string]*reading.Tree
	err   error
	calls []string // "url etag"
}

func (f *trees) ReadTree(_ context.Context, rawURL string, o reading.Options) (*reading.Tree, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, rawURL+" "+o.ETag)
	if f.err != nil {
		return nil, f.err
	}
	t, ok := f.by[rawURL]
	if !ok {
		return nil, &reading.NotFoundError{URL: rawURL}
	}
	if o.ETag != "" && o.ETag == t.ETag {
		return nil, reading.ErrNotModified
	}
	return t, nil
}

func (f *trees) set(url string, t *reading.Tree) {
	f.mu.Lock()
	f.by[url] = t
	f.mu.Unlock()
}

func docsTree(sha, index string) *reading.Tree {
	return &reading.Tree{ETag: sha, Files: []reading.TreeFile{
		{Path: "mkdocs.yml", Data: []byte("site_name: Remote docs\nnav:\n  - Home: index.md\n  - Guide: guide/setup.md\n")},
		{Path: "docs/index.md", Data: []byte(index)},
		{Path: "docs/guide/setup.md", Data: []byte("# Setup\n\nSee [home](../index.md).\n")},
	}}
}

var remoteRef = catalog.Ref{Kind: "component", Namespace: "default", Name: "remote"}

func TestURLDocs(t *testing.T) {
	const treeURL = "https://git.example/o/r/tree/main/site"
	tr := &trees{by: map[string]*reading.Tree{treeURL: docsTree("sha1", "# Remote home\n\nFirst version.\n")}}
	data := t.TempDir()
	svc := &techdocs.Service{
		Catalog: entities{"component:default/remote": documented("remote", "file:/nowhere/catalog-info.yaml", "url:"+treeURL)},
		Reader:  tr, DataDir: data, Recheck: time.Nanosecond, RemoteRecheck: time.Hour,
	}
	ctx := context.Background()
	pg, err := svc.Page(ctx, remoteRef, "")
	if err != nil {
		t.Fatal(err)
	}
	if pg.Title != "Remote home" || !strings.Contains(pg.Result.HTML, "First version.") || pg.Site.Name != "Remote docs" {
		t.Errorf("page %q: %s", pg.Title, pg.Result.HTML)
	}
	guide, err := svc.Page(ctx, remoteRef, "guide/setup/")
	if err != nil || !strings.Contains(guide.Result.HTML, `href="/docs/default/component/remote/"`) {
		t.Fatalf("guide: %v %+v", err, guide)
	}
	// Within RemoteRecheck the copy is used: one read for three views.
	if len(tr.calls) != 1 || tr.calls[0] != treeURL+" " {
		t.Errorf("calls %q, want one read without an ETag", tr.calls)
	}
	// After it, the remote is asked with the commit it was read at, and an
	// unchanged tree is not read again.
	svc.RemoteRecheck = time.Nanosecond
	if _, err := svc.Page(ctx, remoteRef, ""); err != nil {
		t.Fatal(err)
	}
	if len(tr.calls) != 2 || tr.calls[1] != treeURL+" sha1" {
		t.Errorf("calls %q, want a second with ETag sha1", tr.calls)
	}
	// A new commit is read and shown.
	tr.set(treeURL, docsTree("sha2", "# Remote home\n\nSecond version.\n"))
	pg, err = svc.Page(ctx, remoteRef, "")
	if err != nil || !strings.Contains(pg.Result.HTML, "Second version.") {
		t.Fatalf("after a new commit: %v %+v", err, pg)
	}
	// A transient failure keeps the last copy.
	tr.mu.Lock()
	tr.err = errors.New("could not read https://git.example/o/r, 502 Bad Gateway")
	tr.mu.Unlock()
	if pg, err := svc.Page(ctx, remoteRef, ""); err != nil || !strings.Contains(pg.Result.HTML, "Second version.") {
		t.Errorf("during an outage: %v", err)
	}
	// The copy lives under the data directory, and survives a restart:
	// a new service asks with the stored commit.
	entries, _ := os.ReadDir(filepath.Join(data, "trees"))
	if len(entries) != 1 {
		t.Fatalf("trees/ holds %d entries", len(entries))
	}
	tr2 := &trees{by: map[string]*reading.Tree{treeURL: docsTree("sha2", "# ignored\n")}}
	svc2 := &techdocs.Service{Catalog: svc.Catalog, Reader: tr2, DataDir: data}
	if pg, err := svc2.Page(ctx, remoteRef, ""); err != nil || !strings.Contains(pg.Result.HTML, "Second version.") {
		t.Errorf("after a restart: %v", err)
	}
	if len(tr2.calls) != 1 || tr2.calls[0] != treeURL+" sha2" {
		t.Errorf("after a restart: calls %q", tr2.calls)
	}
}

// TestDirDocsOfURLLocations: dir: of an entity from a url location is the
// catalog file's directory URL, read as a tree.
func TestDirDocsOfURLLocations(t *testing.T) {
	const file = "https://git.example/o/r/blob/main/services/svc/catalog-info.yaml"
	tests := []struct {
		ref, wantURL string
	}{
		{"dir:.", "https://git.example/o/r/blob/main/services/svc/"},
		{"dir:./docs-site", "https://git.example/o/r/blob/main/services/svc/docs-site"},
		{"dir:../../common", "https://git.example/o/r/blob/main/common"},
	}
	for _, tt := range tests {
		t.Run(tt.ref, func(t *testing.T) {
			tr := &trees{by: map[string]*reading.Tree{tt.wantURL: docsTree("c1", "# From the repo\n")}}
			svc := &techdocs.Service{Catalog: entities{"component:default/remote": documented("remote", "url:"+file, tt.ref)}, Reader: tr, DataDir: t.TempDir()}
			pg, err := svc.Page(context.Background(), remoteRef, "")
			if err != nil {
				t.Fatalf("%v (calls %q)", err, tr.calls)
			}
			if pg.Title != "From the repo" || len(tr.calls) != 1 || tr.calls[0] != tt.wantURL+" " {
				t.Errorf("title %q, calls %q", pg.Title, tr.calls)
			}
		})
	}
}

// TestRemoteDocsErrorsSayWhy: every failure is a NoDocsError with the
// reason, never a crash, and nothing is written outside the data dir.
func TestRemoteDocsErrorsSayWhy(t *testing.T) {
	const file = "https://git.example/o/r/blob/main/catalog-info.yaml"
	refused := &reading.NotAllowedError{URL: "https://git.example/o/r/blob/main/", Reason: "Reading from 'https://git.example/o/r/blob/main/' is not allowed. You may need to configure an integration for the target host, or add it to the configured list of allowed hosts at 'backend.reading.allow'"}
	outside := t.TempDir()
	tests := []struct {
		name   string
		loc    string
		ref    string
		reader techdocs.TreeReader
		want   string
	}{
		{"no reader", "url:" + file, "dir:.", nil, "Docs at https://git.example/o/r/blob/main/ are not read: this server has no URL reader for TechDocs"},
		{"not allowed", "url:" + file, "dir:.", &trees{err: refused}, "The docs at https://git.example/o/r/blob/main/ could not be read: Reading from 'https://git.example/o/r/blob/main/' is not allowed."},
		{"no fetch tree reader", "url:" + file, "dir:.", &trees{err: fmt.Errorf("%w: configure an integration", reading.ErrNoTreeReader)}, "could not be read: FetchUrlReader does not implement readTree: configure an integration"},
		{"missing", "url:" + file, "dir:./nope", &trees{by: map[string]*reading.Tree{}}, "https://git.example/o/r/blob/main/nope does not exist"},
		{"leaves the repository", "url:" + file, "dir:../..", &trees{}, "The techdocs-ref dir:../.. cannot be resolved: dir:../.. leaves the repository."},
		{"absolute dir", "url:" + file, "dir:/etc", &trees{}, "dir:/etc is not a relative path"},
		{"not http", "file:/x/catalog-info.yaml", "url:ftp://git.example/x", &trees{}, "The techdocs-ref url:ftp://git.example/x is not an http(s) URL."},
		{"token in the URL", "file:/x/catalog-info.yaml", "url:https://u:hunter2@git.example/o/r?token=hunter2", &trees{err: errors.New("boom")}, "The docs at https://git.example/o/r could not be read: boom"},
		{"unsafe tree path", "url:" + file, "dir:.", &trees{by: map[string]*reading.Tree{"https://git.example/o/r/blob/main/": {ETag: "x", Files: []reading.TreeFile{
			{Path: "mkdocs.yml", Data: []byte("site_name: x\n")}, {Path: "../../" + filepath.Base(outside) + "/pwned", Data: []byte("x")}}}}}, "could not be stored: the tree holds a file with an unsafe path"},
		{"empty segment", "url:" + file, "dir:.", &trees{by: map[string]*reading.Tree{"https://git.example/o/r/blob/main/": {ETag: "x", Files: []reading.TreeFile{{Path: "docs//a.md"}}}}}, "unsafe path \"docs//a.md\""},
		{"no mkdocs.yml", "url:" + file, "dir:.", &trees{by: map[string]*reading.Tree{"https://git.example/o/r/blob/main/": {ETag: "x", Files: []reading.TreeFile{{Path: "README.md", Data: []byte("hi")}}}}}, "The docs could not be read"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			svc := &techdocs.Service{Catalog: entities{"component:default/remote": documented("remote", tt.loc, tt.ref)}, Reader: tt.reader, DataDir: t.TempDir()}
			_, err := svc.Page(context.Background(), remoteRef, "")
			var nd *techdocs.NoDocsError
			if !errors.As(err, &nd) {
				t.Fatalf("got %v (%T), want a NoDocsError", err, err)
			}
			if !strings.Contains(nd.Reason, tt.want) {
				t.Errorf("reason\n  %s\nlacks\n  %s", nd.Reason, tt.want)
			}
			if strings.Contains(nd.Reason, "hunter2") {
				t.Errorf("reason leaks the secret: %s", nd.Reason)
			}
		})
	}
	if _, err := os.Stat(filepath.Join(outside, "pwned")); err == nil {
		t.Error("a tree path wrote outside the data directory")
	}
}

// TestRemoteDocsGoneOrRefused: a tree that disappears or stops being
// allowed takes its copy with it.
func TestRemoteDocsGoneOrRefused(t *testing.T) {
	const treeURL = "https://git.example/o/r/tree/main"
	tr := &trees{by: map[string]*reading.Tree{treeURL: docsTree("s", "# Here\n")}}
	svc := &techdocs.Service{Catalog: entities{"component:default/remote": documented("remote", "file:/x", "url:"+treeURL)},
		Reader: tr, DataDir: t.TempDir(), Recheck: time.Nanosecond, RemoteRecheck: time.Nanosecond}
	ctx := context.Background()
	if _, err := svc.Page(ctx, remoteRef, ""); err != nil {
		t.Fatal(err)
	}
	tr.mu.Lock()
	tr.err = &reading.NotAllowedError{URL: treeURL, Reason: "Reading from '" + treeURL + "' is not allowed."}
	tr.mu.Unlock()
	var nd *techdocs.NoDocsError
	if _, err := svc.Page(ctx, remoteRef, ""); !errors.As(err, &nd) || !strings.Contains(nd.Reason, "is not allowed") {
		t.Errorf("refused: %v", err)
	}
	if entries, _ := os.ReadDir(filepath.Join(svc.DataDir, "trees")); len(entries) != 0 {
		t.Errorf("the refused tree's copy is kept (%d entries)", len(entries))
	}
}
