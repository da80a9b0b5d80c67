package main

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/greenroom-dev/greenroom/catalog"
	"github.com/greenroom-dev/greenroom/catalog/ingest"
	"github.com/greenroom-dev/greenroom/catalog/store"
)

// providerLocations is how entity providers and their webhooks change the
// catalog: a provider's locations are root locations whose source is
// "provider:<name>", crawled like any other, and a webhook re-crawls
// exactly the roots that read a pushed file.
type providerLocations struct {
	store  *store.Store
	engine *ingest.Engine
}

func providerSource(name string) string { return "provider:" + name }

// ReplaceProviderLocations is a full mutation: the provider's locations
// become exactly specs; those no longer found are unregistered, and what
// they alone emitted leaves the catalog (or is orphaned, per
// catalog.orphanStrategy).
func (p providerLocations) ReplaceProviderLocations(ctx context.Context, provider string, specs []catalog.LocationSpec) error {
	have, err := p.store.LocationsBySource(ctx, providerSource(provider))
	if err != nil {
		return err
	}
	want := map[string]bool{}
	for _, s := range specs {
		want[s.Ref().String()] = true
	}
	var errs []error
	for _, l := range have {
		if !want[l.Type+":"+l.Target] {
			if err := p.engine.Unregister(ctx, l.ID); err != nil {
				errs = append(errs, err)
			}
		}
	}
	if err := p.AddProviderLocations(ctx, provider, specs); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// AddProviderLocations registers the specs (those already registered are
// left alone) and crawls the new ones at once.
func (p providerLocations) AddProviderLocations(ctx context.Context, provider string, specs []catalog.LocationSpec) error {
	var errs []error
	for _, s := range specs {
		if err := checkProviderSpec(s); err != nil {
			errs = append(errs, fmt.Errorf("provider %s: %w", provider, err))
			continue
		}
		l, created, err := p.store.AddLocation(ctx, s.Type, s.Target, providerSource(provider))
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if created {
			// A crawl error is the location's own (shown on the locations
			// page), not the provider's.
			p.engine.CrawlLocation(ctx, l)
		}
	}
	return errors.Join(errs...)
}

// checkProviderSpec keeps providers to remote locations: a provider reads
// a host's API, and a file or git target from a payload must never make
// the server read its own disk.
func checkProviderSpec(s catalog.LocationSpec) error {
	if s.Type != "url" || !(strings.HasPrefix(s.Target, "https://") || strings.HasPrefix(s.Target, "http://")) {
		return fmt.Errorf("location %s:%s: providers may only emit url locations", s.Type, s.Target)
	}
	return nil
}

// RemoveProviderLocations unregisters the provider's locations among specs.
func (p providerLocations) RemoveProviderLocations(ctx context.Context, provider string, specs []catalog.LocationSpec) error {
	var errs []error
	for _, s := range specs {
		l, err := p.store.LocationByTarget(ctx, s.Type, s.Target)
		if errors.Is(err, store.ErrNotFound) {
			continue
		}
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if l.Source != providerSource(provider) {
			continue // registered by someone else: not the provider's to remove
		}
		if err := p.engine.Unregister(ctx, l.ID); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// RefreshURLs re-crawls, now, every root location that read one of urls.
func (p providerLocations) RefreshURLs(ctx context.Context, urls []string) (int, error) {
	keys := make([]string, 0, len(urls))
	for _, u := range urls {
		keys = append(keys, catalog.LocationRef{Type: "url", Target: u}.String())
	}
	ids, err := p.store.RootsReading(ctx, keys)
	if err != nil {
		return 0, err
	}
	seen := map[string]bool{}
	for _, id := range ids {
		seen[id] = true
	}
	// A root location that has never produced anything (its file was
	// missing until this push) is found by its target.
	for _, u := range urls {
		if l, err := p.store.LocationByTarget(ctx, "url", u); err == nil && !seen[l.ID] {
			seen[l.ID] = true
			ids = append(ids, l.ID)
		}
	}
	var errs []error
	n := 0
	for _, id := range ids {
		l, err := p.store.Location(ctx, id)
		if err != nil {
			continue // unregistered meanwhile
		}
		if _, err := p.engine.CrawlLocation(ctx, l); err != nil {
			errs = append(errs, err)
			continue
		}
		n++
	}
	return n, errors.Join(errs...)
}

// checkLocation vets a location users register through the API or the
// import page. url locations are read through the URL reader, which checks
// them on every read; a git repository is cloned by the git command line,
// so its address is checked here, before anything is fetched.
func (a *app) checkLocation(ctx context.Context, spec catalog.LocationSpec) error {
	if spec.Type != "git" {
		return nil
	}
	g, err := ingest.ParseGitTarget(spec.Target)
	if err != nil {
		return err
	}
	return a.urls.CheckRemote(ctx, g.Repo)
}
