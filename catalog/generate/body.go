package generate

import (
	"math/rand/v2"
	"strconv"
	"strings"
)

// yamlWriter appends block-style YAML. Values always go through
// strconv.Quote (see the package doc); keys are fixed identifiers or
// annotation keys, which are plain scalars YAML cannot misread.
type yamlWriter struct{ b []byte }

const spaces = "                "

func (w *yamlWriter) raw(s string) { w.b = append(w.b, s...) }

func (w *yamlWriter) indent(n int) { w.b = append(w.b, spaces[:n]...) }

// kv writes `key: "value"`.
func (w *yamlWriter) kv(ind int, key, val string) {
	w.indent(ind)
	w.b = append(w.b, key...)
	w.b = append(w.b, ": "...)
	w.b = strconv.AppendQuote(w.b, val)
	w.b = append(w.b, '\n')
}

// key opens a nested mapping or sequence.
func (w *yamlWriter) key(ind int, key string) {
	w.indent(ind)
	w.b = append(w.b, key...)
	w.b = append(w.b, ":\n"...)
}

// item writes a sequence entry `- "value"`.
func (w *yamlWriter) item(ind int, val string) {
	w.indent(ind)
	w.b = append(w.b, "- "...)
	w.b = strconv.AppendQuote(w.b, val)
	w.b = append(w.b, '\n')
}

// block writes a literal block scalar. Every line of text is re-indented, so
// text may contain any characters except tabs and trailing spaces.
func (w *yamlWriter) block(ind int, key, text string) {
	w.indent(ind)
	w.b = append(w.b, key...)
	w.b = append(w.b, ": |\n"...)
	for line := range strings.Lines(text) {
		w.indent(ind + 2)
		w.b = append(w.b, line...)
	}
	if !strings.HasSuffix(text, "\n") {
		w.b = append(w.b, '\n')
	}
}

func (c *catalog) name(i int) string { return c.ents[i].name }

func (c *catalog) body(w *yamlWriter, r *rand.Rand, k kind, i int) {
	e := c.ents[i]
	apiVersion := "backstage.io/v1alpha1"
	if k == kTemplate {
		apiVersion = "scaffolder.backstage.io/v1beta3"
	}
	w.kv(0, "apiVersion", apiVersion)
	w.kv(0, "kind", kindNames[k])
	c.metadata(w, r, k, i)
	w.key(0, "spec")
	switch k {
	case kDomain:
		// Domains are owned by whole departments more often than by teams.
		if r.IntN(2) == 0 {
			w.kv(2, "owner", c.name(c.start[kGroup]+r.IntN(c.rootGroups)))
		} else {
			w.kv(2, "owner", c.owner(r, e.area))
		}
	case kSystem:
		w.kv(2, "owner", c.owner(r, e.area))
		if c.counts[kDomain] > 0 {
			w.kv(2, "domain", c.name(c.start[kDomain]+r.IntN(c.counts[kDomain])))
		}
	case kGroup:
		j := i - c.start[kGroup]
		if j < c.rootGroups {
			w.kv(2, "type", "department")
		} else {
			w.kv(2, "type", "team")
		}
		w.key(2, "profile")
		w.kv(4, "displayName", c.title(k, i))
		w.kv(4, "email", e.name+"@example.com")
		if j >= c.rootGroups {
			// Any earlier group may be the parent, which yields a random
			// recursive tree: a few roots, logarithmic depth, and every
			// parent already declared.
			w.kv(2, "parent", c.name(c.start[kGroup]+r.IntN(j)))
		}
		// Children are derived by Backstage from each child's parent.
		w.raw("  children: []\n")
	case kUser:
		w.key(2, "profile")
		w.kv(4, "displayName", c.title(k, i))
		w.kv(4, "email", e.name+"@example.com")
		w.key(2, "memberOf")
		for _, g := range distinct(1+r.IntN(2), nil, func() int { return c.pickTeam(r, e.area) }) {
			w.item(4, c.name(g))
		}
	case kResource:
		w.kv(2, "type", resourceTypes[e.sub])
		w.kv(2, "owner", c.owner(r, e.area))
		c.system(w, r, e.area)
	case kAPI:
		w.kv(2, "type", apiTypes[e.sub])
		w.kv(2, "lifecycle", lifecycles[weighted(r, lifecycleW[:])])
		w.kv(2, "owner", c.owner(r, e.area))
		c.system(w, r, e.area)
		w.block(2, "definition", apiDefinition(e.sub, areas[e.area], c.title(k, i)))
	case kComponent:
		w.kv(2, "type", componentTypes[e.sub])
		w.kv(2, "lifecycle", lifecycles[weighted(r, lifecycleW[:])])
		w.kv(2, "owner", c.owner(r, e.area))
		c.system(w, r, e.area)
		if c.counts[kAPI] > 0 {
			pickAPI := func() int { return c.pick(r, kAPI, e.area) }
			// A component consuming an API it provides itself would be noise.
			provides := distinct(r.IntN(3), nil, pickAPI)
			c.refList(w, "providesApis", provides, false)
			c.refList(w, "consumesApis", distinct(r.IntN(4), provides, pickAPI), false)
		}
		pickDep := func() int {
			if c.counts[kResource] > 0 && (c.counts[kComponent] < 2 || r.IntN(3) == 0) {
				return c.pick(r, kResource, e.area)
			}
			return c.pick(r, kComponent, e.area)
		}
		c.refList(w, "dependsOn", distinct(r.IntN(4), []int{i}, pickDep), true)
	case kTemplate:
		w.kv(2, "type", componentTypes[e.sub])
		w.kv(2, "owner", c.owner(r, e.area))
		w.key(2, "parameters")
		w.kv(4, "title", "Provide some simple information")
		w.raw("    required:\n      - \"name\"\n")
		w.key(4, "properties")
		w.key(6, "name")
		w.kv(8, "title", "Name")
		w.kv(8, "type", "string")
		w.kv(8, "description", "Unique name of the new "+componentTypes[e.sub])
		w.key(6, "owner")
		w.kv(8, "title", "Owner")
		w.kv(8, "type", "string")
		w.kv(8, "default", c.owner(r, e.area))
		w.raw("  steps:\n")
		w.raw("    - id: \"fetch\"\n")
		w.kv(6, "name", "Fetch")
		w.kv(6, "action", "fetch:template")
		w.key(6, "input")
		w.kv(8, "url", "./skeleton")
	}
}

