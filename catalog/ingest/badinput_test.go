package ingest_test

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/greenroom-dev/greenroom/catalog"
	"github.com/greenroom-dev/greenroom/catalog/ingest"
)

// billionLaughs is a YAML alias bomb: nine levels of nine aliases expand
// to 9^9 strings.
const billionLaughs = `apiVersion: backstage.io/v1alpha1
kind: Component
metadata:
  name: victim
spec:
  type: service
  lifecycle: production
  owner: team-a
  a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]
  b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]
  c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]
  d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]
  e: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]
  f: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e]
  g: &g [*f,*f,*f,*f,*f,*f,*f,*f,*f]
  h: &h [*g,*g,*g,*g,*g,*g,*g,*g,*g]
  i: &i [*h,*h,*h,*h,*h,*h,*h,*h,*h]
`

// TestBadInputKeepsLastGoodVersion: after a good crawl, bad.yaml breaks in
// one of many ways. The crawl still commits, records an error naming the
// file, keeps the last good version of bad.yaml's entity, and good.yaml
// keeps serving (and updating).
func TestBadInputKeepsLastGoodVersion(t *testing.T) {
	tests := []struct {
		name string
		// breakIt turns bad.yaml (absolute path) into bad input.
		breakIt func(t *testing.T, e *crawlEnv, bad string)
		// want are fragments of the error recorded at file:<bad>.
		want []string
		// status: the kept entity also shows the error in status.items.
		status bool
	}{
		{
			name: "unparsable YAML",
			breakIt: func(t *testing.T, e *crawlEnv, bad string) {
				writeFile(t, bad, "apiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata: [unclosed\n  name: victim\n")
			},
			want: []string{"YAMLParseError"},
		},
		{
			name: "one unparsable document of two",
			breakIt: func(t *testing.T, e *crawlEnv, bad string) {
				writeFile(t, bad, "key: [unclosed\n---\n"+fmt.Sprintf(componentTmpl, "also-in-bad", "new", "team-a"))
			},
			want: []string{"YAMLParseError", "document 0"},
		},
		{
			name: "not an entity",
			breakIt: func(t *testing.T, e *crawlEnv, bad string) {
				writeFile(t, bad, "apiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata:\n  title: no name\n")
			},
			want: []string{"metadata"},
		},
		{
			name: "invalid entity (no spec.owner)",
			breakIt: func(t *testing.T, e *crawlEnv, bad string) {
				writeFile(t, bad, strings.Replace(fmt.Sprintf(componentTmpl, "victim", "broken", "team-a"), "  owner: team-a\n", "", 1))
			},
			want:   []string{"owner"},
			status: true,
		},
		{
			name: "YAML alias bomb",
			breakIt: func(t *testing.T, e *crawlEnv, bad string) {
				writeFile(t, bad, billionLaughs)
			},
			want: []string{"alias"},
		},
		{
			name: "larger than MaxFileSize",
			breakIt: func(t *testing.T, e *crawlEnv, bad string) {
				f, err := os.Create(bad)
				if err != nil {
					t.Fatal(err)
				}
				w := bufio.NewWriterSize(f, 1<<20)
				w.WriteString(fmt.Sprintf(componentTmpl, "victim", "huge", "team-a"))
				line := "# " + strings.Repeat("x", 1021) + "\n"
				for n := 0; n < 50<<20; n += len(line) {
					w.WriteString(line)
				}
				if err := w.Flush(); err != nil {
					t.Fatal(err)
				}
				f.Close()
				if st, _ := os.Stat(bad); st.Size() <= 2*ingest.MaxFileSize {
					t.Fatalf("wrote only %d bytes", st.Size())
				}
			},
			want: []string{"larger than"},
		},
		{
			name: "symlink loop",
			breakIt: func(t *testing.T, e *crawlEnv, bad string) {
				other := filepath.Join(filepath.Dir(bad), "other.yaml")
				os.Remove(bad)
				mustSymlink(t, "other.yaml", bad)
				mustSymlink(t, "bad.yaml", other)
			},
			want: []string{"Unable to read"},
		},
		{
			name: "directory given as a file",
			breakIt: func(t *testing.T, e *crawlEnv, bad string) {
				os.Remove(bad)
				if err := os.Mkdir(bad, 0o755); err != nil {
					t.Fatal(err)
				}
			},
			want: []string{"not a regular file"},
		},
		{
			name: "required target missing",
			breakIt: func(t *testing.T, e *crawlEnv, bad string) {
				os.Remove(bad)
			},
			want: []string{"NotFoundError"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newCrawlEnv(t)
			e.write("good.yaml", fmt.Sprintf(componentTmpl, "good", "v1", "team-a"))
			bad := e.write("bad.yaml", fmt.Sprintf(componentTmpl, "victim", "last good", "team-a"))
			root := e.write("root.yaml", locationYAML("root", "./good.yaml", "./bad.yaml"))
			l := e.add("file", root)
			e.crawl(l)
			e.noErrors(l.ID)
			before := e.entity("component:default/victim")

			tt.breakIt(t, e, bad)
			e.write("good.yaml", fmt.Sprintf(componentTmpl, "good", "v2", "team-a"))
			start := time.Now()
			cs := e.crawl(l)
			t.Logf("crawl with bad input took %v: %+v", time.Since(start).Round(time.Millisecond), cs.Apply)

			pe := e.wantError(l.ID, fileRef(bad), tt.want...)
			if !strings.Contains(pe.Message, bad) && pe.Location != fileRef(bad) {
				t.Errorf("error does not name the file: %+v", pe)
			}
			victim := e.entity("component:default/victim")
			if victim.Metadata.Description != "last good" || victim.Metadata.UID != before.Metadata.UID {
				t.Errorf("victim not kept as it was: %q uid %s", victim.Metadata.Description, victim.Metadata.UID)
			}
			if !hasRelation(victim, "ownedBy", "group:default/team-a") {
				t.Errorf("victim lost its relations: %v", relationStrings(victim))
			}
			if tt.status {
				if victim.Status == nil || len(victim.Status.Items) == 0 || victim.Status.Items[0].Level != "error" ||
					!strings.Contains(victim.Status.Items[0].Message, "owner") {
					t.Errorf("victim status = %+v, want the processing error", victim.Status)
				}
			} else if victim.Status != nil {
				t.Errorf("victim status = %+v", victim.Status)
			}
			if d := e.entity("component:default/good").Metadata.Description; d != "v2" {
				t.Errorf("good.yaml was not updated beside the bad file: %q", d)
			}
			e.entity("location:default/root")

			// Fixing the file clears the error and the status.
			os.RemoveAll(bad)
			e.write("bad.yaml", fmt.Sprintf(componentTmpl, "victim", "fixed", "team-a"))
			e.crawl(l)
			e.noErrors(l.ID)
			victim = e.entity("component:default/victim")
			if victim.Metadata.Description != "fixed" || victim.Status != nil {
				t.Errorf("after the fix: %q status %+v", victim.Metadata.Description, victim.Status)
			}
		})
	}
}

