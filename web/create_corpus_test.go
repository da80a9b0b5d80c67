package web_test

import (
	"context"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/greenroom-dev/greenroom/catalog/ingest/ingesttest"
	"github.com/greenroom-dev/greenroom/catalog/store"
	"github.com/greenroom-dev/greenroom/scaffolder/service"
	"github.com/greenroom-dev/greenroom/web"
)

var templateKindRe = regexp.MustCompile(`(?m)^kind:\s*["']?Template["']?\s*$`)

// TestCreateCorpus takes every repository of $GREENROOM_TEMPLATE_CORPUS
// as a catalog of its own — copied to a temporary directory with a root
// Location listing its Template files, as a repository registered in
// Backstage would be, so $yaml/$json/$text placeholders resolve inside the
// repository and names do not clash across repositories — then opens each
// template's wizard on every page and its review through the server. Any
// server error fails the test; templates the catalog or the scaffolder
// refuses are reported with the reason.
func TestCreateCorpus(t *testing.T) {
	root := os.Getenv("GREENROOM_TEMPLATE_CORPUS")
	if root == "" {
		t.Skip("GREENROOM_TEMPLATE_CORPUS not set")
	}
	repos, err := os.ReadDir(root)
	if err != nil {
		t.Fatal(err)
	}
	refused := map[string][]string{}
	var files, templates, usable, pages, reviews int
	for _, repo := range repos {
		if !repo.IsDir() {
			continue
		}
		dir := t.TempDir()
		copyDir := filepath.Join(dir, "repo")
		var targets []string
		filepath.WalkDir(filepath.Join(root, repo.Name()), func(p string, d fs.DirEntry, err error) error {
			if err != nil || !d.Type().IsRegular() {
				return nil
			}
			rel, _ := filepath.Rel(filepath.Join(root, repo.Name()), p)
			b, err := os.ReadFile(p)
			if err != nil {
				return nil
			}
			dst := filepath.Join(copyDir, rel)
			os.MkdirAll(filepath.Dir(dst), 0o755)
			os.WriteFile(dst, b, 0o644)
			if ext := strings.ToLower(filepath.Ext(p)); (ext == ".yaml" || ext == ".yml") && templateKindRe.Match(b) {
				targets = append(targets, "./"+filepath.ToSlash(rel))
			}
			return nil
		})
		if len(targets) == 0 {
			continue
		}
		files += len(targets)
		loc := "apiVersion: backstage.io/v1alpha1\nkind: Location\nmetadata: {name: corpus-root}\nspec:\n  targets:\n"
		for _, tg := range targets {
			loc += "    - " + strconv.Quote(tg) + "\n"
		}
		rootFile := filepath.Join(copyDir, "greenroom-corpus-root.yaml")
		if err := os.WriteFile(rootFile, []byte(loc), 0o644); err != nil {
			t.Fatal(err)
		}
		tm, u, pg, rv := corpusRepo(t, dir, rootFile, repo.Name(), refused)
		templates, usable, pages, reviews = templates+tm, usable+u, pages+pg, reviews+rv
	}
	t.Logf("files with a Template: %d; Template entities in the catalogs: %d; forms opened: %d; pages rendered: %d; reviews: %d", files, templates, usable, pages, reviews)
	reasons := make([]string, 0, len(refused))
	for r := range refused {
		reasons = append(reasons, r)
	}
	sort.Strings(reasons)
	for _, r := range reasons {
		t.Logf("%4d × %s (e.g. %s)", len(refused[r]), r, refused[r][0])
	}
}

// corpusRepo ingests one repository's templates and opens their forms.
func corpusRepo(t *testing.T, dir, rootFile, name string, refused map[string][]string) (templates, usable, pages, reviews int) {
	c := ingesttest.Ingest(t, dir, rootFile)
	scaff, _, err := service.Open(c.Store, c.Engine, service.Config{DataDir: filepath.Join(dir, "scaffolder")})
	if err != nil {
		t.Fatal(err)
	}
	defer scaff.Close()
	hs := httptest.NewServer((&web.Server{Catalog: c.Store, Ingester: c.Engine, Scaffolder: scaff}).Handler())
	defer hs.Close()
	ctx := context.Background()

	catalogErrs, _ := c.Store.Errors(ctx, "")
	for _, e := range catalogErrs {
		msg := e.Message
		if i := strings.Index(msg, " (document"); i > 0 {
			msg = msg[:i]
		}
		msg = strings.ReplaceAll(msg, filepath.Dir(rootFile), "<repo>")
		key := "catalog: " + firstWords(msg, 40)
		refused[key] = append(refused[key], name+": "+strings.ReplaceAll(e.Location, filepath.Dir(rootFile), ""))
	}
	rows, _, err := c.Store.Query(ctx, store.QueryRequest{Filter: store.Field{Key: "kind", Values: []string{"template"}}, Limit: -1})
	if err != nil {
		t.Fatal(err)
	}
	for _, row := range rows {
		templates++
		ref := refOf(t, row.Final)
		tp, err := scaff.Template(ctx, ref)
		ns, tname := splitRef(ref)
		base := hs.URL + "/create/templates/" + url.PathEscape(ns) + "/" + url.PathEscape(tname)
		resp, body := get(t, base)
		if err != nil {
			if resp.StatusCode != http.StatusUnprocessableEntity {
				t.Errorf("%s %s: refused by the scaffolder (%v) but the page answered %d", name, ref, err, resp.StatusCode)
			}
			key := "scaffolder: " + firstWords(err.Error(), 12)
			refused[key] = append(refused[key], name+": "+ref)
			continue
		}
		if resp.StatusCode != 200 {
			t.Errorf("%s %s: first page %d\n%.500s", name, ref, resp.StatusCode, body)
			continue
		}
		usable++
		n := len(tp.Parameters)
		for i := 0; i < n; i++ {
			resp, body := postForm(t, base, url.Values{"_values": {"{}"}, "_page": {strconv.Itoa(n)}, "_go": {"edit-" + strconv.Itoa(i)}})
			if resp.StatusCode != 200 {
				t.Errorf("%s %s page %d: %d\n%.500s", name, ref, i, resp.StatusCode, body)
				continue
			}
			pages++
		}
		if resp, body := postForm(t, base, url.Values{"_values": {"{}"}, "_page": {strconv.Itoa(n)}}); resp.StatusCode != 200 {
			t.Errorf("%s %s review: %d\n%.500s", name, ref, resp.StatusCode, body)
		} else {
			reviews++
		}
	}
	return templates, usable, pages, reviews
}

func firstWords(s string, n int) string {
	f := strings.Fields(s)
	if len(f) > n {
		f = append(f[:n], "…")
	}
	return strings.Join(f, " ")
}

var refRe = regexp.MustCompile(`"metadata":\{.*?"name":"([^"]+)".*?"namespace":"([^"]+)"`)

func refOf(t *testing.T, final []byte) string {
	t.Helper()
	m := refRe.FindSubmatch(final)
	if m == nil {
		t.Fatalf("no name in %.200s", final)
	}
	return "template:" + string(m[2]) + "/" + string(m[1])
}

func splitRef(ref string) (string, string) {
	rest := strings.TrimPrefix(ref, "template:")
	ns, name, _ := strings.Cut(rest, "/")
	return ns, name
}
