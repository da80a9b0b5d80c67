package search

import (
	"context"
	"encoding/json"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/blevesearch/bleve/v2"
	"github.com/blevesearch/bleve/v2/analysis/analyzer/custom"
	"github.com/blevesearch/bleve/v2/analysis/lang/en"
	"github.com/blevesearch/bleve/v2/analysis/token/lowercase"
	"github.com/blevesearch/bleve/v2/analysis/tokenizer/regexp"
	"github.com/blevesearch/bleve/v2/index/scorch"
	"github.com/blevesearch/bleve/v2/mapping"
	"github.com/blevesearch/bleve/v2/search"
	bq "github.com/blevesearch/bleve/v2/search/query"
)

// mappingVersion changes whenever the mapping or the documents' fields
// do: an index of another version is rebuilt from the store at start.
const mappingVersion = "5"

// Internal keys kept inside the index.
var (
	keyVersion = []byte("greenroom:mapping-version")
	keySeq     = []byte("greenroom:entity-changes-seq")
)

// Index is the Bleve index in the data directory.
type Index struct {
	bleve bleve.Index
	dir   string
	// Fresh is true when Open created the index (missing, or of an older
	// mapping): its owners must fill it from their sources.
	Fresh bool

	closeOnce sync.Once
}

// Open opens the index in dir, creating it (Fresh) when it is missing,
// unreadable or of another mapping version.
func Open(dir string) (*Index, error) {
	// A lock held by another process (a running server) is waited for
	// briefly, then reported: that index must not be thrown away.
	idx, err := bleve.OpenUsing(dir, bleveConfig)
	if err == nil {
		v, err := idx.GetInternal(keyVersion)
		if err == nil && string(v) == mappingVersion {
			return &Index{bleve: idx, dir: dir}, nil
		}
		idx.Close()
	} else if strings.Contains(err.Error(), "timeout") {
		return nil, fmt.Errorf("search index %s is in use by another process (a running greenroom serve?): %w", dir, err)
	}
	idx, err = create(dir)
	if err != nil {
		return nil, err
	}
	return &Index{bleve: idx, dir: dir, Fresh: true}, nil
}

var bleveConfig = map[string]any{"bolt_timeout": "3s"}

// create makes an empty index in dir, replacing whatever is there.
func create(dir string) (bleve.Index, error) {
	if err := os.RemoveAll(dir); err != nil {
		return nil, fmt.Errorf("remove old search index: %w", err)
	}
	idx, err := bleve.NewUsing(dir, newMapping(), scorch.Name, scorch.Name, bleveConfig)
	if err != nil {
		return nil, fmt.Errorf("create search index in %s: %w", dir, err)
	}
	if err := idx.SetInternal(keyVersion, []byte(mappingVersion)); err != nil {
		idx.Close()
		return nil, err
	}
	return idx, nil
}

// Reset empties the index — documents, position, files — so that its
// owners rebuild it (greenroom reindex).
func (ix *Index) Reset() error {
	if err := ix.bleve.Close(); err != nil {
		return err
	}
	idx, err := create(ix.dir)
	if err != nil {
		return err
	}
	ix.bleve, ix.Fresh = idx, true
	return nil
}

// Close closes the index; closing it again does nothing (Bleve panics).
func (ix *Index) Close() error {
	var err error
	ix.closeOnce.Do(func() { err = ix.bleve.Close() })
	return err
}

// Count is the number of documents.
func (ix *Index) Count() (uint64, error) { return ix.bleve.DocCount() }

// SizeOnDisk is the index directory's size in bytes.
func (ix *Index) SizeOnDisk() int64 {
	var n int64
	filepath.WalkDir(ix.dir, func(_ string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			if info, err := d.Info(); err == nil {
				n += info.Size()
			}
		}
		return nil
	})
	return n
}

// Field names inside the index.
const (
	fTitle, fText, fName, fNameExact, fExtra = "title", "text", "name", "name_exact", "extra"
	// fDoc stores the document as given (JSON), for showing hits: the
	// indexed keyword fields are lower-cased.
	fDoc = "doc"
	// fFacets holds every facet value of a document as "facet=value": one
	// field to visit per match when counting, instead of one per facet.
	fFacets = "facets"
)