// system writes spec.system, which is optional, so tiny catalogs without
// systems remain valid.
func (c *catalog) system(w *yamlWriter, r *rand.Rand, area uint8) {
	if c.counts[kSystem] > 0 {
		w.kv(2, "system", c.name(c.pick(r, kSystem, area)))
	}
}

// refList writes a spec relation list. dependsOn has no default kind in
// Backstage, so its refs carry an explicit kind; API lists rely on the
// default kind, as hand-written catalogs usually do.
func (c *catalog) refList(w *yamlWriter, key string, idx []int, withKind bool) {
	if len(idx) == 0 {
		return
	}
	w.key(2, key)
	for _, j := range idx {
		if withKind {
			w.item(4, strings.ToLower(kindNames[c.kindOf(j)])+":"+c.name(j))
		} else {
			w.item(4, c.name(j))
		}
	}
}

func (c *catalog) metadata(w *yamlWriter, r *rand.Rand, k kind, i int) {
	e := c.ents[i]
	w.key(0, "metadata")
	w.kv(2, "name", e.name)
	if k != kUser {
		w.kv(2, "title", c.title(k, i))
	}
	w.kv(2, "description", c.description(r, k, i))

	hasSlug := (k == kComponent || k == kAPI || k == kTemplate) && r.IntN(10) != 0
	hasDocs := k != kUser && k != kGroup && r.IntN(10) == 0
	if hasSlug || hasDocs {
		w.key(2, "annotations")
		if hasSlug {
			w.kv(4, "github.com/project-slug", "acme/"+e.name)
		}
		if hasDocs {
			w.kv(4, "backstage.io/techdocs-ref", "dir:.")
		}
	}

	var tagBuf [4]string
	tags := tagBuf[:0]
	if r.IntN(2) == 0 {
		tags = append(tags, areas[e.area])
	}
	for want := 1 + r.IntN(4); len(tags) < want; {
		t := tagPool[r.IntN(len(tagPool))]
		dup := false
		for _, x := range tags {
			dup = dup || x == t
		}
		if !dup {
			tags = append(tags, t)
		}
	}
	w.key(2, "tags")
	for _, t := range tags {
		w.item(4, t)
	}

	if (k == kComponent || k == kAPI || k == kSystem) && r.IntN(5) < 2 {
		w.key(2, "links")
		w.kv(4, "- url", "https://github.com/acme/"+e.name)
		w.kv(6, "title", "Repository")
		w.kv(6, "icon", "github")
		if r.IntN(2) == 0 {
			w.kv(4, "- url", "https://grafana.example.com/d/"+e.name)
			w.kv(6, "title", "Dashboard")
			w.kv(6, "icon", "dashboard")
		}
	}
}

