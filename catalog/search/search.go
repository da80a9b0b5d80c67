// Package search is Greenroom's one search index: a Bleve index in the
// data directory holding documents of several types, each type fed by
// its owner (catalog entities by this package's Syncer; TechDocs pages and
// templates by theirs), kept in step with the store and rebuildable from
// it at any time.
package search

import (
	"errors"
	"time"
)

// Document types, as Backstage names them in search results.
const (
	TypeCatalog  = "software-catalog"
	TypeTechDocs = "techdocs"
)

// Document is one searchable thing.
type Document struct {
	// ID is unique across types: "<type>:<key>", e.g.
	// "software-catalog:component:default/orders".
	ID       string
	Type     string // TypeCatalog, TypeTechDocs, …
	Title    string // what a result shows as its link text
	Text     string // the body a snippet is cut from (a description, a page)
	Location string // the portal path a result links to ("/catalog/default/component/orders")

	// Name is the entity's name, searched as a whole word and in parts
	// (payment-gateway: "payment", "gateway"); an exact name hit ranks first.
	Name string
	// Keyword fields, for filters and facets: kind, namespace, type (the
	// entity's spec.type), lifecycle, owner (a ref as written), system.
	Kind, Namespace, SpecType, Lifecycle, Owner, System string
	Tags                                                []string
	// Extra is more text worth finding but not showing: links' titles, a
	// user's display name and email, spec fields, page headings.
	Extra string
}

// Facet fields a query can count and filter on.
const (
	FacetType      = "type" // document type
	FacetKind      = "kind"
	FacetNamespace = "namespace"
	FacetSpecType  = "spec.type"
	FacetOwner     = "owner"
	FacetLifecycle = "lifecycle"
	FacetTags      = "tags"
	FacetSystem    = "system"
)

// Facets are the facet fields in the order pages show them.
var Facets = []string{FacetType, FacetKind, FacetSpecType, FacetOwner, FacetLifecycle, FacetTags}

// MaxTermLength is the longest term a query may have, as Backstage's
// search.maxTermLength (longer terms are refused with ErrTermTooLong).
const MaxTermLength = 100

// Query is a search.
type Query struct {
	// Term is what the user typed: words (each must match, allowing a typo
	// in longer ones), "quoted phrases", nothing at all (every document).
	// Query syntax characters are plain text.
	Term string
	// Prefix treats the last word as the start of a word (typeahead).
	Prefix bool
	// Types limits the document types (none: all).
	Types []string
	// Filters: facet field → accepted values (OR within a field, AND
	// across fields).
	Filters map[string][]string
	// Facets to count over the matching documents (field names above);
	// FacetSize values each, most frequent first.
	Facets    []string
	FacetSize int
	Offset    int
	Limit     int // 0: 25
}

// Result is a page of hits.
type Result struct {
	Total  int // documents matching
	Hits   []Hit
	Facets map[string][]FacetValue
	Took   time.Duration
}

// Hit is a matching document with its score and highlighted snippets.
type Hit struct {
	Document
	Score float64
	// Highlights are HTML: the field's text escaped, matched words in
	// <mark>…</mark>, cut around the matches. Keys: "title", "text".
	Highlights map[string]string
}

// FacetValue is one value of a facet and how many matching documents have it.
type FacetValue struct {
	Value string
	Count int
}

// ErrTermTooLong refuses a term over MaxTermLength characters.
var ErrTermTooLong = errors.New("search term is longer than 100 characters")
