// Package ingest crawls locations into the catalog store: it reads files,
// globs, URLs and git repositories, follows Location entities, processes
// each document with Backstage's rules and applies the difference to the
// store in one transaction per root location. It also keeps the catalog
// fresh: a periodic refresh and a file watcher on local locations.
package ingest

import (
	"bytes"
	"context"
	"crypto/sha1"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"time"

	"github.com/greenroom-dev/greenroom/catalog"
	"github.com/greenroom-dev/greenroom/catalog/store"
)

// Applier receives one crawl of a root location; *store.Applier implements it.
type Applier interface {
	Put(store.Item) error
	KeepLocation(key string)
	KeepRef(ref string)
	AddError(location, entityRef, message string)
	Commit() (store.ApplyStats, error)
	Rollback()
	// Fingerprints, SetFingerprint and KeepFile let a crawl skip files that
	// have not changed since they were last read cleanly.
	Fingerprints() map[string]string
	SetFingerprint(key, fingerprint string)
	KeepFile(key string)
}

// Crawler crawls root locations.
type Crawler struct {
	Reader *Reader
	Rules  *catalog.Rules // nil allows every kind
	// AllowedLocationTypes of Location targets besides their parent's type.
	AllowedLocationTypes []string
	// Workers read and process files in parallel; results are applied in
	// discovery order so that "first claimant wins" is deterministic.
	Workers int
	// Progress, if set, is called after every file with the running count.
	Progress func(files, entities int)
}

// CrawlStats describes one crawl.
type CrawlStats struct {
	Files    int
	Entities int
	Errors   int
	Apply    store.ApplyStats
	Duration time.Duration
}

// job is one location target to read, with the chain of location keys that
// led to it (for cycle detection) and the Location entity that named it.
type job struct {
	spec      catalog.LocationSpec
	parentRef string
	parentKey string
	chain     []string
	origin    catalog.LocationRef
}

// fileResult is what reading and processing one target produced.
type fileResult struct {
	job      job
	notFound bool
	readErr  error
	files    []processedFile
}

type processedFile struct {
	key         string
	fingerprint string
	unchanged   bool // same fingerprint as the last clean read: keep its entities
	clean       bool // may be fingerprinted
	readErr     error
	items       []store.Item
	rejects     []rejection
	children    []job
	keep        bool // keep this file's entities as they were (e.g. rules failure)
}

type rejection struct {
	ref, message string
}

// RootEntity is the Location entity Backstage creates for a registered
// location, named generated-<sha1 of "type:target">.
func RootEntity(loc catalog.LocationSpec) *catalog.Entity {
	ref := loc.Ref().String()
	spec := map[string]any{"type": loc.Type, "target": loc.Target}
	if loc.Presence != "" {
		spec["presence"] = loc.Presence
	}
	return &catalog.Entity{
		APIVersion: catalog.APIVersionV1alpha1,
		Kind:       "Location",
		Metadata: catalog.Metadata{
			Name:      catalog.GeneratedLocationName(loc),
			Namespace: catalog.DefaultNamespace,
			Annotations: map[string]string{
				catalog.AnnotationLocation:       ref,
				catalog.AnnotationOriginLocation: ref,
			},
		},
		Spec: spec,
	}
}

