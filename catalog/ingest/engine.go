package ingest

import (
	"context"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/fsnotify/fsnotify"

	"github.com/greenroom-dev/greenroom/catalog"
	"github.com/greenroom-dev/greenroom/catalog/store"
)

// Engine keeps the store in step with the registered locations: it crawls
// them at start, every Interval (with Backstage's 1–1.5× jitter), and when a
// watched local file changes.
type Engine struct {
	Store    *store.Store
	Crawler  *Crawler
	Interval time.Duration // 0 disables periodic refresh
	Log      *slog.Logger
	// Debounce groups bursts of file events (editors write several times).
	Debounce time.Duration

	mu      sync.Mutex // one crawl at a time: the store has one writer
	reqOnce sync.Once
	reqs    chan string // root locations to crawl soon (API refresh, registration)
	watchMu sync.Mutex
	watched map[string]map[string]bool // directory -> root location ids
}

// SyncConfigLocations registers the configured root locations and
// unregisters config locations that are no longer configured.
func (e *Engine) SyncConfigLocations(ctx context.Context, specs []catalog.LocationSpec) error {
	want := map[string]bool{}
	for _, s := range specs {
		want[s.Ref().String()] = true
		if _, _, err := e.Store.AddLocation(ctx, s.Type, s.Target, "config"); err != nil {
			return err
		}
	}
	locs, err := e.Store.Locations(ctx)
	if err != nil {
		return err
	}
	for _, l := range locs {
		if l.Source == "config" && !want[l.Type+":"+l.Target] {
			e.mu.Lock()
			err := e.Store.DeleteLocation(ctx, l.ID)
			e.mu.Unlock()
			if err != nil {
				return fmt.Errorf("unregister %s:%s: %w", l.Type, l.Target, err)
			}
		}
	}
	return nil
}

// CrawlAll crawls every registered location once.
func (e *Engine) CrawlAll(ctx context.Context) error {
	locs, err := e.Store.Locations(ctx)
	if err != nil {
		return err
	}
	var errs []string
	for _, l := range locs {
		if _, err := e.CrawlLocation(ctx, l); err != nil {
			errs = append(errs, err.Error())
		}
	}
	if len(errs) > 0 {
		return fmt.Errorf("crawl: %s", strings.Join(errs, "; "))
	}
	return nil
}

// CrawlLocation crawls one root location and applies the result.
func (e *Engine) CrawlLocation(ctx context.Context, l store.Location) (CrawlStats, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	a, err := e.Store.BeginApply(ctx, l.ID)
	if err != nil {
		return CrawlStats{}, err
	}
	st, err := e.Crawler.Crawl(ctx, catalog.LocationSpec{Type: l.Type, Target: l.Target}, a)
	if err != nil {
		return st, fmt.Errorf("crawl %s:%s: %w", l.Type, l.Target, err)
	}
	if e.Log != nil {
		e.Log.Info("crawled location", "location", l.Type+":"+l.Target, "files", st.Files,
			"entities", st.Entities, "errors", st.Errors, "changes", st.Apply.String(), "took", st.Duration.Round(time.Millisecond))
	}
	if l.Type == "file" {
		e.watchLocation(l)
	}
	return st, nil
}

// Run refreshes periodically and on file changes until ctx ends.
func (e *Engine) Run(ctx context.Context) error {
	watcher, err := fsnotify.NewWatcher()
	if err != nil {
		return fmt.Errorf("file watcher: %w", err)
	}
	defer watcher.Close()
	added := map[string]bool{}
	addWatches := func() {
		e.watchMu.Lock()
		defer e.watchMu.Unlock()
		for d := range e.watched {
			if !added[d] {
				if err := watcher.Add(d); err == nil {
					added[d] = true
				}
			}
		}
	}
	addWatches()

	debounce := e.Debounce
	if debounce <= 0 {
		debounce = 100 * time.Millisecond
	}
	pending := map[string]bool{}
	var timer <-chan time.Time
	var tick <-chan time.Time
	var ticker *time.Timer
	nextTick := func() {
		if e.Interval <= 0 {
			return
		}
		d := time.Duration(float64(e.Interval) * (1 + 0.5*rand.Float64()))
		if ticker == nil {
			ticker = time.NewTimer(d)
		} else {
			ticker.Reset(d)
		}
		tick = ticker.C
	}
	nextTick()
	for {
		select {
		case <-ctx.Done():
			return nil
		case ev, ok := <-watcher.Events:
			if !ok {
				return nil
			}
			if ev.Op == fsnotify.Chmod {
				continue
			}
			e.watchMu.Lock()
			for id := range e.watched[filepath.Dir(ev.Name)] {
				pending[id] = true
			}
			e.watchMu.Unlock()
			if len(pending) > 0 && timer == nil {
				timer = time.After(debounce)
			}
		case id := <-e.requests():
			if l, err := e.Store.Location(ctx, id); err == nil {
				if _, err := e.CrawlLocation(ctx, l); err != nil && e.Log != nil {
					e.Log.Error("refresh on request", "location", l.Type+":"+l.Target, "error", err)
				}
				addWatches()
			}
		case err := <-watcher.Errors:
			if e.Log != nil && err != nil {
				e.Log.Warn("file watcher", "error", err)
			}
		case <-timer:
			timer = nil
			for id := range pending {
				l, err := e.Store.Location(ctx, id)
				if err != nil {
					continue
				}
				if _, err := e.CrawlLocation(ctx, l); err != nil && e.Log != nil {
					e.Log.Error("refresh after file change", "location", l.Type+":"+l.Target, "error", err)
				}
			}
			pending = map[string]bool{}
			addWatches()
		case <-tick:
			if err := e.CrawlAll(ctx); err != nil && e.Log != nil {
				e.Log.Error("periodic refresh", "error", err)
			}
			addWatches()
			nextTick()
		}
	}
}

// watchLocation records the directories of a file location's files (and of
// the entities it led to) so changes there trigger a re-crawl.
func (e *Engine) watchLocation(l store.Location) {
	dirs := map[string]bool{filepath.Dir(l.Target): true}
	if hasGlob(l.Target) {
		base, _ := splitGlobBase(l.Target)
		filepath.WalkDir(base, func(p string, d os.DirEntry, err error) error {
			if err == nil && d.IsDir() {
				dirs[p] = true
			}
			return nil
		})
	}
	// Every file this root read is a location key of one of its entities or errors.
	keys, _ := e.Store.LocationKeys(context.Background(), l.ID)
	for _, k := range keys {
		if strings.HasPrefix(k, "file:") {
			dirs[filepath.Dir(strings.TrimPrefix(k, "file:"))] = true
		}
	}
	e.watchMu.Lock()
	defer e.watchMu.Unlock()
	if e.watched == nil {
		e.watched = map[string]map[string]bool{}
	}
	for d := range dirs {
		if e.watched[d] == nil {
			e.watched[d] = map[string]bool{}
		}
		e.watched[d][l.ID] = true
	}
}

func splitGlobBase(p string) (string, string) {
	i := strings.IndexAny(p, "*?[{")
	base := filepath.Dir(p[:i+1])
	return base, p[len(base):]
}
