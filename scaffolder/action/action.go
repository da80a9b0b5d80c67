// Package action implements Backstage's built-in scaffolder actions
// (fetch:*, fs:*, debug:*, catalog:* and publish:git) over a task workspace.
//
// Every action confines itself: paths in inputs must be relative, may not
// contain ".." segments and may not lead outside the workspace (or, for
// reads of template files, outside the template directory) through a
// symbolic link. Skeleton directories containing symbolic links are refused
// with an error (they are neither copied nor followed). Copies are capped in
// total size and file count. Log lines written through Context.Logf mask
// the values of Context.Secrets.
package action

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/greenroom-dev/greenroom/scaffolder/expr"
)

// Context is what an action runs with.
type Context struct {
	Ctx         context.Context
	Workspace   string // absolute temp dir of the task; actions never write outside it
	TemplateDir string // where the template's own files are
	// TemplateRoot is how far up fetch URLs may reach with ../: the
	// template's repository (or its location's directory). Templates share
	// skeletons that way (url: ../../skeletons/x), as a Backstage template
	// read from a repository may. Empty: TemplateDir itself.
	TemplateRoot string
	// TemplateURL is the URL of the template's descriptor when it came
	// from a url location. With no TemplateDir, relative fetch URLs
	// resolve against it and are read through BuiltinOptions.Reader.
	TemplateURL string
	Input       map[string]any
	Log         func(format string, args ...any)
	Output      func(name string, value any)
	Secrets     map[string]string // never logged
	DryRun      bool
	// Integrations maps git hosts to integration types for the
	// templates' parseRepoUrl/projectSlug (fetch:template's files).
	Integrations map[string]string
}

// Action is one scaffolder action.
type Action interface {
	ID() string
	Description() string
	Schema() (input, output map[string]any)
	Run(c *Context) error
}

// DryRunner is implemented by actions that can run in a dry run. As in
// Backstage, an action that does not implement it (or answers false) is
// skipped in a dry run, and its step's output is an example built from its
// output schema (ExampleOutput). Those that run see Context.DryRun and
// must have no side effects outside the workspace.
type DryRunner interface {
	SupportsDryRun() bool
}

// SupportsDryRun reports whether a runs in dry runs.
func SupportsDryRun(a Action) bool {
	d, ok := a.(DryRunner)
	return ok && d.SupportsDryRun()
}

// ExampleOutput is Backstage's generateExampleOutput: the schema's
// examples[0] when it has one, else a value by type (object: an example per
// property; array: one example item; string "<example>", number 0,
// boolean false; anything else "<unknown>").
func ExampleOutput(schema map[string]any) any {
	if ex, ok := schema["examples"].([]any); ok && len(ex) > 0 {
		return ex[0]
	}
	switch schema["type"] {
	case "object":
		out := map[string]any{}
		props, _ := schema["properties"].(map[string]any)
		for k, p := range props {
			ps, _ := p.(map[string]any)
			out[k] = ExampleOutput(ps)
		}
		return out
	case "array":
		items, _ := schema["items"].(map[string]any)
		return []any{ExampleOutput(items)}
	case "string":
		return "<example>"
	case "number", "integer":
		return float64(0)
	case "boolean":
		return false
	}
	return "<unknown>"
}

// Registry holds actions by id.
type Registry struct {
	byID map[string]Action
	list []Action
}

// NewRegistry registers actions; a later action with the same id replaces
// an earlier one.
func NewRegistry(actions ...Action) *Registry {
	r := &Registry{byID: map[string]Action{}}
	for _, a := range actions {
		r.Register(a)
	}
	return r
}

// Register adds or replaces an action.
func (r *Registry) Register(a Action) {
	if _, ok := r.byID[a.ID()]; ok {
		for i, x := range r.list {
			if x.ID() == a.ID() {
				r.list[i] = a
			}
		}
	} else {
		r.list = append(r.list, a)
	}
	r.byID[a.ID()] = a
}

// Get returns the action with the id, or an error naming it and listing the
// known ids.
func (r *Registry) Get(id string) (Action, error) {
	if a, ok := r.byID[id]; ok {
		return a, nil
	}
	ids := make([]string, 0, len(r.list))
	for _, a := range r.list {
		ids = append(ids, a.ID())
	}
	sort.Strings(ids)
	return nil, fmt.Errorf("template action with ID %q is not registered; known actions: %s", id, strings.Join(ids, ", "))
}

// List returns the actions in registration order.
func (r *Registry) List() []Action { return append([]Action(nil), r.list...) }

// Catalog is what catalog:register and catalog:fetch talk to.
type Catalog interface {
	// Register adds a location (type "url", "file" or "git") and returns the
	// ref of the entity it holds (may be empty).
	Register(ctx context.Context, typ, target string) (entityRef string, err error)
	// Entity returns the entity or ErrNotFound (a nil map with a nil error
	// also means not found).
	Entity(ctx context.Context, ref string) (map[string]any, error)
}

// ErrNotFound is what Catalog.Entity returns for a missing entity.
var ErrNotFound = errors.New("entity not found")