// TestMissingTarget: a missing required target is an error; an optional
// one is not.
func TestMissingTarget(t *testing.T) {
	tests := []struct {
		name, presence string
		wantErr        bool
	}{
		{"required (default)", "", true},
		{"required", "required", true},
		{"optional", "optional", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newCrawlEnv(t)
			e.write("good.yaml", fmt.Sprintf(componentTmpl, "good", "v1", "team-a"))
			loc := locationYAML("root", "./good.yaml", "./missing.yaml")
			if tt.presence != "" {
				loc += "  presence: " + tt.presence + "\n"
			}
			l := e.add("file", e.write("root.yaml", loc))
			cs := e.crawl(l)
			e.entity("component:default/good")
			if tt.wantErr {
				pe := e.wantError(l.ID, fileRef(e.path("missing.yaml")), "NotFoundError", e.path("missing.yaml"))
				if pe.EntityRef != "location:default/root" {
					t.Errorf("error entity ref %q, want the Location that named the target", pe.EntityRef)
				}
				if cs.Errors != 1 {
					t.Errorf("crawl errors = %d", cs.Errors)
				}
			} else {
				e.noErrors(l.ID)
			}
		})
	}
	t.Run("missing root", func(t *testing.T) {
		e := newCrawlEnv(t)
		p := e.path("nope.yaml")
		l := e.add("file", p)
		e.crawl(l)
		e.wantError(l.ID, fileRef(p), "NotFoundError")
		e.entity(rootRef("file", p))
	})
}