// keywordFields maps facet names to the index's keyword fields.
var keywordFields = map[string]string{
	FacetType: "doc_type", FacetKind: "kind", FacetNamespace: "namespace", FacetSpecType: "spec_type",
	FacetOwner: "owner", FacetLifecycle: "lifecycle", FacetTags: "tags", FacetSystem: "system",
}

func newMapping() mapping.IndexMapping {
	im := bleve.NewIndexMapping()
	// Names split on anything but letters and digits: payment-gateway,
	// feature_flags and v2.api are each several words.
	must(im.AddCustomTokenizer("alnum", map[string]any{"type": regexp.Name, "regexp": `[\p{L}\p{N}]+`}))
	must(im.AddCustomAnalyzer("name", map[string]any{"type": custom.Name, "tokenizer": "alnum", "token_filters": []any{lowercase.Name}}))

	text := func(analyzer string, store bool) *mapping.FieldMapping {
		f := bleve.NewTextFieldMapping()
		f.Analyzer, f.Store, f.IncludeInAll, f.IncludeTermVectors, f.DocValues = analyzer, store, false, store, false
		return f
	}
	keyword := func() *mapping.FieldMapping {
		f := bleve.NewKeywordFieldMapping()
		f.Store, f.IncludeInAll, f.IncludeTermVectors = false, false, false
		return f
	}
	dm := bleve.NewDocumentStaticMapping()
	dm.AddFieldMappingsAt(fTitle, text(en.AnalyzerName, true))
	dm.AddFieldMappingsAt(fText, text(en.AnalyzerName, true))
	dm.AddFieldMappingsAt(fName, text("name", true))
	dm.AddFieldMappingsAt(fNameExact, keyword())
	dm.AddFieldMappingsAt(fExtra, text(en.AnalyzerName, false))
	doc := bleve.NewTextFieldMapping()
	doc.Index, doc.Store, doc.IncludeInAll, doc.DocValues = false, true, false, false
	dm.AddFieldMappingsAt(fDoc, doc)
	for _, f := range keywordFields {
		kw := keyword()
		kw.DocValues = false // filters only: counting reads fFacets
		dm.AddFieldMappingsAt(f, kw)
	}
	dm.AddFieldMappingsAt(fFacets, keyword())
	im.DefaultMapping = dm
	im.DefaultAnalyzer = en.AnalyzerName
	return im
}

func must(err error) {
	if err != nil {
		panic(err)
	}
}

// indexed is a Document as the index stores it.
func indexed(d Document) map[string]any {
	low := strings.ToLower
	tags := make([]string, len(d.Tags))
	for i, t := range d.Tags {
		tags[i] = low(t)
	}
	facets := []string{FacetType + "=" + d.Type}
	for _, f := range []struct{ name, value string }{{FacetKind, d.Kind}, {FacetNamespace, d.Namespace},
		{FacetSpecType, d.SpecType}, {FacetOwner, d.Owner}, {FacetLifecycle, d.Lifecycle}, {FacetSystem, d.System}} {
		if f.value != "" {
			facets = append(facets, f.name+"="+low(f.value))
		}
	}
	for _, t := range tags {
		facets = append(facets, FacetTags+"="+t)
	}
	stored, _ := json.Marshal(storedDoc{Type: d.Type, Location: d.Location, Name: d.Name, Kind: d.Kind,
		Namespace: d.Namespace, SpecType: d.SpecType, Lifecycle: d.Lifecycle, Owner: d.Owner, System: d.System, Tags: d.Tags})
	return map[string]any{
		fFacets: facets, fDoc: string(stored),
		fTitle: d.Title, fText: d.Text, fName: d.Name, fNameExact: low(d.Name), fExtra: d.Extra,
		"doc_type": d.Type, "kind": low(d.Kind), "namespace": low(d.Namespace), "spec_type": low(d.SpecType),
		"owner": low(d.Owner), "lifecycle": low(d.Lifecycle), "tags": tags, "system": low(d.System),
	}
}

