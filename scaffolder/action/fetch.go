package action

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"strings"
	"unicode/utf8"

	"github.com/bmatcuk/doublestar/v4"
	"github.com/greenroom-dev/greenroom/scaffolder/expr"
)

func targetIn(c *Context, key string) (string, error) {
	t, err := inStr(c.Input, key)
	if err != nil {
		return "", err
	}
	if t == "" {
		t = "."
	}
	if _, err := cleanRel(t); err != nil {
		return "", fmt.Errorf("input %q: %w", key, err)
	}
	return t, nil
}

// ---- fetch:plain

type fetchPlain struct{ o BuiltinOptions }

func (fetchPlain) ID() string { return "fetch:plain" }
func (fetchPlain) Description() string {
	return "Downloads content and places it in the workspace, or optionally in a subdirectory specified by the `targetPath` input option."
}
func (fetchPlain) Schema() (map[string]any, map[string]any) {
	return schemaObj([]string{"url"}, map[string]any{
		"url":        sType("string", "Fetch URL", "Relative path or absolute URL of the directory to copy; a relative path is resolved against the template's location"),
		"targetPath": sType("string", "Target Path", "Target path within the working directory to download the contents to."),
	}), schemaObj(nil, map[string]any{})
}
func (a fetchPlain) Run(c *Context) error {
	url, err := inStr(c.Input, "url")
	if err != nil {
		return err
	}
	target, err := targetIn(c, "targetPath")
	if err != nil {
		return err
	}
	src, cleanup, err := a.o.dirSource(c, url)
	if errors.Is(err, errNotDir) {
		return fmt.Errorf("url %q is not a directory; use fetch:plain:file for a single file", url)
	}
	if err != nil {
		return err
	}
	defer cleanup()
	l := a.o.limits()
	entries, err := walkSource(src, l)
	if err != nil {
		return err
	}
	if _, err := within(c.Workspace, target, true); err != nil {
		return fmt.Errorf("targetPath: %w", err)
	}
	c.Logf("Fetching plain content from %s into %s", redactURL(url), target)
	for _, e := range entries {
		dst, err := within(c.Workspace, path.Join(filepath.ToSlash(target), e.rel), true)
		if err != nil {
			return err
		}
		if e.dir {
			if err := os.MkdirAll(dst, 0o755); err != nil {
				return err
			}
			continue
		}
		data, err := os.ReadFile(e.abs)
		if err != nil {
			return err
		}
		if err := writeFile(dst, data, e.mode); err != nil {
			return err
		}
	}
	return nil
}

// ---- fetch:plain:file

type fetchPlainFile struct{ o BuiltinOptions }

func (fetchPlainFile) ID() string { return "fetch:plain:file" }
func (fetchPlainFile) Description() string {
	return "Downloads single file and places it in the workspace."
}
func (fetchPlainFile) Schema() (map[string]any, map[string]any) {
	return schemaObj([]string{"url", "targetPath"}, map[string]any{
		"url":        sType("string", "Fetch URL", "Relative path or absolute URL of the file to copy; a relative path is resolved against the template's location"),
		"targetPath": sType("string", "Target Path", "Target path within the working directory to download the file as."),
	}), schemaObj(nil, map[string]any{})
}
func (a fetchPlainFile) Run(c *Context) error {
	url, err := inStr(c.Input, "url")
	if err != nil {
		return err
	}
	target, err := inStr(c.Input, "targetPath")
	if err != nil {
		return err
	}
	if target == "" {
		return fmt.Errorf("input \"targetPath\" is required")
	}
	data, mode, err := a.o.fileSource(c, url)
	if err != nil {
		return err
	}
	dst, err := within(c.Workspace, target, true)
	if err != nil {
		return fmt.Errorf("targetPath: %w", err)
	}
	c.Logf("Fetching plain file %s into %s", redactURL(url), target)
	return writeFile(dst, data, mode)
}

// ---- fetch:template

type fetchTemplate struct{ o BuiltinOptions }

func (fetchTemplate) ID() string { return "fetch:template" }
func (fetchTemplate) Description() string {
	return "Downloads a skeleton, templates variables into file and directory names and content, and places the result in the workspace, or optionally in a subdirectory specified by the `targetPath` input option."
}

func templateCommonProps() map[string]any {
	return map[string]any{
		"values":             sType("object", "Template Values", "Values to pass on to the templating engine"),
		"cookiecutterCompat": sType("boolean", "Cookiecutter compatibility mode", "Enable features to maximise compatibility with templates built for fetch:cookiecutter"),
		"replace":            sType("boolean", "Replace files", "If set, replace files in targetPath instead of skipping existing ones."),
		"trimBlocks":         sType("boolean", "Trim Blocks", "If set, the first newline after a block is removed (block, not variable tag!)."),
		"lstripBlocks":       sType("boolean", "Lstrip Blocks", "If set, leading spaces and tabs are stripped from the start of a line to a block."),
		"token":              sType("string", "Token", "An optional token to use for authentication when reading the resources (unused: templates are local)."),
	}
}