// BuiltinOptions configures Builtins.
type BuiltinOptions struct {
	Catalog Catalog // nil: catalog:register and catalog:fetch fail when run
	// GitAuthorName and GitAuthorEmail are publish:git's defaults
	// ("Scaffolder", "scaffolder@backstage.io" when empty).
	GitAuthorName, GitAuthorEmail string
	// AllowedGitHosts are the hosts publish:git may push to over https
	// (e.g. "github.com"); "host?owner=o&repo=r" repoUrls become
	// https://host/o/r.git.
	AllowedGitHosts []string
	// LocalGitRoots are directories under which publish:git may push to
	// local bare repositories (a path or file:// URL). Empty: local
	// repositories are refused.
	LocalGitRoots []string
	// LocalGitHosts maps a git host to a directory that stands in for it:
	// "host?owner=o&repo=r" and https://host/o/r publish to the bare
	// repository <dir>/o/r.git, created on first use as a hosted service
	// creates the repository. It lets the golden path run end to end
	// where the real host is out of reach (the demo, tests, air-gapped
	// installs); the catalog then crawls the repository as a git location.
	LocalGitHosts map[string]string
	// GitPath is the git binary (default "git" from PATH).
	GitPath string
	// Reader reads fetch:* urls that are remote: absolute http(s) URLs,
	// and relative ones of templates from url locations (TemplateURL).
	// nil: remote urls are an error that says so.
	Reader Reader
	// MaxBytes and MaxFiles cap what one action copies or renders
	// (defaults 100 MiB and 10,000 files).
	MaxBytes int64
	MaxFiles int
}

const (
	defaultMaxBytes = 100 << 20
	defaultMaxFiles = 10000
)

func (o BuiltinOptions) limits() *limits {
	l := &limits{maxBytes: o.MaxBytes, maxFiles: o.MaxFiles}
	if l.maxBytes <= 0 {
		l.maxBytes = defaultMaxBytes
	}
	if l.maxFiles <= 0 {
		l.maxFiles = defaultMaxFiles
	}
	return l
}

// Builtins returns the built-in actions.
func Builtins(opts BuiltinOptions) []Action {
	return []Action{
		fetchPlain{opts},
		fetchPlainFile{opts},
		fetchTemplate{opts},
		fetchTemplateFile{opts},
		fsDelete{},
		fsRename{},
		fsRead{opts},
		debugLog{opts},
		debugWait{},
		catalogRegister{opts},
		catalogWrite{},
		catalogFetch{opts},
		publishGit{opts},
	}
}

// Logf logs through c.Log with the values of c.Secrets masked.
func (c *Context) Logf(format string, args ...any) {
	if c.Log == nil {
		return
	}
	c.Log("%s", c.Mask(fmt.Sprintf(format, args...)))
}

// Mask replaces the values of c.Secrets in s with "***".
func (c *Context) Mask(s string) string { return MaskSecrets(s, c.Secrets) }

// MaskSecrets replaces the values of secrets in s with "***", as they are
// and as they appear inside a JSON or Go-quoted string.
//
// Security: a secret holding a quote, a backslash or a control character
// (a multi-line key, a password with a "\") is escaped when it is logged
// as JSON (debug:log's extra, `| dump`, a step's each item) or quoted in an
// error message (%q); masking only the raw value let those forms through.
func MaskSecrets(s string, secrets map[string]string) string {
	seen := map[string]bool{}
	vals := make([]string, 0, len(secrets))
	add := func(v string) {
		if v != "" && !seen[v] {
			seen[v] = true
			vals = append(vals, v)
		}
	}
	for _, v := range secrets {
		if v == "" {
			continue
		}
		add(v)
		if js, ok := expr.ToJSON(v); ok {
			add(js[1 : len(js)-1])
		}
		if b, err := json.Marshal(v); err == nil {
			add(string(b[1 : len(b)-1]))
		}
		q := strconv.Quote(v)
		add(q[1 : len(q)-1])
	}
	// longest first so a secret containing another is masked whole
	sort.Slice(vals, func(i, j int) bool { return len(vals[i]) > len(vals[j]) })
	for _, v := range vals {
		s = strings.ReplaceAll(s, v, "***")
	}
	return s
}

func (c *Context) out(name string, v any) {
	if c.Output != nil {
		c.Output(name, v)
	}
}

func (c *Context) ctx() context.Context {
	if c.Ctx == nil {
		return context.Background()
	}
	return c.Ctx
}

// Run runs an action with c, masking secrets in the error it returns.
func Run(a Action, c *Context) error {
	if c.Input == nil {
		c.Input = map[string]any{}
	}
	if err := c.ctx().Err(); err != nil {
		return err
	}
	if err := a.Run(c); err != nil {
		if m := c.Mask(err.Error()); m != err.Error() {
			return &maskedError{msg: m, err: err}
		}
		return err
	}
	return nil
}

// maskedError is an action's error with secrets masked in its text; it
// still unwraps to the original, so that a cancellation stays one.
type maskedError struct {
	msg string
	err error
}

func (e *maskedError) Error() string { return e.msg }
func (e *maskedError) Unwrap() error { return e.err }
