// Package service runs Software Templates against a Greenroom catalog:
// templates are the catalog's Template entities, their files sit beside
// their descriptor (a file or git location), catalog:register adds a
// location and crawls it at once, and tasks persist in their own SQLite
// file. The portal's API, its create pages and the command line all run
// templates through one Service.
package service

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/greenroom-dev/greenroom/catalog"
	"github.com/greenroom-dev/greenroom/catalog/ingest"
	"github.com/greenroom-dev/greenroom/catalog/store"
	"github.com/greenroom-dev/greenroom/scaffolder/action"
	"github.com/greenroom-dev/greenroom/scaffolder/api"
	"github.com/greenroom-dev/greenroom/scaffolder/task"
	"github.com/greenroom-dev/greenroom/scaffolder/template"
)

// Config says where a Service keeps its files and where it may publish.
type Config struct {
	// DataDir holds tasks.db, workspaces/ and repos/ (local git hosts).
	DataDir string
	// GitHosts may be pushed to over https (integrations.*[].host).
	GitHosts []string
	// LocalGitHosts are hosts whose repositories are bare repositories
	// under <DataDir>/repos/<host>, created on first publish.
	LocalGitHosts []string
	// Integrations maps hosts to integration types (github, gitlab, …)
	// for parseRepoUrl; LocalGitHosts count as github (owner/repo).
	Integrations map[string]string
	// Actions are registered after the built-ins (plugins' actions); one
	// with a built-in's id replaces it.
	Actions []action.Action
	// Reader reads fetch:* urls that are remote (absolute http(s) URLs, and
	// the relative urls of templates from url locations): the server's URL
	// reader. nil: such urls fail with a message saying what is missing.
	Reader action.Reader
}

// Service runs templates from a catalog.
type Service struct {
	Store     *store.Store
	Engine    *ingest.Engine
	TaskStore *task.SQLiteStore
	Actions   *action.Registry
	Runner    *task.Runner
	cfg       Config
}

// Open opens the task store in cfg.DataDir, marks tasks a previous process
// left running as failed (they can be retried), and builds the built-in
// actions. It returns the IDs of the tasks it marked.
func Open(st *store.Store, eng *ingest.Engine, cfg Config) (*Service, []string, error) {
	if err := os.MkdirAll(cfg.DataDir, 0o755); err != nil {
		return nil, nil, fmt.Errorf("scaffolder data directory: %w", err)
	}
	ts, err := task.OpenSQLite(filepath.Join(cfg.DataDir, "tasks.db"))
	if err != nil {
		return nil, nil, err
	}
	interrupted, err := ts.RecoverInterrupted(context.Background())
	if err != nil {
		ts.Close()
		return nil, nil, fmt.Errorf("recover interrupted tasks: %w", err)
	}
	s := &Service{Store: st, Engine: eng, TaskStore: ts, cfg: cfg}
	repos := filepath.Join(cfg.DataDir, "repos")
	local := map[string]string{}
	for _, h := range cfg.LocalGitHosts {
		local[strings.ToLower(h)] = filepath.Join(repos, strings.ToLower(h))
	}
	s.Actions = action.NewRegistry(action.Builtins(action.BuiltinOptions{
		Catalog: s,
		// bare repositories under <data-dir>/repos may be published to by path
		LocalGitRoots:   []string{repos},
		LocalGitHosts:   local,
		AllowedGitHosts: cfg.GitHosts,
		Reader:          cfg.Reader,
	})...)
	for _, a := range cfg.Actions {
		s.Actions.Register(a)
	}
	integ := map[string]string{}
	for h, typ := range cfg.Integrations {
		integ[strings.ToLower(h)] = typ
	}
	for _, h := range cfg.LocalGitHosts {
		if _, ok := integ[strings.ToLower(h)]; !ok {
			integ[strings.ToLower(h)] = "github"
		}
	}
	s.Runner = &task.Runner{Store: ts, Actions: s.Actions, WorkDir: filepath.Join(cfg.DataDir, "workspaces"), TemplateDir: s.templateDir, TemplateRoot: s.templateRoot, TemplateURL: s.templateURL, Integrations: integ}
	return s, interrupted, nil
}