func (fetchTemplate) Schema() (map[string]any, map[string]any) {
	p := templateCommonProps()
	p["url"] = sType("string", "Fetch URL", "Relative path or absolute URL of the skeleton directory; a relative path is resolved against the template's location")
	p["targetPath"] = sType("string", "Target Path", "Target path within the working directory to generate contents to. Defaults to the working directory root.")
	p["copyWithoutRender"] = sStrArray("[Deprecated] Copy Without Render", "An array of glob patterns. Any files or directories which match are copied without being processed as templates.")
	p["copyWithoutTemplating"] = sStrArray("Copy Without Templating", "An array of glob patterns. Contents of matched files or directories are copied without being processed, but paths are subject to rendering.")
	p["templateFileExtension"] = map[string]any{
		"title":       "Template File Extension",
		"description": "If set, only files with the given extension will be templated. If set to `true`, the default extension `.njk` is used.",
		"type":        []any{"string", "boolean"},
	}
	return schemaObj([]string{"url"}, p), schemaObj(nil, map[string]any{})
}

type renderer struct {
	opts expr.Options
	ctx  map[string]any
}

func newRenderer(c *Context) (*renderer, error) {
	cc, err := inBool(c.Input, "cookiecutterCompat")
	if err != nil {
		return nil, err
	}
	tb, err := inBool(c.Input, "trimBlocks")
	if err != nil {
		return nil, err
	}
	lb, err := inBool(c.Input, "lstripBlocks")
	if err != nil {
		return nil, err
	}
	values := c.Input["values"]
	if values == nil || expr.IsUndefined(values) {
		values = map[string]any{}
	} else if _, ok := asMap(values); !ok {
		return nil, fmt.Errorf("input \"values\" must be an object, got %T", values)
	}
	r := &renderer{opts: expr.Options{CookiecutterCompat: cc, TrimBlocks: tb, LstripBlocks: lb, Integrations: c.Integrations}}
	if cc {
		r.ctx = map[string]any{"cookiecutter": values}
	} else {
		r.ctx = map[string]any{"values": values}
	}
	return r, nil
}

func (r *renderer) render(s string) (string, error) { return r.opts.RenderString(s, r.ctx) }

// renderPath renders a slash-separated relative path; skip reports a path
// with an empty segment (Backstage skips those).
func (r *renderer) renderPath(p string) (out string, skip bool, err error) {
	out, err = r.render(p)
	if err != nil {
		return "", false, fmt.Errorf("render path %q: %w", p, err)
	}
	for _, seg := range strings.Split(out, "/") {
		if seg == "" {
			return out, true, nil
		}
	}
	if _, err := cleanRel(out); err != nil {
		return "", false, fmt.Errorf("template path %q renders to an unsafe path: %w", p, err)
	}
	return out, false, nil
}

func isBinary(data []byte) bool {
	n := min(len(data), 8000)
	return bytes.IndexByte(data[:n], 0) >= 0 || !utf8.Valid(data)
}

func matchAny(patterns []string, rel string, dir bool) (bool, error) {
	for _, p := range patterns {
		p = strings.TrimPrefix(p, "./")
		ok, err := doublestar.Match(p, rel)
		if err != nil {
			return false, fmt.Errorf("bad glob %q: %w", p, err)
		}
		if !ok && dir {
			ok, _ = doublestar.Match(p, rel+"/")
		}
		if ok {
			return true, nil
		}
	}
	return false, nil
}