// TestSymlinkLoopsUnderGlob: symlinked directories that loop under a **
// glob neither hang the crawl nor stop the other files; a file symlink loop
// the glob matches is an error naming it.
func TestSymlinkLoopsUnderGlob(t *testing.T) {
	e := newCrawlEnv(t)
	for _, n := range []string{"a", "b"} {
		e.write("services/"+n+"/catalog-info.yaml", fmt.Sprintf(componentTmpl, "svc-"+n, n, "team-a"))
	}
	root := e.write("root.yaml", locationYAML("root", "./services/**/catalog-info.yaml"))
	l := e.add("file", root)
	e.crawl(l)
	e.noErrors(l.ID)

	// Two directory loops: following them would walk 2^40 paths.
	mustSymlink(t, "..", e.path("services/a/up"))
	mustSymlink(t, "..", e.path("services/b/up"))
	mustSymlink(t, e.path("services"), e.path("services/b/abs"))
	// A file loop the glob matches.
	if err := os.MkdirAll(e.path("services/c"), 0o755); err != nil {
		t.Fatal(err)
	}
	mustSymlink(t, "loop.yaml", e.path("services/c/catalog-info.yaml"))
	mustSymlink(t, "catalog-info.yaml", e.path("services/c/loop.yaml"))

	done := make(chan struct{})
	start := time.Now()
	go func() {
		defer close(done)
		cs := e.crawl(l)
		t.Logf("crawl with symlink loops: %+v in %v", cs.Apply, time.Since(start).Round(time.Millisecond))
	}()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("crawl of a tree with symlink loops did not finish in 10s")
	}
	e.entity("component:default/svc-a")
	e.entity("component:default/svc-b")
	e.wantError(l.ID, fileRef(e.path("services/c/catalog-info.yaml")), "Unable to read")
	if errs := e.errors(l.ID); len(errs) != 1 {
		t.Errorf("errors:\n%s", formatErrors(errs))
	}
}

// TestSymlinkToFile: a symlinked file is read where it points and keeps
// the link's path as its location (a git location's files may not point out
// of the repository: see TestGitLocation).
func TestSymlinkToFile(t *testing.T) {
	e := newCrawlEnv(t)
	e.write("real/component.yaml", fmt.Sprintf(componentTmpl, "linked", "via a link", "team-a"))
	mustSymlink(t, e.path("real/component.yaml"), e.path("cat/link.yaml"))
	l := e.add("file", e.path("cat/link.yaml"))
	e.crawl(l)
	e.noErrors(l.ID)
	ent := e.entity("component:default/linked")
	if got := ent.Metadata.Annotations[catalog.AnnotationLocation]; got != fileRef(e.path("cat/link.yaml")) {
		t.Errorf("managed-by-location %s, want the link's path", got)
	}
}

func writeFile(t *testing.T, p, content string) {
	t.Helper()
	os.RemoveAll(p)
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

func mustSymlink(t *testing.T, oldname, newname string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(newname), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(oldname, newname); err != nil {
		t.Skipf("symlinks: %v", err)
	}
}

// TestBrokenLocationFileKeepsWhatItLedTo: when a Location's own file
// breaks, the files it named are not read this crawl, but what they gave
// before is kept, as Backstage keeps a failed Location's children.
func TestBrokenLocationFileKeepsWhatItLedTo(t *testing.T) {
	tests := []struct {
		name, file, content string
		kept                []string
	}{
		{"root file unparsable", "graph/catalog-info.yaml", "kind: [broken",
			[]string{"location:default/root", "group:default/team-a", "component:default/billing", "location:default/nested", "system:default/platform"}},
		{"nested Location invalid", "graph/nested/location.yaml",
			"apiVersion: backstage.io/v1alpha1\nkind: Location\nmetadata:\n  name: nested\nspec:\n  type: file\n  target: ../common/\n",
			[]string{"location:default/nested", "system:default/platform"}},
		{"nested Location missing", "graph/nested/location.yaml", "",
			[]string{"location:default/nested", "system:default/platform"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newCrawlEnv(t)
			dir := e.copyFixture("graph")
			l := e.add("file", filepath.Join(dir, "catalog-info.yaml"))
			e.crawl(l)
			e.noErrors(l.ID)
			if tt.content == "" {
				os.Remove(e.path(tt.file))
			} else {
				e.write(tt.file, tt.content)
			}
			cs := e.crawl(l)
			if len(e.errors(l.ID)) == 0 {
				t.Error("no error recorded")
			}
			for _, ref := range tt.kept {
				e.entity(ref)
			}
			if cs.Apply.Removed != 0 {
				t.Errorf("removed %d entities: %+v", cs.Apply.Removed, cs.Apply)
			}
			// Fixing it restores normal service.
			os.RemoveAll(filepath.Join(dir))
			e.copyFixture("graph")
			e.crawl(l)
			e.noErrors(l.ID)
		})
	}
}