// Put adds or replaces documents, in one batch.
func (ix *Index) Put(docs ...Document) error {
	b := ix.bleve.NewBatch()
	for _, d := range docs {
		if err := b.Index(d.ID, indexed(d)); err != nil {
			return fmt.Errorf("index %s: %w", d.ID, err)
		}
	}
	return ix.bleve.Batch(b)
}

// Apply writes a batch of puts and deletes with an internal value (a
// feeder's position or version), so the documents and the state they
// bring the index to are stored together.
func (ix *Index) Apply(puts []Document, deletes []string, key []byte, value []byte) error {
	b := ix.bleve.NewBatch()
	for _, d := range puts {
		if err := b.Index(d.ID, indexed(d)); err != nil {
			return fmt.Errorf("index %s: %w", d.ID, err)
		}
	}
	for _, id := range deletes {
		b.Delete(id)
	}
	if key != nil {
		b.SetInternal(key, value)
	}
	return ix.bleve.Batch(b)
}

// Internal reads a value a feeder stored with Apply (nil when none).
func (ix *Index) Internal(key []byte) ([]byte, error) { return ix.bleve.GetInternal(key) }

func (ix *Index) internalInt(key []byte) (int64, error) {
	v, err := ix.bleve.GetInternal(key)
	if err != nil || len(v) == 0 {
		return 0, err
	}
	return strconv.ParseInt(string(v), 10, 64)
}

// Search runs a query.
func (ix *Index) Search(ctx context.Context, q Query) (*Result, error) {
	start := time.Now()
	if utf8.RuneCountInString(q.Term) > MaxTermLength {
		return nil, ErrTermTooLong
	}
	res, err := ix.search(ctx, q, false)
	if err == nil && res.Total < fuzzyBelow && hasLongWord(q.Term) {
		// Few or no exact hits: allow a typo per word. Only then, since
		// fuzzy clauses triple the work of a common word.
		res, err = ix.search(ctx, q, true)
	}
	if err != nil {
		return nil, err
	}
	res.Took = time.Since(start)
	return res, nil
}

// fuzzyBelow: with fewer exact hits than this, a search retries allowing typos.
const fuzzyBelow = 3

func hasLongWord(term string) bool {
	_, words := splitTerm(term)
	for _, w := range words {
		if utf8.RuneCountInString(w) >= fuzzyMinLength {
			return true
		}
	}
	return false
}

// fuzzyMinLength: shorter words must be spelled right (a typo in a
// four-letter word is another word).
const fuzzyMinLength = 5