// Crawl reads a root location and everything its Location entities lead
// to, feeding the applier, and commits. On any store error the applier is
// rolled back and the database is left as it was.
func (c *Crawler) Crawl(ctx context.Context, root catalog.LocationSpec, a Applier) (CrawlStats, error) {
	start := time.Now()
	var st CrawlStats
	defer a.Rollback()
	if c.Reader != nil {
		c.Reader.BeginCrawl()
	}
	rootEntity := RootEntity(root)
	origin := root.Ref()
	rootItem, err := newItem(rootEntity, nil, nil, origin.String(), "")
	if err != nil {
		return st, err
	}
	if err := a.Put(rootItem); err != nil {
		return st, err
	}
	st.Entities++
	rootRef := rootEntity.Ref().String()
	queue := []job{{spec: root, parentRef: rootRef, parentKey: origin.String(), chain: []string{origin.String()}, origin: origin}}
	workers := c.Workers
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	visited := map[string]bool{}
	queued := map[string]bool{root.Ref().String(): true}
	prints := a.Fingerprints()

	// A sliding window of in-flight jobs, applied strictly in queue order.
	type slot struct {
		done chan struct{}
		res  fileResult
	}
	window := workers * 2
	var inflight []*slot
	sem := make(chan struct{}, workers)
	var wg sync.WaitGroup
	defer wg.Wait()
	next := 0
	launch := func() {
		for next < len(queue) && len(inflight) < window {
			j := queue[next]
			next++
			s := &slot{done: make(chan struct{})}
			inflight = append(inflight, s)
			wg.Add(1)
			go func() {
				defer wg.Done()
				sem <- struct{}{}
				s.res = c.readAndProcess(ctx, j, prints)
				<-sem
				close(s.done)
			}()
		}
	}
	launch()
	for len(inflight) > 0 {
		s := inflight[0]
		inflight = inflight[1:]
		select {
		case <-s.done:
		case <-ctx.Done():
			return st, ctx.Err()
		}
		r := s.res
		j := r.job
		switch {
		case r.notFound:
			if j.spec.Presence != "optional" {
				a.AddError(j.spec.Ref().String(), j.parentRef, fmt.Sprintf("NotFoundError: %s does not exist%s", j.spec.Ref(), namedBy(j)))
				// A required target that vanished is an error, and Backstage
				// keeps what it gave before rather than orphaning it.
				a.KeepLocation(j.spec.Ref().String())
				st.Errors++
			}
		case r.readErr != nil:
			a.AddError(j.spec.Ref().String(), j.parentRef, fmt.Sprintf("Error: Unable to read %s%s: %v", j.spec.Ref(), namedBy(j), readHint(j, r.readErr)))
			// The target could not be read at all: keep whatever it gave before.
			a.KeepLocation(j.spec.Ref().String())
			st.Errors++
		}
		for _, f := range r.files {
			if visited[f.key] {
				continue // already read in this crawl through another Location
			}
			visited[f.key] = true
			st.Files++
			if f.readErr != nil {
				a.AddError(f.key, j.parentRef, fmt.Sprintf("Error: Unable to read %s, %v", f.key, f.readErr))
				a.KeepLocation(f.key)
				st.Errors++
				continue
			}
			if f.unchanged {
				a.KeepFile(f.key)
				continue
			}
			if f.keep {
				a.KeepLocation(f.key)
			}
			if f.clean {
				a.SetFingerprint(f.key, f.fingerprint)
			}
			for _, rej := range f.rejects {
				if rej.ref != "" {
					a.KeepRef(rej.ref)
				}
				a.AddError(f.key, rej.ref, rej.message)
				st.Errors++
			}
			for _, it := range f.items {
				if err := a.Put(it); err != nil {
					return st, err
				}
				st.Entities++
			}
			for _, child := range f.children {
				if cycleAt := indexOf(child.chain, child.spec.Ref().String()); cycleAt >= 0 {
					a.AddError(f.key, child.parentRef, fmt.Sprintf("InputError: Location cycle detected: %s leads back to %s",
						strings.Join(child.chain, " -> "), child.spec.Ref()))
					st.Errors++
					continue
				}
				// A target two Locations name is read once, for the first.
				if queued[child.spec.Ref().String()] {
					continue
				}
				queued[child.spec.Ref().String()] = true
				queue = append(queue, child)
			}
			if c.Progress != nil {
				c.Progress(st.Files, st.Entities)
			}
		}
		launch()
	}
	stats, err := a.Commit()
	st.Apply = stats
	st.Duration = time.Since(start)
	return st, err
}

// namedBy says which Location entity, in which file, named a target, so
// an error on a target leads its reader to the line to fix.
func namedBy(j job) string {
	if j.parentKey == "" || j.parentKey == j.spec.Ref().String() {
		return ""
	}
	return fmt.Sprintf(" (named by %s in %s)", j.parentRef, j.parentKey)
}

// readHint explains the common mistake behind a read error where there is one.
func readHint(j job, err error) string {
	if j.spec.Type == "url" && !strings.Contains(j.spec.Target, "://") {
		return fmt.Sprintf("%q is not an absolute URL; a Location with spec.type url resolves relative targets only when it was itself read from a url location (as in Backstage): register the root as a url location, or drop spec.type", j.spec.Target)
	}
	return err.Error()
}

func indexOf(list []string, s string) int {
	for i, x := range list {
		if x == s {
			return i
		}
	}
	return -1
}

// readAndProcess reads one target and processes every document of every
// file it expands to. It only computes; the caller applies.
func (c *Crawler) readAndProcess(ctx context.Context, j job, prints map[string]string) fileResult {
	res := fileResult{job: j}
	files, err := c.Reader.Read(ctx, j.spec)
	if err != nil {
		var nf *NotFoundError
		if errors.As(err, &nf) {
			res.notFound = true
		}
		res.readErr = err
		return res
	}
	if len(files) == 0 && !hasGlob(j.spec.Target) {
		res.notFound = true
		res.readErr = &NotFoundError{Target: j.spec.Target}
	}
	for _, f := range files {
		res.files = append(res.files, c.processFile(ctx, j, f, prints))
	}
	return res
}

