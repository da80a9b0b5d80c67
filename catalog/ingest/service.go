package ingest

import (
	"context"
	"fmt"
	"strings"

	"github.com/greenroom-dev/greenroom/catalog"
	"github.com/greenroom-dev/greenroom/catalog/store"
)

// Refresh asks the refresh loop to crawl a root location soon. It never
// blocks: when the queue is full the periodic refresh will come anyway.
func (e *Engine) Refresh(rootID string) {
	select {
	case e.requests() <- rootID:
	default:
	}
}

func (e *Engine) requests() chan string {
	e.reqOnce.Do(func() { e.reqs = make(chan string, 256) })
	return e.reqs
}

// Unregister removes a root location and everything it alone emitted.
func (e *Engine) Unregister(ctx context.Context, id string) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.Store.DeleteLocation(ctx, id)
}

// collector is an Applier that keeps a crawl in memory instead of storing
// it: dry runs of POST /locations.
type collector struct {
	entities []*catalog.Entity
	errs     []string
}

func (c *collector) Put(it store.Item) error {
	c.entities = append(c.entities, it.Entity)
	return nil
}
func (c *collector) KeepLocation(string) {}
func (c *collector) KeepRef(string)      {}
func (c *collector) AddError(location, ref, message string) {
	c.errs = append(c.errs, message)
}
func (c *collector) Commit() (store.ApplyStats, error) { return store.ApplyStats{}, nil }
func (c *collector) Rollback()                         {}
func (c *collector) Fingerprints() map[string]string   { return nil }
func (c *collector) SetFingerprint(key, print string)  {}
func (c *collector) KeepFile(key string)               {}

// DryRun crawls a location without storing anything and returns the
// entities it would emit (its generated Location entity first), or the
// errors it would record.
func (e *Engine) DryRun(ctx context.Context, spec catalog.LocationSpec) ([]*catalog.Entity, error) {
	c := &collector{}
	if _, err := e.Crawler.Crawl(ctx, spec, c); err != nil {
		return nil, err
	}
	if len(c.errs) > 0 {
		return nil, fmt.Errorf("%s", strings.Join(c.errs, ", "))
	}
	return c.entities, nil
}

// Validate runs Backstage's processing on an entity as if read from loc.
func (e *Engine) Validate(ctx context.Context, raw map[string]any, loc catalog.LocationRef) error {
	proc := &catalog.Processor{ReadPlaceholder: e.Crawler.Reader.placeholders(""), AllowedLocationTypes: e.Crawler.AllowedLocationTypes}
	_, err := proc.Process(ctx, raw, catalog.Source{Location: loc, Origin: loc})
	return err
}

// Read reads a location's files and processes their entities, storing
// nothing: what analyze-location reports.
func (e *Engine) Read(ctx context.Context, spec catalog.LocationSpec) ([]catalog.FileEntities, error) {
	files, err := e.Crawler.Reader.Read(ctx, spec)
	if err != nil {
		return nil, err
	}
	var out []catalog.FileEntities
	for _, f := range files {
		if f.Err != nil {
			continue
		}
		fe := catalog.FileEntities{Location: catalog.LocationSpec{Type: f.Key.Type, Target: f.Key.Target}}
		pf := e.Crawler.processFile(ctx, job{spec: spec, origin: spec.Ref()}, f, nil)
		for _, it := range pf.items {
			fe.Entities = append(fe.Entities, it.Entity)
		}
		out = append(out, fe)
	}
	return out, nil
}