// Close waits for running tasks to end and closes the task store.
func (s *Service) Close() error {
	s.Runner.Wait()
	return s.TaskStore.Close()
}

// API is the scaffolder REST API over this service.
func (s *Service) API() *api.Server {
	return &api.Server{Templates: s, Actions: s.Actions, Runner: s.Runner, Store: s.TaskStore}
}

// RepoHosts are the hosts a RepoUrlPicker offers when its template names
// none: the local stand-ins first, then the configured integrations.
func (s *Service) RepoHosts() []string {
	return append(append([]string(nil), s.cfg.LocalGitHosts...), s.cfg.GitHosts...)
}

// Template reads a Template entity from the catalog, with its fields in
// the order its descriptor file writes them.
func (s *Service) Template(ctx context.Context, ref string) (*template.Template, error) {
	r, err := catalog.ParseRef(ref, catalog.RefDefaults{Kind: "Template", Namespace: catalog.DefaultNamespace})
	if err != nil || !strings.EqualFold(r.Kind, "template") {
		return nil, fmt.Errorf("%w: %s is not a template ref", store.ErrNotFound, ref)
	}
	final, err := s.Store.FinalByRef(ctx, r.String())
	if err != nil {
		return nil, err
	}
	t, err := template.Parse(final)
	if err != nil {
		return nil, err
	}
	if p := s.descriptor(t); p != "" {
		if data, err := readSmall(p, maxDescriptorBytes); err == nil {
			for _, res := range template.ParseAll(data) {
				if res.Template != nil && res.Template.Name == t.Name {
					t.TakeOrder(res.Template)
					break
				}
			}
		}
	}
	return t, nil
}

// maxDescriptorBytes bounds the descriptor file read for field order.
const maxDescriptorBytes = 4 << 20

func readSmall(p string, limit int64) ([]byte, error) {
	f, err := os.Open(p)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, limit+1))
	if err != nil {
		return nil, err
	}
	if int64(len(data)) > limit {
		return nil, fmt.Errorf("%s is larger than %d bytes", p, limit)
	}
	return data, nil
}

// source is where a template entity was read from: its location and the
// root location it was found through.
type source struct{ loc, origin catalog.LocationRef }

func (s *Service) source(t *template.Template) source {
	ref := catalog.Ref{Kind: "Template", Namespace: t.Namespace, Name: t.Name}
	e, err := s.Store.Entity(context.Background(), ref.String())
	if err != nil {
		return source{}
	}
	loc, err := catalog.ParseLocationRef(e.Metadata.Annotations["backstage.io/managed-by-location"])
	if err != nil {
		return source{}
	}
	origin, _ := catalog.ParseLocationRef(e.Metadata.Annotations["backstage.io/managed-by-origin-location"])
	return source{loc: loc, origin: origin}
}

// descriptor is the local file a template entity was read from (a file
// location, or the checkout of a git one); "" when there is none.
func (s *Service) descriptor(t *template.Template) string {
	src := s.source(t)
	switch src.loc.Type {
	case "file":
		return src.loc.Target
	case "git":
		g, err := ingest.ParseGitTarget(src.loc.Target)
		if err != nil {
			return ""
		}
		return filepath.Join(s.Engine.Crawler.Reader.GitWorkdir(g), filepath.FromSlash(g.Path))
	}
	return ""
}

// templateDir is the directory of a template's descriptor: its skeletons
// (fetch:template's ./skeleton) are relative to it.
func (s *Service) templateDir(t *template.Template) string {
	if p := s.descriptor(t); p != "" {
		return filepath.Dir(p)
	}
	return ""
}