// title turns a name into a display title by dropping the index suffix and
// capitalising words, e.g. "payments-ledger-service-0123" becomes
// "Payments Ledger Service".
func (c *catalog) title(k kind, i int) string {
	e := c.ents[i]
	if k == kUser {
		return capitalize(firstNames[e.sub]) + " " + capitalize(lastNames[e.alt])
	}
	base := e.name[:strings.LastIndexByte(e.name, '-')]
	var sb strings.Builder
	sb.Grow(len(base))
	for j, word := range strings.Split(base, "-") {
		if j > 0 {
			sb.WriteByte(' ')
		}
		switch word {
		case "api", "ui", "sdk", "db":
			sb.WriteString(strings.ToUpper(word))
		default:
			sb.WriteString(capitalize(word))
		}
	}
	return sb.String()
}

func capitalize(s string) string {
	if s == "" || s[0] < 'a' || s[0] > 'z' {
		return s
	}
	return string(s[0]-'a'+'A') + s[1:]
}

func pickStr[T ~[]string](r *rand.Rand, s T) string { return s[r.IntN(len(s))] }

// description builds one or two sentences from the entity's area and word
// lists, giving full-text search realistic, overlapping vocabulary.
func (c *catalog) description(r *rand.Rand, k kind, i int) string {
	e := c.ents[i]
	area := areas[e.area]
	other := areas[pickArea(r)]
	obj := pickStr(r, objects[:])
	var s string
	switch k {
	case kDomain:
		s = "Business domain covering " + area + ", " + other + " and " + areas[r.IntN(len(areas))] + "."
	case kSystem:
		s = "The " + area + " platform: services, APIs and storage for " + area + " " + obj + "."
	case kGroup:
		if i-c.start[kGroup] < c.rootGroups {
			s = "The " + deptWords[e.alt] + " department, home of the " + area + " and " + other + " teams."
		} else {
			s = "Team responsible for " + area + " " + obj + " and " + other + "."
		}
	case kUser:
		s = "Engineer working on " + area + " and " + other + "."
	case kResource:
		s = resourceEngines[e.sub][e.alt] + " holding " + area + " " + obj + "."
	case kAPI:
		s = apiTypeDesc[e.sub] + " for " + pickStr(r, verbing[:]) + " " + area + " " + obj + "."
	case kComponent:
		switch e.sub {
		case 0:
			s = pickStr(r, verbs[:]) + " " + area + " " + obj + " for the " + other + " platform."
		case 1:
			s = "Web app for browsing " + area + " and " + other + " " + obj + "."
		default:
			s = "Shared " + pickStr(r, techs[:]) + " library for " + area + " " + obj + "."
		}
	case kTemplate:
		s = "Create a new " + templateLangs[e.alt] + " " + componentTypes[e.sub] + " with CI, docs and " + area + " defaults."
	}
	if r.IntN(2) == 0 {
		switch r.IntN(5) {
		case 0:
			s += " Built with " + pickStr(r, techs[:]) + " and backed by " + pickStr(r, datastore[:]) + "."
		case 1:
			s += " Critical path for " + area + " and " + other + "."
		case 2:
			s += " Used by the " + other + " and " + areas[r.IntN(len(areas))] + " teams."
		case 3:
			s += " Emits " + obj + " to the " + other + " dashboards."
		default:
			s += " On-call is shared with the " + other + " team."
		}
	}
	return s
}

// apiDefinition returns a minimal but syntactically valid definition for the
// API type, so consumers that render or parse definitions have real input.
func apiDefinition(typ uint8, area, title string) string {
	Area := capitalize(area)
	switch typ {
	case 0:
		return "openapi: 3.0.3\ninfo:\n  title: " + title + "\n  version: 1.0.0\npaths:\n  /" + area +
			":\n    get:\n      summary: List " + area + "\n      responses:\n        \"200\":\n          description: OK\n"
	case 1:
		return "asyncapi: 2.6.0\ninfo:\n  title: " + title + "\n  version: 1.0.0\nchannels:\n  " + area +
			".events:\n    subscribe:\n      message:\n        payload:\n          type: object\n"
	case 2:
		return "type Query {\n  " + area + "(first: Int): [" + Area + "Item!]!\n}\ntype " + Area +
			"Item {\n  id: ID!\n  name: String\n}\n"
	default:
		return "syntax = \"proto3\";\npackage " + area + ".v1;\nservice " + Area + "Service {\n  rpc Get" + Area +
			"(Get" + Area + "Request) returns (Get" + Area + "Response);\n}\n"
	}
}
