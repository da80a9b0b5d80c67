package ingest

import (
	"context"
	"os"
	"path/filepath"

	"github.com/greenroom-dev/greenroom/catalog"
)

// LintResult is the verdict on one YAML document of a linted file, in the
// shape of Backstage's validate oracle.
type LintResult struct {
	File      string             `json:"file"`
	Index     int                `json:"index"`
	Ref       string             `json:"ref,omitempty"`
	OK        bool               `json:"ok"`
	Stage     string             `json:"stage,omitempty"`
	Ignored   bool               `json:"ignored,omitempty"`
	Note      string             `json:"note,omitempty"`
	Error     string             `json:"error,omitempty"`
	Entity    *catalog.Entity    `json:"entity,omitempty"`
	Relations []catalog.Relation `json:"relations,omitzero"`

	edges []catalog.Edge
}

// LintOptions configure Lint.
type LintOptions struct {
	Rules   *catalog.Rules // nil: no catalog rules
	Fetcher Fetcher        // for absolute URL placeholders; nil disables them
}

// Lint processes each file as Backstage would ingest it from a file location
// registered on its own, without following Location targets, and computes
// each accepted entity's relations as the API would serve them if exactly
// these files were ingested. Placeholders resolve relative to the file,
// inside the file's git repository (or its directory).
func Lint(ctx context.Context, files []string, opts LintOptions) []LintResult {
	var results []*LintResult
	for _, name := range files {
		results = append(results, lintFile(ctx, name, opts)...)
	}
	bySource := map[string][]catalog.Relation{}
	for _, r := range results {
		for _, e := range r.edges {
			s := e.Source.String()
			bySource[s] = append(bySource[s], catalog.Relation{Type: e.Type, TargetRef: e.Target.String()})
		}
	}
	out := make([]LintResult, len(results))
	for i, r := range results {
		if r.OK && r.Ref != "" {
			rels := catalog.SortRelations(append([]catalog.Relation(nil), bySource[r.Ref]...))
			r.Relations = rels
			if r.Relations == nil {
				r.Relations = []catalog.Relation{}
			}
		}
		out[i] = *r
	}
	return out
}

func lintFile(ctx context.Context, name string, opts LintOptions) []*LintResult {
	abs, err := filepath.Abs(name)
	if err != nil {
		abs = name
	}
	loc := catalog.LocationRef{Type: "file", Target: abs}
	src := catalog.Source{Location: loc, Origin: loc}
	data, err := readFileUnder("", abs)
	if err != nil {
		return []*LintResult{{File: name, Index: 0, Stage: catalog.StageParse, Error: "Error: " + err.Error()}}
	}
	cwd, _ := os.Getwd()
	proc := &catalog.Processor{ReadPlaceholder: PlaceholderReader(opts.Fetcher, placeholderRoot(abs, cwd))}
	var results []*LintResult
	type pending struct {
		res *LintResult
		raw map[string]any
	}
	var accepted []pending
	for _, doc := range catalog.ParseDocuments(data) {
		r := &LintResult{File: name, Index: doc.Index}
		results = append(results, r)
		if doc.Err != nil {
			r.Stage, r.Error = catalog.StageParse, "Error: YAML error at "+loc.String()+", YAMLParseError: "+doc.Err.Error()
			continue
		}
		if doc.Value == nil {
			r.OK, r.Ignored, r.Note = true, true, "empty YAML document; the catalog ignores it"
			continue
		}
		raw, err := catalog.Envelope(doc.Value, src)
		if err != nil {
			r.Stage, r.Error = err.(*catalog.RejectError).Stage, err.Error()
			continue
		}
		accepted = append(accepted, pending{r, raw})
	}
	// One disallowed entity fails every entity of the location, as in Backstage.
	for _, p := range accepted {
		kind, specType := rawKindAndType(p.raw)
		if !opts.Rules.IsAllowed(kind, specType, loc) {
			msg := catalog.NotAllowedError(rawRef(p.raw), loc, loc).Error()
			for _, q := range accepted {
				q.res.Stage, q.res.Error = catalog.StageRules, msg
			}
			return results
		}
	}
	for _, p := range accepted {
		p.res.Ref = rawRef(p.raw)
		res, err := proc.Process(ctx, p.raw, src)
		if err != nil {
			p.res.Stage, p.res.Error = catalog.StageProcessing, err.Error()
			continue
		}
		p.res.OK = true
		e := res.Entity
		delete(e.Metadata.Annotations, catalog.AnnotationLocation)
		delete(e.Metadata.Annotations, catalog.AnnotationOriginLocation)
		if len(e.Metadata.Annotations) == 0 {
			e.Metadata.Annotations = nil
		}
		p.res.Entity = e
		p.res.edges = res.Edges
	}
	return results
}

func rawKindAndType(raw map[string]any) (string, string) {
	kind, _ := raw["kind"].(string)
	spec, _ := raw["spec"].(map[string]any)
	t, _ := spec["type"].(string)
	return kind, t
}

func rawRef(raw map[string]any) string {
	kind, _ := raw["kind"].(string)
	md, _ := raw["metadata"].(map[string]any)
	name, _ := md["name"].(string)
	ns, _ := md["namespace"].(string)
	return catalog.Ref{Kind: kind, Namespace: ns, Name: name}.String()
}

// placeholderRoot is the directory placeholders in the file at path may
// read from: the root of the git work tree holding it (Backstage allows the
// same repository), else fallback when the file is inside it (the
// registered location's directory, or the working directory for validate),
// else the file's own directory.
func placeholderRoot(path, fallback string) string {
	dir := filepath.Dir(path)
	for d := dir; ; {
		if _, err := os.Stat(filepath.Join(d, ".git")); err == nil {
			return d
		}
		parent := filepath.Dir(d)
		if parent == d {
			break
		}
		d = parent
	}
	if fallback != "" {
		if abs, err := filepath.Abs(fallback); err == nil && within(abs, path) {
			return abs
		}
	}
	return dir
}