func (a fetchTemplate) Run(c *Context) error {
	url, err := inStr(c.Input, "url")
	if err != nil {
		return err
	}
	target, err := targetIn(c, "targetPath")
	if err != nil {
		return err
	}
	noRender, err := inStrList(c.Input, "copyWithoutRender")
	if err != nil {
		return err
	}
	noTemplating, err := inStrList(c.Input, "copyWithoutTemplating")
	if err != nil {
		return err
	}
	if len(noRender) > 0 && len(noTemplating) > 0 {
		return fmt.Errorf("copyWithoutRender and copyWithoutTemplating can not be used at the same time")
	}
	var ext string
	switch x := c.Input["templateFileExtension"].(type) {
	case nil:
	case bool:
		if x {
			ext = ".njk"
		}
	case string:
		ext = x
		if ext != "" && !strings.HasPrefix(ext, ".") {
			ext = "." + ext
		}
	default:
		if !expr.IsUndefined(x) {
			return fmt.Errorf("input \"templateFileExtension\" must be a string or a boolean")
		}
	}
	cc, _ := inBool(c.Input, "cookiecutterCompat")
	if ext != "" && (len(noRender) > 0 || len(noTemplating) > 0 || cc) {
		return fmt.Errorf("input extension incompatible with copyWithoutRender/copyWithoutTemplating and cookiecutterCompat")
	}
	replace, r, err := templateOptions(c)
	if err != nil {
		return err
	}
	src, cleanup, err := a.o.dirSource(c, url)
	if errors.Is(err, errNotDir) {
		return fmt.Errorf("url %q is not a directory; use fetch:template:file for a single file", url)
	}
	if err != nil {
		return err
	}
	defer cleanup()
	l := a.o.limits()
	entries, err := walkSource(src, l)
	if err != nil {
		return err
	}
	if _, err := within(c.Workspace, target, true); err != nil {
		return fmt.Errorf("targetPath: %w", err)
	}
	c.Logf("Fetching template content from %s into %s", redactURL(url), target)
	out := &limits{maxBytes: l.maxBytes, maxFiles: l.maxFiles}
	for _, e := range entries {
		renderName, renderContents := true, true
		if len(noRender) > 0 {
			m, err := matchAny(noRender, e.rel, e.dir)
			if err != nil {
				return err
			}
			if m {
				renderName, renderContents = false, false
			}
		} else if len(noTemplating) > 0 {
			m, err := matchAny(noTemplating, e.rel, e.dir)
			if err != nil {
				return err
			}
			if m {
				renderContents = false
			}
		}
		rel := e.rel
		if ext != "" && !e.dir {
			renderContents = strings.HasSuffix(rel, ext)
			if renderContents {
				rel = strings.TrimSuffix(rel, ext)
			}
		}
		if renderName {
			var skip bool
			rel, skip, err = r.renderPath(rel)
			if err != nil {
				return err
			}
			if skip {
				c.Logf("Skipping %s: its path renders to an empty segment", e.rel)
				continue
			}
		}
		dst, err := within(c.Workspace, path.Join(filepath.ToSlash(target), rel), true)
		if err != nil {
			return fmt.Errorf("%s: %w", e.rel, err)
		}
		if e.dir {
			if err := os.MkdirAll(dst, 0o755); err != nil {
				return err
			}
			continue
		}
		if exists(dst) && !replace {
			c.Logf("Skipping %s: %s already exists", e.rel, rel)
			continue
		}
		data, err := os.ReadFile(e.abs)
		if err != nil {
			return err
		}
		if renderContents && !isBinary(data) {
			s, err := r.render(string(data))
			if err != nil {
				return fmt.Errorf("render %s: %w", e.rel, err)
			}
			data = []byte(s)
		}
		if err := out.add(int64(len(data))); err != nil {
			return err
		}
		if err := writeFile(dst, data, e.mode); err != nil {
			return err
		}
	}
	c.Logf("Template result written to %s", target)
	return nil
}

// ---- fetch:template:file

type fetchTemplateFile struct{ o BuiltinOptions }

func (fetchTemplateFile) ID() string { return "fetch:template:file" }
func (fetchTemplateFile) Description() string {
	return "Downloads single file, templates its content and places the result in the workspace."
}
func (fetchTemplateFile) Schema() (map[string]any, map[string]any) {
	p := templateCommonProps()
	p["url"] = sType("string", "Fetch URL", "Relative path or absolute URL of the file; a relative path is resolved against the template's location")
	p["targetPath"] = sType("string", "Target Path", "Target path within the working directory to write the rendered file to.")
	return schemaObj([]string{"url", "targetPath"}, p), schemaObj(nil, map[string]any{})
}
func (a fetchTemplateFile) Run(c *Context) error {
	url, err := inStr(c.Input, "url")
	if err != nil {
		return err
	}
	target, err := inStr(c.Input, "targetPath")
	if err != nil {
		return err
	}
	if target == "" {
		return fmt.Errorf("input \"targetPath\" is required")
	}
	replace, r, err := templateOptions(c)
	if err != nil {
		return err
	}
	data, mode, err := a.o.fileSource(c, url)
	if err != nil {
		return err
	}
	dst, err := within(c.Workspace, target, true)
	if err != nil {
		return fmt.Errorf("targetPath: %w", err)
	}
	if exists(dst) && !replace {
		c.Logf("Skipping %s: it already exists", target)
		return nil
	}
	if !isBinary(data) {
		s, err := r.render(string(data))
		if err != nil {
			return fmt.Errorf("render %s: %w", url, err)
		}
		data = []byte(s)
	}
	if int64(len(data)) > a.o.limits().maxBytes {
		return fmt.Errorf("rendered %s is larger than %d bytes", url, a.o.limits().maxBytes)
	}
	c.Logf("Fetching template file %s into %s", redactURL(url), target)
	return writeFile(dst, data, mode)
}

// templateOptions reads what both fetch:template actions share: whether
// to replace existing files, and the renderer of the task's values.
func templateOptions(c *Context) (replace bool, r *renderer, err error) {
	if replace, err = inBool(c.Input, "replace"); err != nil {
		return
	}
	r, err = newRenderer(c)
	return
}