// templateRoot is how far up a template's fetch URLs may reach: the
// checkout of its git repository, or the directory of the root location
// its file was found through — the same bounds the catalog's
// placeholders keep to.
func (s *Service) templateRoot(t *template.Template) string {
	src := s.source(t)
	switch src.loc.Type {
	case "git":
		g, err := ingest.ParseGitTarget(src.loc.Target)
		if err != nil {
			return ""
		}
		return s.Engine.Crawler.Reader.GitWorkdir(g)
	case "file":
		if src.origin.Type != "file" {
			return ""
		}
		root := filepath.Dir(src.origin.Target)
		if rel, err := filepath.Rel(root, src.loc.Target); err != nil || strings.HasPrefix(rel, "..") {
			return "" // reached through ../ from its root: keep to its own directory
		}
		return root
	}
	return ""
}

// templateURL is the URL of a template's descriptor when it was read from
// a url location: its relative fetch urls resolve against it and are read
// through the server's URL reader, as in Backstage.
func (s *Service) templateURL(t *template.Template) string {
	if src := s.source(t); src.loc.Type == "url" {
		return src.loc.Target
	}
	return ""
}

// Register adds a location for catalog:register, crawls it at once and
// answers the first entity it holds that is not a Location.
func (s *Service) Register(ctx context.Context, typ, target string) (string, error) {
	loc, _, err := s.Store.AddLocation(ctx, typ, target, "api")
	if err != nil {
		return "", err
	}
	if _, err := s.Engine.CrawlLocation(ctx, loc); err != nil {
		return "", fmt.Errorf("crawl %s:%s: %w", typ, target, err)
	}
	rows, _, err := s.Store.Query(ctx, store.QueryRequest{
		Filter: store.All{
			store.Field{Key: "metadata.annotations.backstage.io/managed-by-origin-location", Values: []string{strings.ToLower(typ + ":" + target)}},
			store.Not{P: store.Field{Key: "kind", Values: []string{"location"}}},
		},
		Limit: 1,
	})
	if err != nil {
		return "", err
	}
	if len(rows) == 0 {
		// The location stays registered (a fix to the file is picked up on
		// the next crawl), but the task says why nothing appeared.
		msg := "it holds no entity"
		if errs, err := s.Store.Errors(ctx, loc.ID); err == nil && len(errs) > 0 {
			msg = errs[0].Message
		}
		return "", fmt.Errorf("%s:%s was registered, but the catalog could not take an entity from it: %s", typ, target, msg)
	}
	var e catalog.Entity
	if err := json.Unmarshal(rows[0].Final, &e); err != nil {
		return "", err
	}
	return e.Ref().String(), nil
}

// Entity reads an entity for catalog:fetch.
func (s *Service) Entity(ctx context.Context, ref string) (map[string]any, error) {
	final, err := s.Store.FinalByRef(ctx, strings.ToLower(ref))
	if errors.Is(err, store.ErrNotFound) {
		return nil, action.ErrNotFound
	}
	if err != nil {
		return nil, err
	}
	var m map[string]any
	return m, json.Unmarshal(final, &m)
}

// Start runs a template as a new task and returns its ID.
func (s *Service) Start(ctx context.Context, spec task.Spec) (string, error) {
	return s.Runner.Start(ctx, spec)
}

// Task reads a task.
func (s *Service) Task(ctx context.Context, id string) (*task.Task, error) {
	return s.TaskStore.Get(ctx, id)
}

// Events returns a task's events after the given event ID.
func (s *Service) Events(ctx context.Context, id string, after int64) ([]task.Event, error) {
	return s.TaskStore.Events(ctx, id, after)
}

// Cancel stops a task.
func (s *Service) Cancel(ctx context.Context, id string) error {
	_, err := s.Runner.Cancel(ctx, id)
	return err
}

// Retry runs a failed or cancelled task again from its first step.
func (s *Service) Retry(ctx context.Context, id string) error {
	_, err := s.Runner.Retry(ctx, id, nil)
	return err
}

// Tasks lists tasks, newest first, with the total matching.
func (s *Service) Tasks(ctx context.Context, o task.ListOptions) ([]*task.Task, int, error) {
	return s.TaskStore.List(ctx, o)
}
