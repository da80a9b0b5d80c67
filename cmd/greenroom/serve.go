package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"github.com/go-chi/chi/v5/middleware"

	"github.com/greenroom-dev/greenroom/catalog/api"
	"github.com/greenroom-dev/greenroom/catalog/search"
	"github.com/greenroom-dev/greenroom/plugins/rbac"
	"github.com/greenroom-dev/greenroom/techdocs"
	"github.com/greenroom-dev/greenroom/web"
	"github.com/greenroom-dev/greenroom/web/audit"
)

func cmdServe(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	a, s, code := startCommand(ctx, "serve", args, stderr)
	if a == nil {
		return code
	}
	defer a.close()

	index, syncer, err := openSearch(a)
	if err != nil {
		fmt.Fprintf(stderr, "greenroom serve: %v\n", err)
		return 1
	}
	defer index.Close()

	scaff, err := a.scaffolder()
	if err != nil {
		fmt.Fprintf(stderr, "greenroom serve: %v\n", err)
		return 1
	}
	defer scaff.Close()
	docs := a.docs()
	auditStore, err := audit.OpenSQLite(filepath.Join(a.cfg.DataDir, "audit.db"))
	if err != nil {
		fmt.Fprintf(stderr, "greenroom serve: %v\n", err)
		return 1
	}
	defer auditStore.Close()
	// Mutations through the API and the pages are recorded; who made them
	// is known once sign-in lands (until then every visitor is the guest).
	auditor := &audit.Auditor{Store: auditStore, Log: a.log, RequestID: middleware.GetReqID, ActorOf: actorOf}
	signIn, closeAuth, err := a.startAuth(auditor)
	if err != nil {
		fmt.Fprintf(stderr, "greenroom serve: %v\n", err)
		return 1
	}
	defer closeAuth()
	configDir := "."
	if s.config != "" {
		configDir = filepath.Dir(s.config)
	}
	perms, err := a.startPermissions(configDir)
	if err != nil {
		fmt.Fprintf(stderr, "greenroom serve: %v\n", err)
		return 1
	}
	scaffAPI := scaff.API()
	scaffAPI.Audit = auditor
	scaffAPI.Authorize = a.authorizer(perms)
	scaffAPI.User = a.taskUser
	searchAPI, techdocsAPI := a.guardReads(perms, search.Handler(index), docs.Handler())
	docsIndexer := &techdocs.Indexer{Service: docs, Index: index, Catalog: a.store, Log: a.log}

	var ready atomic.Bool
	// Location types users may register through the API and the import
	// page. Not file unless asked (--import-paths): a server's disk is not
	// the users' to read.
	registrable := []string{"url", "git"}
	if a.cfg.ImportPaths {
		registrable = append(registrable, "file")
	}
	srv := &http.Server{
		Addr: a.cfg.Addr,
		Handler: (&web.Server{
			Catalog: a.store, Ingester: a.engine, Ready: ready.Load, Log: a.log, Search: index,
			Readonly: a.cfg.Readonly, LocationTypes: registrable, CheckLocation: a.checkLocation,
			CatalogAPI: (&api.Server{
				Store: a.store, Ingester: a.engine, Readonly: a.cfg.Readonly,
				AllowedLocationTypes: registrable, CheckLocation: a.checkLocation,
				Audit: audit.APIAuditor{A: auditor}, Authorize: a.authorizer(perms), Reads: reads(perms),
			}).Routes(),
			SearchAPI: searchAPI,
			Docs:      docs, TechDocsAPI: techdocsAPI,
			Reads:         pageReads(perms),
			ScaffolderAPI: scaffAPI.Routes(), Scaffolder: scaff, Audit: auditor, Auth: signIn,
			PermissionAPI: rbac.AuthorizeHandler(perms, permissionUser, a.catalogResource),
			Authorize:     a.authorizer(perms),
			Plugins:       a.plugins, PluginAPIs: a.plugins.Routes(), EventsAPI: a.plugins.EventsHandler(),
		}).Handler(),
		ReadHeaderTimeout: 10 * time.Second,
	}
	ln, err := net.Listen("tcp", a.cfg.Addr)
	if err != nil {
		fmt.Fprintf(stderr, "greenroom serve: %v\n", err)
		return 1
	}
	what := "config " + s.config
	if a.cfg.Demo {
		what = "the bundled demo catalog"
	}
	a.log.Info("greenroom listening", "url", "http://"+ln.Addr().String(), "catalog", what, "data", a.cfg.DataDir)

	serveErr := make(chan error, 1)
	go func() { serveErr <- srv.Serve(ln) }()
	// The background work stops, and is waited for, before the deferred
	// closes of the index, the task store and the database run.
	bg, stopBG := context.WithCancel(ctx)
	var wg sync.WaitGroup
	defer func() {
		stopBG()
		wg.Wait()
	}()
	// The first crawl runs while the server already answers; /readyz says when it is done.
	wg.Go(func() {
		if err := a.engine.CrawlAll(bg); err != nil {
			a.log.Error("initial crawl", "error", err)
		}
		// The index follows the store's change log: what a crawl, a file
		// change or an API call changes is searchable within a second.
		wg.Go(func() { syncer.Run(bg, 250*time.Millisecond) })
		// Docs pages are indexed as their sites change (checked every 30 s).
		wg.Go(func() { docsIndexer.Run(bg, 30*time.Second) })
		ready.Store(true)
		// Entity providers run on their schedules, webhooks are handled
		// as they arrive, health checks run every minute.
		wg.Go(func() { a.plugins.Run(bg, providerLocations{store: a.store, engine: a.engine}) })
		wg.Go(func() { pluginSearch{host: a.plugins, index: index, log: a.log}.run(bg, 5*time.Minute) })
		wg.Go(func() { perms.Run(bg, 2*time.Second) })
		if err := a.engine.Run(bg); err != nil && bg.Err() == nil {
			a.log.Error("refresh loop", "error", err)
		}
	})
	code = 0
	select {
	case <-ctx.Done():
	case err := <-serveErr:
		if !errors.Is(err, http.ErrServerClosed) {
			fmt.Fprintf(stderr, "greenroom serve: %v\n", err)
			code = 1
		}
	}
	shutdown, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	srv.Shutdown(shutdown)
	return code
}