func (ix *Index) search(ctx context.Context, q Query, fuzzy bool) (*Result, error) {
	limit := q.Limit
	if limit <= 0 {
		limit = 25
	}
	query := termQuery(q.Term, q.Prefix, fuzzy)
	var must []bq.Query
	if query != nil {
		must = append(must, query)
	}
	if len(q.Types) > 0 {
		must = append(must, anyOf(keywordFields[FacetType], q.Types, false))
	}
	for facet, values := range q.Filters {
		field, ok := keywordFields[facet]
		if !ok {
			return nil, fmt.Errorf("unknown search filter %q", facet)
		}
		if len(values) > 0 {
			must = append(must, anyOf(field, values, true))
		}
	}
	var top bq.Query = bq.NewMatchAllQuery()
	switch {
	case len(must) == 1:
		top = must[0]
	case len(must) > 1:
		top = bq.NewConjunctionQuery(must)
	}
	if query != nil {
		if exact := strings.ToLower(strings.TrimSpace(q.Term)); exact != "" {
			// An entity whose name is the whole term comes first.
			t := bq.NewTermQuery(exact)
			t.SetField(fNameExact)
			t.SetBoost(20)
			b := bq.NewBooleanQuery([]bq.Query{top}, []bq.Query{t}, nil)
			top = b
		}
	}
	req := bleve.NewSearchRequestOptions(top, limit, max(q.Offset, 0), false)
	req.Fields = []string{fDoc, fTitle, fText}
	if query != nil {
		req.Highlight = bleve.NewHighlightWithStyle("html")
		req.Highlight.AddField(fTitle)
		req.Highlight.AddField(fText)
	}
	size := q.FacetSize
	if size <= 0 {
		size = 10
	}
	for _, f := range q.Facets {
		if _, ok := keywordFields[f]; !ok {
			return nil, fmt.Errorf("unknown search facet %q", f)
		}
	}
	// Facets are counted over every match, which for a common word is
	// most of the work: once, from the one field holding them all,
	// unscored, beside the page's query.
	var facetRes *bleve.SearchResult
	var facetErr error
	var wg sync.WaitGroup
	if len(q.Facets) > 0 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			fr := bleve.NewSearchRequestOptions(top, 0, 0, false)
			fr.Score = "none"
			fr.AddFacet(fFacets, bleve.NewFacetRequest(fFacets, max(maxFacetTerms, size*len(q.Facets)+200)))
			facetRes, facetErr = ix.bleve.SearchInContext(ctx, fr)
		}()
	}
	res, err := ix.bleve.SearchInContext(ctx, req)
	wg.Wait()
	if err == nil {
		err = facetErr
	}
	if err != nil {
		return nil, fmt.Errorf("search: %w", err)
	}
	out := &Result{Total: int(res.Total), Facets: map[string][]FacetValue{}}
	for _, h := range res.Hits {
		out.Hits = append(out.Hits, hitOf(h.ID, h.Score, h.Fields, h.Fragments))
	}
	if facetRes != nil {
		out.Facets = splitFacets(facetRes.Facets[fFacets], q.Facets, size)
	}
	return out, nil
}

// maxFacetTerms is how many "facet=value" terms a search takes, the most
// frequent first. A facet's top values are always among them: above its
// tenth value stand at most nine of its own and the few values of the
// small facets (kinds, types, lifecycles, tags); owners run to thousands
// at 100k entities, and sorting and keeping all of them for every search
// was a third of its work.
const maxFacetTerms = 1000

// splitFacets turns counts of "facet=value" terms into each asked facet's
// most frequent values (ties alphabetical).
func splitFacets(fr *search.FacetResult, facets []string, size int) map[string][]FacetValue {
	out := map[string][]FacetValue{}
	for _, f := range facets {
		out[f] = []FacetValue{}
	}
	if fr == nil || fr.Terms == nil {
		return out
	}
	for _, t := range fr.Terms.Terms() {
		name, value, ok := strings.Cut(t.Term, "=")
		if vals, asked := out[name]; ok && asked {
			out[name] = append(vals, FacetValue{Value: value, Count: t.Count})
		}
	}
	for name, vals := range out {
		sort.SliceStable(vals, func(i, j int) bool {
			if vals[i].Count != vals[j].Count {
				return vals[i].Count > vals[j].Count
			}
			return vals[i].Value < vals[j].Value
		})
		if len(vals) > size {
			out[name] = vals[:size]
		}
	}
	return out
}

// storedDoc is what fDoc keeps of a Document besides title and text.
type storedDoc struct {
	Type, Location, Name, Kind, Namespace, SpecType, Lifecycle, Owner, System string   `json:",omitempty"`
	Tags                                                                      []string `json:",omitempty"`
}

func hitOf(id string, score float64, fields map[string]any, fragments map[string][]string) Hit {
	var sd storedDoc
	if raw, ok := fields[fDoc].(string); ok {
		json.Unmarshal([]byte(raw), &sd)
	}
	title, _ := fields[fTitle].(string)
	text, _ := fields[fText].(string)
	h := Hit{Score: score, Document: Document{
		ID: id, Type: sd.Type, Title: title, Text: text, Location: sd.Location, Name: sd.Name,
		Kind: sd.Kind, Namespace: sd.Namespace, SpecType: sd.SpecType, Lifecycle: sd.Lifecycle,
		Owner: sd.Owner, System: sd.System, Tags: sd.Tags,
	}}
	h.Highlights = map[string]string{}
	for _, f := range []string{fTitle, fText} {
		if frags := fragments[f]; len(frags) > 0 {
			h.Highlights[f] = strings.Join(frags, " … ")
		}
	}
	return h
}

