// Package generate produces synthetic Backstage catalogs for benchmarks and
// load tests.
//
// A catalog is a pure function of (n, seed): the same arguments always yield
// byte-identical YAML, so benchmark results and load-test failures can be
// reproduced exactly. Entities come in roughly the kind mix of a real
// organisation's catalog, carry searchable titles, descriptions and tags, and
// reference each other (owners, systems, domains, dependencies, APIs, group
// hierarchy, memberships) only through refs that resolve inside the generated
// catalog, so every document is valid under Backstage's own validators.
//
// YAML is written by hand rather than through a YAML library because the
// generator must emit hundreds of thousands of entities in a few seconds.
// Every scalar string is emitted with strconv.Quote; for the ASCII text used
// here that is also a valid YAML double-quoted scalar, so no value can be
// misread as a number, boolean, null or flow collection.
package generate

import (
	"bufio"
	"errors"
	"fmt"
	"iter"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// EntitiesPerFile is the number of entities in each entities-NNNN.yaml file.
const EntitiesPerFile = 100

// Document is one generated entity.
type Document struct {
	// Kind is the entity kind as spelled in the YAML, e.g. "Component".
	Kind string
	// Ref is the entity's lowercase ref, "kind:namespace/name".
	Ref string
	// YAML is the entity as a single YAML document, without a "---" line.
	YAML string
}

// Stats summarises what Write produced.
type Stats struct {
	// Entities is the total number of entities written (excluding the
	// Location entity in all.yaml).
	Entities int
	// Kinds maps each kind name ("Component", "API", ...) to its count.
	Kinds map[string]int
	// Files is the number of entities-NNNN.yaml files; all.yaml is extra.
	Files int
	// Bytes is the total size of all files written, all.yaml included.
	Bytes int64
}

// kind indexes per-kind tables. The order is also the output order: entities
// that others point at come first, which keeps the files readable and makes
// a partially ingested catalog resolve as many refs as possible.
type kind uint8

const (
	kDomain kind = iota
	kSystem
	kGroup
	kUser
	kResource
	kAPI
	kComponent
	kTemplate
	numKinds
)

// The tables below are read-only lookup data; arrays rather than slices so
// nothing can append to them.
var (
	kindNames = [numKinds]string{"Domain", "System", "Group", "User", "Resource", "API", "Component", "Template"}
	// kindPercent is the share of n each kind gets; it sums to 100.
	kindPercent = [numKinds]int{1, 3, 5, 10, 10, 15, 55, 1}

	// areas are the business words names and descriptions are built from.
	// "payments", "orders" and "search" lead the list and are weighted up in
	// pickArea so that full-text search benchmarks always have hits.
	areas = [...]string{
		"payments", "orders", "search", "checkout", "cart", "inventory", "shipping",
		"billing", "invoices", "catalog", "accounts", "identity", "auth",
		"notifications", "recommendations", "reviews", "pricing", "fraud", "ledger",
		"refunds", "subscriptions", "profiles", "sessions", "messaging", "reporting",
		"analytics", "loyalty", "returns", "tax", "warehouse", "fulfillment", "media",
		"content", "onboarding", "promotions", "delivery",
	}
	qualifiers = [...]string{
		"core", "ledger", "gateway", "worker", "sync", "stream", "batch", "indexer",
		"router", "cache", "engine", "processor", "scheduler", "exporter", "importer",
		"validator", "aggregator", "tracker", "adapter", "bridge",
	}
	systemWords = [...]string{"platform", "suite", "hub", "system", "stack", "services"}
	deptWords   = [...]string{
		"engineering", "product", "data", "infrastructure", "security", "finance",
		"operations", "marketing", "design", "support",
	}
	domainWords = [...]string{
		"commerce", "finance", "logistics", "identity", "discovery", "platform",
		"growth", "operations", "data", "customer", "marketplace", "risk",
	}
	firstNames = [...]string{
		"alex", "sam", "jordan", "taylor", "morgan", "casey", "riley", "jamie",
		"avery", "quinn", "maria", "li", "ahmed", "sofia", "lucas", "emma", "noah",
		"olivia", "liam", "mia", "yuki", "ravi", "fatima", "ivan", "chloe", "mateo",
	}
	lastNames = [...]string{
		"smith", "johnson", "garcia", "chen", "kumar", "nguyen", "muller", "rossi",
		"silva", "kim", "patel", "novak", "okafor", "larsen", "tanaka", "dubois",
		"cohen", "ali", "santos", "walker", "berg", "costa",
	}

	componentTypes = [...]string{"service", "website", "library"}
	componentTypeW = [...]int{60, 20, 20}
	// componentSuffix is indexed like componentTypes so names hint at the type.
	componentSuffix = [3][4]string{
		{"service", "service", "svc", "api-server"},
		{"web", "portal", "frontend", "ui"},
		{"lib", "sdk", "client", "toolkit"},
	}
	lifecycles  = [...]string{"production", "experimental", "deprecated"}
	lifecycleW  = [...]int{60, 30, 10}
	apiTypes    = [...]string{"openapi", "asyncapi", "graphql", "grpc"}
	apiTypeW    = [...]int{50, 20, 15, 15}
	apiTypeDesc = [...]string{"REST API", "Event stream API", "GraphQL API", "gRPC API"}
	// resourceWords is indexed like resourceTypes.
	resourceTypes = [...]string{"database", "queue", "bucket"}
	resourceTypeW = [...]int{50, 30, 20}
	resourceWords = [3][4]string{
		{"postgres-db", "mysql-db", "mongo-db", "dynamo-table"},
		{"events-queue", "jobs-queue", "tasks-queue", "outbox-queue"},
		{"assets-bucket", "exports-bucket", "backups-bucket", "uploads-bucket"},
	}
	resourceEngines = [3][4]string{
		{"PostgreSQL database", "MySQL database", "MongoDB database", "DynamoDB table"},
		{"Kafka topic", "SQS queue", "RabbitMQ queue", "Kafka outbox topic"},
		{"S3 bucket", "S3 bucket", "GCS bucket", "Object storage bucket"},
	}
	templateLangs = [...]string{"go", "java", "kotlin", "python", "node", "react", "rust", "typescript"}

	verbs     = [...]string{"Handles", "Processes", "Manages", "Tracks", "Validates", "Aggregates", "Schedules", "Routes", "Indexes", "Reconciles", "Publishes", "Stores"}
	verbing   = [...]string{"querying", "creating", "updating", "streaming", "searching", "managing", "exporting", "auditing"}
	objects   = [...]string{"requests", "events", "transactions", "records", "updates", "queries", "jobs", "notifications", "reports", "webhooks"}
	techs     = [...]string{"Go", "Java", "Kotlin", "Python", "TypeScript", "Rust", "Node.js", "Scala"}
	datastore = [...]string{"PostgreSQL", "MySQL", "Redis", "Kafka", "DynamoDB", "Elasticsearch", "S3", "Cassandra"}
	// tagPool entries all match Backstage's tag pattern, including the
	// punctuation it allows (':', '+', '#').
	tagPool = [...]string{
		"go", "java", "kotlin", "python", "typescript", "rust", "c++", "c#", "grpc",
		"rest", "graphql", "kafka", "postgres", "redis", "kubernetes", "critical",
		"pci", "gdpr", "internal", "public", "tier-1", "tier-2", "tier-3",
		"frontend", "backend", "team:platform", "k8s", "ml",
	}
)

// Counts returns how many entities of each kind a catalog of n entities
// contains. The counts always sum to n.
func Counts(n int) map[string]int {
	c := kindCounts(n)
	m := make(map[string]int, numKinds)
	for k, v := range c {
		m[kindNames[k]] = v
	}
	return m
}

// kindCounts splits n by kindPercent with the largest-remainder method, so
// the counts sum to n exactly and each is within one of its exact share.
func kindCounts(n int) [numKinds]int {
	var c [numKinds]int
	if n <= 0 {
		return c
	}
	var rem [numKinds]int
	left := n
	for k := range numKinds {
		c[k] = n * kindPercent[k] / 100
		rem[k] = n * kindPercent[k] % 100
		left -= c[k]
	}
	for ; left > 0; left-- {
		// Ties go to the bigger kind so small catalogs stay Component-heavy.
		best := kind(0)
		for k := range numKinds {
			if rem[k] > rem[best] || (rem[k] == rem[best] && kindPercent[k] > kindPercent[best]) {
				best = k
			}
		}
		c[best]++
		rem[best] = -1
	}
	// Owners must be groups, so any non-empty catalog needs one; systems and
	// domains are what make a catalog look like a catalog once it is big
	// enough to afford them.
	need := []kind{kGroup}
	if n >= 10 {
		need = append(need, kSystem, kDomain)
	}
	for _, k := range need {
		if c[k] > 0 {
			continue
		}
		donor := kind(0)
		for d := range numKinds {
			if c[d] > c[donor] {
				donor = d
			}
		}
		if c[donor] == 0 {
			break
		}
		c[donor]--
		c[k]++
	}
	return c
}

// entity is what has to be known about every entity before any body is
// written, so that bodies can refer to any other entity by name.
type entity struct {
	name string
	area uint8 // index into areas
	sub  uint8 // kind-specific type index (component type, API type, ...)
	alt  uint8 // kind-specific secondary word index
}

type catalog struct {
	seed   uint64
	counts [numKinds]int
	start  [numKinds]int // global index of each kind's first entity
	ents   []entity
	// byArea lists, per kind, the global indexes of entities in each area,
	// so that e.g. a payments component prefers a payments system and team.
	byArea [numKinds][len(areas)][]int32
	// rootGroups is how many of the first groups are departments without a
	// parent; every later group is a team under some earlier group.
	rootGroups int
	width      int // digits in the zero-padded index suffix of names
}

// Phases give names and bodies independent random streams, so adding a
// field to a body never changes any entity's name.
const (
	phaseName = 0
	phaseBody = 1
)

// splitmix64 decorrelates consecutive entity indexes before they seed PCG.
func splitmix64(x uint64) uint64 {
	x += 0x9e3779b97f4a7c15
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9
	x = (x ^ (x >> 27)) * 0x94d049bb133111eb
	return x ^ (x >> 31)
}

// reseed points src at the stream for entity i. Each entity owning its own
// stream keeps an entity's content independent of how many entities precede
// it of other kinds, which makes diffs between catalogs of similar n small.
func reseed(src *rand.PCG, seed uint64, i int, phase uint64) {
	src.Seed(seed, splitmix64(uint64(i)<<1|phase))
}

func newCatalog(n int, seed uint64) *catalog {
	c := &catalog{seed: seed, counts: kindCounts(n), ents: make([]entity, n)}
	c.width = max(4, len(strconv.Itoa(max(n-1, 0))))
	off := 0
	for k := range numKinds {
		c.start[k] = off
		off += c.counts[k]
	}
	groups := c.counts[kGroup]
	c.rootGroups = min(groups, max(1, min(6, groups/100+1)))

	src := rand.NewPCG(0, 0)
	r := rand.New(src)
	var sb []byte
	for k := range numKinds {
		for j := range c.counts[k] {
			i := c.start[k] + j
			reseed(src, seed, i, phaseName)
			e := entity{area: uint8(pickArea(r))}
			sb = sb[:0]
			switch k {
			case kDomain:
				e.alt = uint8(r.IntN(len(domainWords)))
				sb = append(sb, domainWords[e.alt]...)
			case kSystem:
				sb = append(sb, areas[e.area]...)
				sb = append(sb, '-')
				sb = append(sb, systemWords[r.IntN(len(systemWords))]...)
			case kGroup:
				if j < c.rootGroups {
					e.alt = uint8(r.IntN(len(deptWords)))
					sb = append(sb, deptWords[e.alt]...)
					sb = append(sb, "-dept"...)
				} else {
					sb = append(sb, areas[e.area]...)
					sb = append(sb, '-')
					sb = append(sb, qualifiers[r.IntN(len(qualifiers))]...)
					sb = append(sb, "-team"...)
				}
			case kUser:
				e.sub = uint8(r.IntN(len(firstNames)))
				e.alt = uint8(r.IntN(len(lastNames)))
				sb = append(sb, firstNames[e.sub]...)
				sb = append(sb, '.')
				sb = append(sb, lastNames[e.alt]...)
			case kResource:
				e.sub = uint8(weighted(r, resourceTypeW[:]))
				e.alt = uint8(r.IntN(4))
				sb = append(sb, areas[e.area]...)
				sb = append(sb, '-')
				sb = append(sb, resourceWords[e.sub][e.alt]...)
			case kAPI:
				e.sub = uint8(weighted(r, apiTypeW[:]))
				sb = append(sb, areas[e.area]...)
				sb = append(sb, '-')
				sb = append(sb, qualifiers[r.IntN(len(qualifiers))]...)
				sb = append(sb, "-api"...)
			case kComponent:
				e.sub = uint8(weighted(r, componentTypeW[:]))
				sb = append(sb, areas[e.area]...)
				sb = append(sb, '-')
				sb = append(sb, qualifiers[r.IntN(len(qualifiers))]...)
				sb = append(sb, '-')
				sb = append(sb, componentSuffix[e.sub][r.IntN(4)]...)
			case kTemplate:
				e.sub = uint8(weighted(r, componentTypeW[:]))
				e.alt = uint8(r.IntN(len(templateLangs)))
				sb = append(sb, templateLangs[e.alt]...)
				sb = append(sb, '-')
				sb = append(sb, componentTypes[e.sub]...)
				sb = append(sb, "-template"...)
			}
			// The global index suffix is what guarantees uniqueness; the
			// words only make names look and search like real ones.
			sb = append(sb, '-')
			sb = appendPadded(sb, i, c.width)
			e.name = string(sb)
			c.ents[i] = e
			c.byArea[k][e.area] = append(c.byArea[k][e.area], int32(i))
		}
	}
	return c
}

func appendPadded(b []byte, v, width int) []byte {
	var tmp [20]byte
	s := strconv.AppendInt(tmp[:0], int64(v), 10)
	for range width - len(s) {
		b = append(b, '0')
	}
	return append(b, s...)
}

// pickArea favours the first three areas ("payments", "orders", "search")
// so that searches for them hit in every catalog size.
func pickArea(r *rand.Rand) int {
	if r.IntN(4) == 0 {
		return r.IntN(3)
	}
	return r.IntN(len(areas))
}

func weighted(r *rand.Rand, w []int) int {
	total := 0
	for _, x := range w {
		total += x
	}
	v := r.IntN(total)
	for i, x := range w {
		if v < x {
			return i
		}
		v -= x
	}
	return len(w) - 1
}

// pick returns the global index of a random entity of kind k, preferring one
// in the given area about two times in three when such an entity exists.
// The caller must ensure counts[k] > 0.
func (c *catalog) pick(r *rand.Rand, k kind, area uint8) int {
	if same := c.byArea[k][area]; len(same) > 0 && r.IntN(3) != 0 {
		return int(same[r.IntN(len(same))])
	}
	return c.start[k] + r.IntN(c.counts[k])
}

// pickTeam prefers non-root groups: real ownership sits with teams, not
// departments.
func (c *catalog) pickTeam(r *rand.Rand, area uint8) int {
	if c.counts[kGroup] > c.rootGroups && r.IntN(10) != 0 {
		for range 4 {
			if g := c.pick(r, kGroup, area); g-c.start[kGroup] >= c.rootGroups {
				return g
			}
		}
		return c.start[kGroup] + c.rootGroups + r.IntN(c.counts[kGroup]-c.rootGroups)
	}
	return c.start[kGroup] + r.IntN(c.counts[kGroup])
}

// owner returns an owner ref in the short form people write by hand: a bare
// group name (Group is the default kind for owner) or, occasionally, an
// explicit user ref.
func (c *catalog) owner(r *rand.Rand, area uint8) string {
	if c.counts[kUser] > 0 && r.IntN(20) == 0 {
		return "user:" + c.ents[c.start[kUser]+r.IntN(c.counts[kUser])].name
	}
	return c.ents[c.pickTeam(r, area)].name
}

// distinct picks up to want distinct global indexes via pickOne, skipping
// those in exclude. It gives up on a slot after a few collisions rather
// than looping forever when the candidate pool is tiny.
func distinct(want int, exclude []int, pickOne func() int) []int {
	out := make([]int, 0, want)
	for range want {
		for range 8 {
			v := pickOne()
			if containsInt(exclude, v) || containsInt(out, v) {
				continue
			}
			out = append(out, v)
			break
		}
	}
	return out
}

func containsInt(s []int, v int) bool {
	for _, x := range s {
		if x == v {
			return true
		}
	}
	return false
}

func (c *catalog) kindOf(i int) kind {
	k := kind(0)
	for k+1 < numKinds && i >= c.start[k+1] {
		k++
	}
	return k
}

// All returns an iterator over the n entities of the catalog for seed, in
// output order. It holds only the entity names in memory, not the bodies, so
// it is suitable for streaming very large catalogs.
func All(n int, seed uint64) iter.Seq[Document] {
	return func(yield func(Document) bool) {
		if n <= 0 {
			return
		}
		c := newCatalog(n, seed)
		src := rand.NewPCG(0, 0)
		r := rand.New(src)
		w := &yamlWriter{}
		for i := range n {
			k := c.kindOf(i)
			reseed(src, seed, i, phaseBody)
			w.b = w.b[:0]
			c.body(w, r, k, i)
			doc := Document{
				Kind: kindNames[k],
				Ref:  strings.ToLower(kindNames[k]) + ":default/" + strings.ToLower(c.ents[i].name),
				YAML: string(w.b),
			}
			if !yield(doc) {
				return
			}
		}
	}
}

// Entities returns the whole catalog in memory. Prefer All or Write for
// large n.
func Entities(n int, seed uint64) []Document {
	docs := make([]Document, 0, max(n, 0))
	for d := range All(n, seed) {
		docs = append(docs, d)
	}
	return docs
}

// Write writes the catalog for (n, seed) into dir, creating it if needed:
// entities-NNNN.yaml files of EntitiesPerFile documents each, plus all.yaml,
// a Location entity whose targets are those files, which is the single file
// a user registers. Entities are streamed to disk as they are generated.
func Write(dir string, n int, seed uint64) (Stats, error) {
	st := Stats{Kinds: make(map[string]int, numKinds)}
	if n < 0 {
		return st, errors.New("generate: negative entity count")
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return st, err
	}
	var (
		f   *os.File
		bw  *bufio.Writer
		err error
	)
	closeFile := func() error {
		if f == nil {
			return nil
		}
		ferr := bw.Flush()
		if cerr := f.Close(); ferr == nil {
			ferr = cerr
		}
		f = nil
		return ferr
	}
	for d := range All(n, seed) {
		if st.Entities%EntitiesPerFile == 0 {
			if err = closeFile(); err != nil {
				return st, err
			}
			f, err = os.Create(filepath.Join(dir, fileName(st.Files)))
			if err != nil {
				return st, err
			}
			if bw == nil {
				bw = bufio.NewWriterSize(f, 256<<10)
			} else {
				bw.Reset(f)
			}
			st.Files++
		}
		// Errors are sticky in bufio.Writer, so checking at Flush suffices.
		bw.WriteString("---\n")
		bw.WriteString(d.YAML)
		st.Bytes += int64(4 + len(d.YAML))
		st.Entities++
		st.Kinds[d.Kind]++
	}
	if err = closeFile(); err != nil {
		return st, err
	}
	loc := locationYAML(n, seed, st.Files)
	if err := os.WriteFile(filepath.Join(dir, "all.yaml"), loc, 0o644); err != nil {
		return st, err
	}
	st.Bytes += int64(len(loc))
	return st, nil
}

func fileName(i int) string {
	return fmt.Sprintf("entities-%04d.yaml", i)
}

func locationYAML(n int, seed uint64, files int) []byte {
	w := &yamlWriter{}
	w.kv(0, "apiVersion", "backstage.io/v1alpha1")
	w.kv(0, "kind", "Location")
	w.key(0, "metadata")
	w.kv(2, "name", "generated-catalog")
	w.kv(2, "description", fmt.Sprintf("Synthetic catalog of %d entities generated with seed %d.", n, seed))
	w.key(0, "spec")
	// No spec.type: targets then inherit the type of however all.yaml was
	// registered (file or url), and relative paths resolve against it.
	if files == 0 {
		w.raw("  targets: []\n")
	} else {
		w.key(2, "targets")
		for i := range files {
			w.item(4, "./"+fileName(i))
		}
	}
	return w.b
}
