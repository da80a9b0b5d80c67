package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"path"
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

// scaffolder wires the scaffolder to the catalog: templates are the
// catalog's Template entities, their files sit beside their descriptor,
// catalog:register adds a location and crawls it, tasks persist in
// <data-dir>/tasks.db.
type scaffolder struct {
	app   *app
	store *task.SQLiteStore
}

func openScaffolder(a *app) (*scaffolder, *api.Server, error) {
	ts, err := task.OpenSQLite(filepath.Join(a.cfg.DataDir, "tasks.db"))
	if err != nil {
		return nil, nil, err
	}
	if ids, err := ts.RecoverInterrupted(context.Background()); err == nil && len(ids) > 0 {
		a.log.Warn("scaffolder: tasks interrupted by the last shutdown marked failed", "tasks", len(ids))
	}
	s := &scaffolder{app: a, store: ts}
	repos := filepath.Join(a.cfg.DataDir, "repos")
	local := map[string]string{}
	for _, h := range a.cfg.LocalGitHosts {
		local[strings.ToLower(h)] = filepath.Join(repos, strings.ToLower(h))
	}
	actions := action.NewRegistry(action.Builtins(action.BuiltinOptions{
		Catalog: s,
		// Local bare repositories under <data-dir>/repos may be published to.
		LocalGitRoots:   []string{repos},
		LocalGitHosts:   local,
		AllowedGitHosts: a.cfg.GitHosts,
	})...)
	runner := &task.Runner{Store: ts, Actions: actions, WorkDir: filepath.Join(a.cfg.DataDir, "workspaces"), TemplateDir: s.templateDir}
	return s, &api.Server{Templates: s, Actions: actions, Runner: runner, Store: ts}, nil
}

// Template reads a Template entity from the catalog.
func (s *scaffolder) Template(ctx context.Context, ref string) (*template.Template, error) {
	r, err := catalog.ParseRef(ref, catalog.RefDefaults{Kind: "Template", Namespace: catalog.DefaultNamespace})
	if err != nil {
		return nil, api.ErrNotFound
	}
	final, err := s.app.store.FinalByRef(ctx, r.String())
	if err != nil {
		return nil, err
	}
	return template.Parse(final)
}

// templateDir is the directory of a template's descriptor: its skeletons
// (fetch:template's ./skeleton) are relative to it.
func (s *scaffolder) templateDir(t *template.Template) string {
	ref := catalog.Ref{Kind: "Template", Namespace: t.Namespace, Name: t.Name}
	e, err := s.app.store.Entity(context.Background(), ref.String())
	if err != nil {
		return ""
	}
	loc, err := catalog.ParseLocationRef(e.Metadata.Annotations["backstage.io/managed-by-location"])
	if err != nil {
		return ""
	}
	switch loc.Type {
	case "file":
		return filepath.Dir(loc.Target)
	case "git":
		g, err := ingest.ParseGitTarget(loc.Target)
		if err != nil {
			return ""
		}
		return filepath.Join(s.app.engine.Crawler.Reader.GitWorkdir(g), filepath.FromSlash(path.Dir(g.Path)))
	}
	return ""
}

// Register adds a location for catalog:register, crawls it at once and
// answers the first entity it holds that is not a Location.
func (s *scaffolder) Register(ctx context.Context, typ, target string) (string, error) {
	loc, _, err := s.app.store.AddLocation(ctx, typ, target, "api")
	if err != nil {
		return "", err
	}
	if _, err := s.app.engine.CrawlLocation(ctx, loc); err != nil {
		return "", fmt.Errorf("crawl %s:%s: %w", typ, target, err)
	}
	rows, _, err := s.app.store.Query(ctx, store.QueryRequest{
		Filter: store.All{
			store.Field{Key: "metadata.annotations.backstage.io/managed-by-origin-location", Values: []string{strings.ToLower(typ + ":" + target)}},
			store.Not{P: store.Field{Key: "kind", Values: []string{"location"}}},
		},
		Limit: 1,
	})
	if err != nil || len(rows) == 0 {
		return "", err
	}
	var e catalog.Entity
	if err := json.Unmarshal(rows[0].Final, &e); err != nil {
		return "", err
	}
	return e.Ref().String(), nil
}

// Entity reads an entity for catalog:fetch.
func (s *scaffolder) Entity(ctx context.Context, ref string) (map[string]any, error) {
	final, err := s.app.store.FinalByRef(ctx, strings.ToLower(ref))
	if errors.Is(err, store.ErrNotFound) {
		return nil, action.ErrNotFound
	}
	if err != nil {
		return nil, err
	}
	var m map[string]any
	return m, json.Unmarshal(final, &m)
}