// anyOf matches documents whose keyword field has one of the values.
func anyOf(field string, values []string, lower bool) bq.Query {
	var qs []bq.Query
	for _, v := range values {
		if lower {
			v = strings.ToLower(v)
		}
		t := bq.NewTermQuery(v)
		t.SetField(field)
		qs = append(qs, t)
	}
	if len(qs) == 1 {
		return qs[0]
	}
	return bq.NewDisjunctionQuery(qs)
}

// Per-field weights of a word: a name hit counts most, then the title,
// tags, the text, and the extra text least.
var wordFields = []struct {
	field string
	boost float64
}{{fName, 6}, {fTitle, 4}, {fText, 1.5}, {fExtra, 0.7}}

// termQuery turns what the user typed into a query: every word must match
// some field (with fuzzy, a typo allowed in words of five letters or
// more; the last word also as a prefix when typing ahead) and every "quoted phrase" must
// stand in the title or the text. Characters of query syntax are text:
// the words go through the fields' analyzers, never a query parser.
// nil means no term: every document.
func termQuery(term string, prefix, fuzzy bool) bq.Query {
	phrases, words := splitTerm(term)
	var all []bq.Query
	for i, w := range words {
		var alts []bq.Query
		for _, f := range wordFields {
			m := bq.NewMatchQuery(w)
			m.SetField(f.field)
			m.SetBoost(f.boost)
			alts = append(alts, m)
			if fuzzy && utf8.RuneCountInString(w) >= fuzzyMinLength {
				fz := bq.NewMatchQuery(w)
				fz.SetField(f.field)
				fz.SetFuzziness(1)
				fz.SetBoost(f.boost / 4)
				alts = append(alts, fz)
			}
		}
		tag := bq.NewTermQuery(strings.ToLower(w))
		tag.SetField(keywordFields[FacetTags])
		tag.SetBoost(3)
		alts = append(alts, tag)
		if prefix && i == len(words)-1 {
			for _, f := range []struct {
				field string
				boost float64
			}{{fName, 3}, {fTitle, 2}} {
				p := bq.NewPrefixQuery(strings.ToLower(w))
				p.SetField(f.field)
				p.SetBoost(f.boost)
				alts = append(alts, p)
			}
		}
		all = append(all, bq.NewDisjunctionQuery(alts))
	}
	for _, p := range phrases {
		var alts []bq.Query
		for _, f := range []string{fTitle, fText, fName} {
			m := bq.NewMatchPhraseQuery(p)
			m.SetField(f)
			alts = append(alts, m)
		}
		all = append(all, bq.NewDisjunctionQuery(alts))
	}
	switch len(all) {
	case 0:
		return nil
	case 1:
		return all[0]
	}
	return bq.NewConjunctionQuery(all)
}

// splitTerm finds "quoted phrases" (an unbalanced quote is text) and
// words: runs of letters and digits, lower-cased; everything else —
// quotes, colons, stars, tildes, brackets — separates words.
func splitTerm(term string) (phrases, words []string) {
	rest := term
	for {
		i := strings.IndexByte(rest, '"')
		if i < 0 {
			break
		}
		j := strings.IndexByte(rest[i+1:], '"')
		if j < 0 {
			break
		}
		if p := strings.Join(wordsOf(rest[i+1:i+1+j]), " "); p != "" {
			if strings.Contains(p, " ") {
				phrases = append(phrases, p)
			} else {
				words = append(words, p)
			}
		}
		rest = rest[:i] + " " + rest[i+1+j+1:]
	}
	return phrases, append(words, wordsOf(rest)...)
}

func wordsOf(s string) []string {
	return strings.FieldsFunc(strings.ToLower(s), func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsNumber(r) })
}
