package action

import (
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// Security tests for the built-in actions. Rule a: a template can never
// write (or read, delete, rename) outside its workspace, nor read outside
// its template directory. Rule c: secrets never appear in logs or errors.
// The existing TestFetchTemplateSecurity, TestSymlinksAndLimits,
// TestFsDelete, TestFsRename, TestFsRead and TestPublishGitRefusals cover
// the plain cases; these add symlinks in every position, every action that
// takes a path, and assertions on the file system outside the workspace.

// secHarness is a harness whose root also holds an "outside" directory
// (a sibling of the workspace and the template dir) with a file the tests
// check is never read, changed or removed.
type secHarness struct {
	*harness
	root, outside, outsideFile string
	before                     map[string]string
}

const outsideContent = "outside-content-must-not-leak"

func newSecHarness(t *testing.T, files map[string]string) *secHarness {
	t.Helper()
	h := newHarness(t, files, nil)
	root := filepath.Dir(h.c.Workspace)
	s := &secHarness{harness: h, root: root, outside: filepath.Join(root, "outside")}
	writeTree(t, s.outside, map[string]string{"secret.txt": outsideContent, "keep/k.txt": "k"})
	s.outsideFile = filepath.Join(s.outside, "secret.txt")
	s.before = readTree(t, root)
	return s
}

// assertOutsideUntouched checks that nothing outside the workspace was
// created, changed or removed (the template dir and "outside").
func (s *secHarness) assertOutsideUntouched(t *testing.T) {
	t.Helper()
	after := readTree(t, s.root)
	for k, v := range after {
		if strings.HasPrefix(k, "workspace/") {
			continue
		}
		if old, ok := s.before[k]; !ok {
			t.Errorf("file created outside the workspace: %s", k)
		} else if old != v {
			t.Errorf("file changed outside the workspace: %s = %q", k, v)
		}
	}
	for k := range s.before {
		if strings.HasPrefix(k, "workspace/") {
			continue
		}
		if _, ok := after[k]; !ok {
			t.Errorf("file removed outside the workspace: %s", k)
		}
	}
	// the links themselves are still links (not replaced by files/dirs
	// that were written through)
	if fi, err := os.Stat(s.outside); err != nil || !fi.IsDir() {
		t.Errorf("outside directory gone: %v", err)
	}
}

func (s *secHarness) link(t *testing.T, target, name string) {
	t.Helper()
	if err := os.Symlink(target, name); err != nil {
		t.Skip("symlinks unsupported:", err)
	}
}

func (s *secHarness) run(t *testing.T, id string, input map[string]any) error {
	t.Helper()
	s.c.Input = input
	s.logs = nil
	return Run(builtin(t, id, BuiltinOptions{}), s.c)
}

// noLinksIn fails when dir holds a symbolic link.
func noLinksIn(t *testing.T, dir string) {
	t.Helper()
	_ = filepath.Walk(dir, func(p string, fi os.FileInfo, err error) error {
		if err == nil && fi.Mode()&os.ModeSymlink != 0 {
			t.Errorf("symbolic link copied into the workspace: %s", p)
		}
		return nil
	})
}

// Rule a: symlinks in skeletons. A skeleton holding a symlink (to an
// outside file, to an outside directory, to a directory inside the
// template, or a dangling one) is refused by fetch:plain and
// fetch:template before anything is written; a skeleton reached through a
// symlinked directory that leads outside the template dir is refused too.
func TestSecuritySkeletonSymlinks(t *testing.T) {
	cases := []struct {
		name   string
		target func(s *secHarness) string
		at     string
	}{
		{"file link to outside", func(s *secHarness) string { return s.outsideFile }, "s/leak.txt"},
		{"dir link to outside", func(s *secHarness) string { return s.outside }, "s/sub/up"},
		{"relative dir link to outside", func(s *secHarness) string { return "../../outside" }, "s/rel"},
		{"dir link inside the template", func(s *secHarness) string { return filepath.Join(s.c.TemplateDir, "other") }, "s/in"},
		{"link to the workspace", func(s *secHarness) string { return s.c.Workspace }, "s/ws"},
		{"dangling link", func(s *secHarness) string { return filepath.Join(s.root, "nowhere") }, "s/dangling"},
	}
	for _, tc := range cases {
		for _, id := range []string{"fetch:plain", "fetch:template"} {
			t.Run(tc.name+"/"+id, func(t *testing.T) {
				s := newSecHarness(t, map[string]string{"s/a.txt": "a ${{ values.x }}", "s/sub/b.txt": "b", "other/o.txt": "o"})
				s.link(t, tc.target(s), filepath.Join(s.c.TemplateDir, filepath.FromSlash(tc.at)))
				err := s.run(t, id, map[string]any{"url": "s", "values": map[string]any{"x": "1"}})
				wantErr(t, err, "symbolic link")
				if got := readTree(t, s.c.Workspace); len(got) != 0 {
					t.Errorf("partial copy left in the workspace: %v", keys(got))
				}
				noLinksIn(t, s.c.Workspace)
				s.assertOutsideUntouched(t)
			})
		}
	}
	// the skeleton directory itself, or a file url, reached through a link
	// that leads outside the template dir
	s := newSecHarness(t, map[string]string{"s/a.txt": "a"})
	s.link(t, s.outside, filepath.Join(s.c.TemplateDir, "up"))
	s.link(t, s.root, filepath.Join(s.c.TemplateDir, "s", "root"))
	for _, in := range []struct {
		id  string
		url string
	}{
		{"fetch:plain", "up"}, {"fetch:template", "up"}, {"fetch:plain", "s/root/outside"},
		{"fetch:plain:file", "up/secret.txt"}, {"fetch:template:file", "up/secret.txt"},
		{"fetch:plain:file", "s/root/outside/secret.txt"}, {"fetch:template:file", "s/root/workspace/../outside/secret.txt"},
	} {
		err := s.run(t, in.id, map[string]any{"url": in.url, "targetPath": "got.txt"})
		if err == nil {
			t.Errorf("%s url %s: no error", in.id, in.url)
		}
	}
	if got := readTree(t, s.c.Workspace); len(got) != 0 {
		t.Errorf("outside content copied: %v", got)
	}
	s.assertOutsideUntouched(t)
}

// Rule a: a symlink in the workspace (however it got there: no built-in
// action creates one, fetch:* refuse them, but a custom action or a
// repository checkout might) can not be written, renamed, deleted or read
// through by any later step.
func TestSecurityWorkspaceSymlinkWriteThrough(t *testing.T) {
	type step struct {
		id    string
		input map[string]any
	}
	steps := []step{
		{"fetch:plain", map[string]any{"url": "s", "targetPath": "out"}},
		{"fetch:plain", map[string]any{"url": "s", "targetPath": "out/deeper"}},
		{"fetch:plain", map[string]any{"url": "outskel"}},
		{"fetch:plain:file", map[string]any{"url": "s/a.txt", "targetPath": "out/a.txt"}},
		{"fetch:plain:file", map[string]any{"url": "s/a.txt", "targetPath": "outf"}},
		{"fetch:template", map[string]any{"url": "s", "targetPath": "out"}},
		{"fetch:template", map[string]any{"url": "s", "targetPath": "./out/x"}},
		{"fetch:template", map[string]any{"url": "named", "values": map[string]any{"d": "out"}}},
		{"fetch:template", map[string]any{"url": "named", "values": map[string]any{"d": "out/keep"}, "replace": true}},
		{"fetch:template:file", map[string]any{"url": "s/a.txt", "targetPath": "outf", "replace": true}},
		{"fetch:template:file", map[string]any{"url": "s/a.txt", "targetPath": "out/secret.txt", "replace": true}},
		{"fs:rename", map[string]any{"files": []any{map[string]any{"from": "w.txt", "to": "out/w.txt"}}}},
		{"fs:rename", map[string]any{"files": []any{map[string]any{"from": "w.txt", "to": "out/secret.txt", "overwrite": true}}}},
		{"fs:rename", map[string]any{"files": []any{map[string]any{"from": "out/secret.txt", "to": "stolen.txt"}}}},
		{"fs:rename", map[string]any{"files": []any{map[string]any{"from": "out/keep", "to": "stolen"}}}},
		{"fs:delete", map[string]any{"files": []any{"out/secret.txt"}}},
		{"fs:delete", map[string]any{"files": []any{"out/*"}}},
		{"fs:delete", map[string]any{"files": []any{"out/**"}}},
		{"fs:delete", map[string]any{"files": []any{"out/keep"}}},
		{"catalog:write", map[string]any{"filePath": "out/catalog-info.yaml", "entity": map[string]any{"kind": "X"}}},
		{"catalog:write", map[string]any{"filePath": "outf", "entity": map[string]any{"kind": "X"}}},
		{"fs:read", map[string]any{"path": "outf"}},
		{"fs:read", map[string]any{"path": "out/secret.txt"}},
		{"publish:git", map[string]any{"repoUrl": "/nowhere", "sourcePath": "out"}},
		{"publish:git", map[string]any{"repoUrl": "/nowhere", "sourcePath": "out/keep"}},
	}
	for _, st := range steps {
		t.Run(st.id+" "+jsonOf(st.input), func(t *testing.T) {
			s := newSecHarness(t, map[string]string{
				"s/a.txt": "a", "s/secret.txt": "overwritten", "named/${{ values.d }}/k.txt": "pwned",
			})
			writeTree(t, s.c.Workspace, map[string]string{"w.txt": "w"})
			// links created by an earlier step: to an outside dir, to an
			// outside file, and (in the template) a skeleton dir leading out
			s.link(t, s.outside, filepath.Join(s.c.Workspace, "out"))
			s.link(t, s.outsideFile, filepath.Join(s.c.Workspace, "outf"))
			s.link(t, s.outside, filepath.Join(s.c.TemplateDir, "outskel"))
			err := s.run(t, st.id, st.input)
			if err == nil {
				t.Fatalf("no error; logs %q", s.logs)
			}
			if strings.Contains(err.Error(), outsideContent) || strings.Contains(strings.Join(s.logs, "\n"), outsideContent) {
				t.Errorf("outside content leaked: %v %q", err, s.logs)
			}
			if _, ok := s.outputs["content"]; ok {
				t.Errorf("fs:read output %q", s.outputs["content"])
			}
			s.assertOutsideUntouched(t)
			for _, l := range []string{"out", "outf"} {
				if fi, err := os.Lstat(filepath.Join(s.c.Workspace, l)); err != nil || fi.Mode()&os.ModeSymlink == 0 {
					t.Errorf("workspace link %s replaced: %v", l, err)
				}
			}
		})
	}
}

// Rule a: operations on a workspace symlink itself act on the link, never
// on its target: deleting it, renaming it, or overwriting it leaves the
// outside file in place.
func TestSecurityWorkspaceSymlinkItself(t *testing.T) {
	for _, in := range []struct {
		id    string
		input map[string]any
	}{
		{"fs:delete", map[string]any{"files": []any{"out", "outf"}}},
		{"fs:delete", map[string]any{"files": []any{"**"}}},
		{"fs:delete", map[string]any{"files": []any{"**/secret.txt", "**/k.txt"}}},
		{"fs:rename", map[string]any{"files": []any{map[string]any{"from": "outf", "to": "moved"}}}},
		{"fs:rename", map[string]any{"files": []any{map[string]any{"from": "w.txt", "to": "outf", "overwrite": true}}}},
		{"fs:rename", map[string]any{"files": []any{map[string]any{"from": "w.txt", "to": "out", "overwrite": true}}}},
		{"debug:log", map[string]any{"listWorkspace": "with-contents"}},
	} {
		t.Run(in.id+" "+jsonOf(in.input), func(t *testing.T) {
			s := newSecHarness(t, nil)
			writeTree(t, s.c.Workspace, map[string]string{"w.txt": "w"})
			s.link(t, s.outside, filepath.Join(s.c.Workspace, "out"))
			s.link(t, s.outsideFile, filepath.Join(s.c.Workspace, "outf"))
			_ = s.run(t, in.id, in.input) // may succeed: it acts on the links only
			if strings.Contains(strings.Join(s.logs, "\n"), outsideContent) {
				t.Errorf("outside content logged: %q", s.logs)
			}
			s.assertOutsideUntouched(t)
		})
	}
}

// Rule a: templated file and directory names never leave the workspace:
// names rendering to "..", "../x", an absolute path, a backslash path or a
// NUL byte are refused (or, for a leading "/", skipped as an empty
// segment, as Backstage does), in every templating mode.
func TestSecurityRenderedNames(t *testing.T) {
	values := []string{
		"..", "../x", "../../outside/pwned", "a/../../x", `..\x`, `..\..\outside\pwned`, "x/..", "./../x",
		"/ABS/pwned", "//ABS/pwned", "x\x00y",
	}
	layouts := []string{"s/${{ values.x }}", "s/${{ values.x }}/f.txt", "s/d/${{ values.x }}", "s/pre-${{ values.x }}"}
	for _, v := range values {
		for _, l := range layouts {
			for _, mode := range []string{"plain", "copyWithoutTemplating", "cookiecutter", "extension"} {
				name := l
				if mode == "cookiecutter" {
					name = strings.ReplaceAll(l, "${{ values.x }}", "{{ cookiecutter.x }}")
				}
				if mode == "extension" && !strings.HasSuffix(name, ".txt") {
					name += ".njk"
				}
				t.Run(mode+" "+name+" "+v, func(t *testing.T) {
					s := newSecHarness(t, map[string]string{name: "pwned"})
					val := strings.ReplaceAll(v, "ABS", strings.TrimPrefix(s.root, "/"))
					in := map[string]any{"url": "s", "values": map[string]any{"x": val}}
					switch mode {
					case "copyWithoutTemplating":
						in["copyWithoutTemplating"] = []any{"**"}
					case "cookiecutter":
						in["cookiecutterCompat"] = true
					case "extension":
						in["templateFileExtension"] = true
					}
					_ = s.run(t, "fetch:template", in)
					s.assertOutsideUntouched(t)
					if _, err := os.Stat(filepath.Join(s.root, "pwned")); err == nil {
						t.Errorf("wrote %s", filepath.Join(s.root, "pwned"))
					}
					// whatever was written is inside the workspace and has
					// no ".." component
					for k := range readTree(t, s.c.Workspace) {
						for _, seg := range strings.Split(k, "/") {
							if seg == ".." {
								t.Errorf("workspace file %q", k)
							}
						}
					}
				})
			}
		}
	}
}

// Rule a: fs:rename can not move a file out of, or into, the workspace;
// fs:delete can not delete the workspace, its parent or anything outside.
func TestSecurityRenameDeleteOutside(t *testing.T) {
	for _, tc := range []struct{ from, to string }{
		{"a.txt", "../a.txt"}, {"a.txt", "../outside/a.txt"}, {"a.txt", "d/../../a.txt"}, {"a.txt", `..\a.txt`},
		{"a.txt", "/tmp/greenroom-sec-a.txt"}, {"a.txt", "ROOT/outside/a.txt"},
		{"../outside/secret.txt", "stolen.txt"}, {"ROOT/outside/secret.txt", "stolen.txt"}, {"d/../../outside/secret.txt", "s.txt"},
		{"a.txt", "."}, {".", "x"}, {"a.txt", ""}, {"a.txt", "a\x00b"},
	} {
		s := newSecHarness(t, nil)
		writeTree(t, s.c.Workspace, map[string]string{"a.txt": "A", "d/b.txt": "B"})
		from := strings.ReplaceAll(tc.from, "ROOT", s.root)
		to := strings.ReplaceAll(tc.to, "ROOT", s.root)
		err := s.run(t, "fs:rename", map[string]any{"files": []any{map[string]any{"from": from, "to": to, "overwrite": true}}})
		if err == nil {
			t.Errorf("rename %q -> %q: no error", from, to)
		}
		if _, err := os.Stat("/tmp/greenroom-sec-a.txt"); err == nil {
			os.Remove("/tmp/greenroom-sec-a.txt")
			t.Errorf("rename wrote /tmp/greenroom-sec-a.txt")
		}
		if got := readTree(t, s.c.Workspace); got["a.txt"] != "A" || got["d/b.txt"] != "B" || len(got) != 2 {
			t.Errorf("rename %q -> %q changed the workspace: %v", from, to, got)
		}
		s.assertOutsideUntouched(t)
	}
	for _, pat := range []string{
		"..", "../", "../*", "../**", "./..", "d/../..", "d/../../outside", `..\outside`, "/", "ROOT", "ROOT/outside",
		"*/../../outside/*", "{..,x}", "[.][.]", ".", "./", "",
	} {
		s := newSecHarness(t, nil)
		writeTree(t, s.c.Workspace, map[string]string{"a.txt": "A", "d/b.txt": "B"})
		p := strings.ReplaceAll(pat, "ROOT", s.root)
		_ = s.run(t, "fs:delete", map[string]any{"files": []any{p}})
		if fi, err := os.Stat(s.c.Workspace); err != nil || !fi.IsDir() {
			t.Fatalf("fs:delete %q removed the workspace", p)
		}
		s.assertOutsideUntouched(t)
	}
}

// Rule a: fetch:* urls resolve inside the template directory only:
// "..", absolute paths, URLs with a scheme and a missing template dir
// (which must not fall back to the process's working directory) are
// refused.
func TestSecurityFetchURLOutsideTemplate(t *testing.T) {
	for _, id := range []string{"fetch:plain", "fetch:plain:file", "fetch:template", "fetch:template:file"} {
		for _, url := range []string{
			"..", "../", "../outside", "../outside/secret.txt", "./../outside", "s/../../outside", `..\outside`,
			"ROOT/outside", "ROOT/outside/secret.txt", "/etc", "/etc/passwd",
			"file:///etc/passwd", "file://ROOT/outside", "https://example.invalid/x", "s/\x00",
		} {
			s := newSecHarness(t, map[string]string{"s/a.txt": "a"})
			u := strings.ReplaceAll(url, "ROOT", s.root)
			err := s.run(t, id, map[string]any{"url": u, "targetPath": "got"})
			if err == nil {
				t.Errorf("%s url %q: no error", id, u)
			}
			if got := readTree(t, s.c.Workspace); len(got) != 0 {
				t.Errorf("%s url %q copied %v", id, u, keys(got))
			}
			s.assertOutsideUntouched(t)
		}
		// no template directory: nothing is resolved against the working
		// directory of the process
		s := newSecHarness(t, nil)
		s.c.TemplateDir = ""
		wd, _ := os.Getwd()
		writeTree(t, wd, nil)
		for _, url := range []string{".", "security_test.go", "./"} {
			if err := s.run(t, id, map[string]any{"url": url, "targetPath": "got"}); err == nil {
				t.Errorf("%s url %q without a template dir: no error", id, url)
			}
		}
		if got := readTree(t, s.c.Workspace); len(got) != 0 {
			t.Errorf("%s copied from the working directory: %v", id, keys(got))
		}
	}
}

// Rule a: publish:git's sourcePath stays inside the workspace (no "..",
// absolute path or symlink leading out), and a symlink inside the
// published tree is committed as a link, never with its target's
// content.
func TestSecurityPublishGitSourcePath(t *testing.T) {
	for _, sp := range []string{"..", "../outside", "d/../..", "ROOT/outside", "/", "/etc", "out", "out/keep", `..\outside`} {
		s := newSecHarness(t, nil)
		writeTree(t, s.c.Workspace, map[string]string{"d/a.txt": "a"})
		s.link(t, s.outside, filepath.Join(s.c.Workspace, "out"))
		src := strings.ReplaceAll(sp, "ROOT", s.root)
		err := Run(builtin(t, "publish:git", BuiltinOptions{LocalGitRoots: []string{s.root}}),
			&Context{Workspace: s.c.Workspace, Input: map[string]any{"repoUrl": s.root + "/remote.git", "sourcePath": src}})
		if err == nil || !strings.Contains(err.Error(), "sourcePath") {
			t.Errorf("sourcePath %q: error = %v", src, err)
		}
		s.assertOutsideUntouched(t)
	}

	if _, err := exec.LookPath("git"); err != nil {
		t.Skip("git not installed")
	}
	s := newSecHarness(t, nil)
	roots := t.TempDir()
	bare := filepath.Join(roots, "r.git")
	gitCmd(t, roots, "init", "-q", "--bare", bare)
	writeTree(t, s.c.Workspace, map[string]string{"README.md": "hi"})
	s.link(t, s.outsideFile, filepath.Join(s.c.Workspace, "leak.txt"))
	s.link(t, s.outside, filepath.Join(s.c.Workspace, "leakdir"))
	s.c.Input = map[string]any{"repoUrl": bare}
	wantErr(t, Run(builtin(t, "publish:git", BuiltinOptions{LocalGitRoots: []string{roots}}), s.c), "")
	clone := filepath.Join(t.TempDir(), "clone")
	gitCmd(t, roots, "clone", "-q", "-b", "main", bare, clone)
	if out := gitCmd(t, clone, "log", "-p", "--all"); strings.Contains(out, outsideContent) || strings.Contains(out, "keep/k.txt") {
		t.Errorf("published the content behind a symlink:\n%s", out)
	}
	s.assertOutsideUntouched(t)
}

// Rule c: secrets never appear in action logs or errors, including when
// they are JSON-encoded (debug:log's extra, a multi-line key such as a
// PEM block, a secret holding quotes or backslashes) and when an action
// fails with the secret in its input.
func TestSecuritySecretsMaskedInLogsAndErrors(t *testing.T) {
	secrets := map[string]string{
		"plain":     "s3cr3t-plain-value",
		"multiline": "-----BEGIN KEY-----\nAAAAsecretline\n-----END KEY-----",
		"quoted":    `pa"ss\word-7x`,
		"tabbed":    "tab\tsecret-99",
	}
	leaks := func(s string) []string {
		var out []string
		for k, v := range secrets {
			j, _ := jsonMarshalString(v)
			for _, form := range []string{v, j} {
				if strings.Contains(s, form) {
					out = append(out, k)
				}
			}
		}
		// distinctive fragments of the multi-line and escaped secrets
		for _, frag := range []string{"AAAAsecretline", `pa\"ss`, `ss\\word`, `tab\tsecret`} {
			if strings.Contains(s, frag) {
				out = append(out, frag)
			}
		}
		return out
	}
	all := map[string]any{}
	var list []any
	for k, v := range secrets {
		all[k] = v
		list = append(list, v)
	}
	h := newHarness(t, nil, nil)
	h.c.Secrets = secrets
	// logs
	h.c.Input = map[string]any{"message": "msg " + secrets["plain"] + " " + secrets["multiline"], "extra": map[string]any{"secrets": all, "list": list}}
	wantErr(t, Run(builtin(t, "debug:log", BuiltinOptions{}), h.c), "")
	writeTree(t, h.c.Workspace, map[string]string{"f.txt": secrets["multiline"] + secrets["quoted"]})
	h.c.Input = map[string]any{"listWorkspace": "with-contents"}
	wantErr(t, Run(builtin(t, "debug:log", BuiltinOptions{}), h.c), "")
	if l := leaks(strings.Join(h.logs, "\n")); len(l) > 0 {
		t.Errorf("secrets %v in logs:\n%s", l, strings.Join(h.logs, "\n"))
	}
	// errors of actions whose input holds a secret
	for _, in := range []struct {
		id    string
		input map[string]any
	}{
		{"fs:read", map[string]any{"path": secrets["plain"]}},
		{"fs:read", map[string]any{"path": secrets["quoted"]}},
		{"fetch:plain", map[string]any{"url": "x/" + secrets["plain"]}},
		{"fetch:template", map[string]any{"url": "../" + secrets["plain"]}},
		{"fetch:plain:file", map[string]any{"url": secrets["multiline"], "targetPath": "x"}},
		{"fs:rename", map[string]any{"files": []any{map[string]any{"from": secrets["plain"], "to": "x"}}}},
		{"fs:delete", map[string]any{"files": []any{"/" + secrets["plain"]}}},
		{"catalog:write", map[string]any{"filePath": "../" + secrets["plain"], "entity": map[string]any{}}},
		{"catalog:register", map[string]any{"catalogInfoUrl": "https://h/" + secrets["plain"]}},
		{"catalog:fetch", map[string]any{"entityRef": secrets["plain"]}},
		{"publish:git", map[string]any{"repoUrl": "https://" + secrets["plain"] + "@h/o/r"}},
		{"publish:git", map[string]any{"repoUrl": secrets["plain"] + "?owner=o&repo=r"}},
		{"debug:wait", map[string]any{"seconds": secrets["plain"]}},
	} {
		h.logs = nil
		h.c.Input = in.input
		err := Run(builtin(t, in.id, BuiltinOptions{Catalog: &fakeCatalog{fail: errors.New("refused " + secrets["plain"])}}), h.c)
		if err == nil {
			t.Errorf("%s: want an error", in.id)
			continue
		}
		if l := leaks(err.Error() + strings.Join(h.logs, "\n")); len(l) > 0 {
			t.Errorf("%s: secrets %v in error %q / logs %q", in.id, l, err, h.logs)
		}
	}
}

// jsonMarshalString is the body of v's JSON string (without the quotes).
func jsonMarshalString(v string) (string, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return "", err
	}
	return string(b[1 : len(b)-1]), nil
}