func (c *Crawler) processFile(ctx context.Context, j job, f File, prints map[string]string) (out processedFile) {
	out = processedFile{key: f.Key.String()}
	if f.Err != nil {
		out.readErr = f.Err
		return out
	}
	// A file may be skipped when its bytes and its place in the tree are as
	// they were at its last clean read, and nothing outside it (placeholders)
	// or beneath it (Location targets) could have changed its result.
	h := sha1.New()
	h.Write(f.Data)
	fmt.Fprintf(h, "\x00%s\x00%s", j.origin, j.parentRef)
	out.fingerprint = hex.EncodeToString(h.Sum(nil))
	if prints[out.key] == out.fingerprint {
		out.unchanged = true
		return out
	}
	defer func() {
		out.clean = len(out.rejects) == 0 && len(out.children) == 0 && !out.keep &&
			!bytes.Contains(f.Data, []byte("$text")) && !bytes.Contains(f.Data, []byte("$json")) && !bytes.Contains(f.Data, []byte("$yaml"))
	}()
	src := catalog.Source{Location: f.Key, Origin: j.origin}
	fileRoot := ""
	if f.Key.Type == "file" {
		origin := ""
		if j.origin.Type == "file" {
			origin = filepath.Dir(j.origin.Target)
		}
		fileRoot = placeholderRoot(f.Path, origin)
	}
	proc := &catalog.Processor{ReadPlaceholder: c.Reader.placeholders(fileRoot), AllowedLocationTypes: c.AllowedLocationTypes}
	type accepted struct {
		raw   map[string]any
		index int
	}
	var docs []accepted
	for _, d := range catalog.ParseDocuments(f.Data) {
		if d.Err != nil {
			out.rejects = append(out.rejects, rejection{"", fmt.Sprintf("Error: YAML error at %s (document %d), YAMLParseError: %v", f.Key, d.Index, d.Err)})
			out.keep = true // which entity it was is unknown: keep the file's as they were
			continue
		}
		if d.Value == nil {
			continue
		}
		raw, err := catalog.Envelope(d.Value, src)
		if err != nil {
			out.rejects = append(out.rejects, rejection{"", fmt.Sprintf("%v (document %d of %s)", err, d.Index, f.Key)})
			out.keep = true
			continue
		}
		docs = append(docs, accepted{raw, d.Index})
	}
	// catalog.rules: one disallowed entity fails the file, as Backstage
	// fails the location that emitted it; the file's entities stay as they were.
	for _, d := range docs {
		kind, specType := rawKindAndType(d.raw)
		if !c.Rules.IsAllowed(kind, specType, j.origin) {
			out.keep = true
			out.rejects = append(out.rejects, rejection{"", catalog.NotAllowedError(rawRef(d.raw), f.Key, j.origin).Error()})
			return out
		}
	}
	for _, d := range docs {
		ref := rawRef(d.raw)
		res, err := proc.Process(ctx, d.raw, src)
		if err != nil {
			out.rejects = append(out.rejects, rejection{ref, fmt.Sprintf("%v (document %d of %s)", err, d.index, f.Key)})
			continue
		}
		it, err := newItem(res.Entity, res.Raw, res.Edges, f.Key.String(), j.parentRef)
		if err != nil {
			out.rejects = append(out.rejects, rejection{ref, fmt.Sprintf("%v (document %d of %s)", err, d.index, f.Key)})
			continue
		}
		out.items = append(out.items, it)
		for _, t := range res.Targets {
			chain := append(append([]string(nil), j.chain...), f.Key.String())
			out.children = append(out.children, job{spec: t, parentRef: ref, parentKey: f.Key.String(), chain: chain, origin: j.origin})
		}
	}
	return out
}

// newItem prepares an entity for the store: its filter rows and a hash of
// everything stored about it, so an unchanged entity costs no write.
func newItem(e *catalog.Entity, raw map[string]any, edges []catalog.Edge, key, parent string) (store.Item, error) {
	// uid and etag are the server's, whatever the author wrote.
	e.Metadata.UID, e.Metadata.Etag = "", ""
	body, err := json.Marshal(e)
	if err != nil {
		return store.Item{}, err
	}
	if raw == nil {
		if err := json.Unmarshal(body, &raw); err != nil {
			return store.Item{}, err
		}
	}
	rows, err := catalog.FilterRowsOf(raw, nil)
	if err != nil {
		return store.Item{}, err
	}
	h := sha1.New()
	h.Write(body)
	for _, ed := range edges {
		fmt.Fprintf(h, "\x00%s\x01%s\x01%s", ed.Source, ed.Type, ed.Target)
	}
	fmt.Fprintf(h, "\x00%s\x00%s", key, parent)
	return store.Item{Entity: e, Body: body, Edges: edges, Rows: rows, LocationKey: key, ParentRef: parent, Hash: hex.EncodeToString(h.Sum(nil))}, nil
}

// absTarget makes a file target from config absolute, relative to base.
func absTarget(base, target string) string {
	if filepath.IsAbs(target) {
		return filepath.Clean(target)
	}
	return filepath.Join(base, target)
}
