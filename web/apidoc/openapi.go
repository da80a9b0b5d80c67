package apidoc

import (
	"errors"
	"strings"
)

// Limits for big OpenAPI definitions.
const (
	maxOperations = 500 // operation entries listed
	maxSchemas    = 300 // component schemas listed
	maxParams     = 100 // parameters per operation
	maxResponses  = 50  // responses per operation
	maxMediaTypes = 10  // media types per body or response
	// Referenced schemas are expanded inside operations while that takes
	// at most inlineBudget schema nodes in all; a bigger definition shows
	// them as links to the Schemas list instead, which keeps its page to
	// a few hundred KiB.
	inlineBudget  = 1500
	opsBudget     = 2500 // schema nodes for all operations, as links
	schemasBudget = 2500 // schema nodes for the Schemas list
	// maxOpsText caps the text of all operations (descriptions,
	// parameters, responses; schemas have their budget): operations past
	// it are listed by their summary line only.
	maxOpsText = 512 << 10
)

var httpMethods = map[string]bool{
	"get": true, "put": true, "post": true, "delete": true,
	"options": true, "head": true, "patch": true, "trace": true,
}

// ParseOpenAPI parses an OpenAPI 3.x or Swagger 2.0 definition (YAML or
// JSON) into its view model.
func ParseOpenAPI(definition string) (*OpenAPI, error) {
	root, err := parseDocument(definition)
	if err != nil {
		return nil, err
	}
	return openAPIFromNode(root)
}

func openAPIFromNode(root *node) (doc *OpenAPI, err error) {
	defer func() {
		if r := recover(); r != nil {
			doc, err = nil, errors.New("internal error while reading the definition")
		}
	}()
	p := &oaParser{root: root, r: newResolver(root), ids: newIDs()}
	return p.parse()
}

type oaParser struct {
	root     *node
	r        *resolver
	ids      *ids
	swagger  bool
	consumes []string
	produces []string
	ops      *schemaBuilder
	text     int // bytes of operation text so far (see maxOpsText)
}

func (p *oaParser) parse() (*OpenAPI, error) {
	root := p.root
	doc := &OpenAPI{}
	if v, ok := root.get("openapi").scalar(); ok {
		doc.Info.Format = "OpenAPI " + v
	} else if v, ok := root.get("swagger").scalar(); ok {
		p.swagger = true
		doc.Info.Format = "Swagger " + v
	} else {
		return nil, errors.New(`it has no "openapi" or "swagger" version field`)
	}
	if !root.get("paths").isMap() && !root.has("components") && !root.has("definitions") && !root.has("webhooks") {
		return nil, errors.New(`it has no "paths"`)
	}
	doc.Info = readInfo(root, doc.Info.Format)
	p.consumes = root.get("consumes").strings()
	p.produces = root.get("produces").strings()

	// Servers.
	if p.swagger {
		host := root.s("host")
		base := root.s("basePath")
		schemes := root.get("schemes").strings()
		if host != "" || base != "" {
			if len(schemes) == 0 || host == "" {
				doc.Servers = append(doc.Servers, Server{URL: host + base})
			}
			if host != "" {
				for _, sc := range schemes {
					doc.Servers = append(doc.Servers, Server{URL: sc + "://" + host + base})
				}
			}
		}
	} else {
		doc.Servers = readServers3(root.get("servers"))
	}

	// Schemas get their ids first, so that references can link to them.
	var schemaNodes *node
	if p.swagger {
		schemaNodes = root.get("definitions")
	} else {
		schemaNodes = root.get("components").get("schemas")
	}
	refIDs := map[*node]string{}
	if schemaNodes.isMap() {
		for i, name := range schemaNodes.mkeys() {
			if i >= maxSchemas {
				doc.OmittedSchemas = len(schemaNodes.keys) - i
				break
			}
			id := p.ids.make("schema", name)
			if _, dup := refIDs[schemaNodes.vals[i]]; !dup {
				refIDs[schemaNodes.vals[i]] = id
			}
			doc.Schemas = append(doc.Schemas, NamedSchema{Name: name, ID: id})
		}
	}
	p.ops = &schemaBuilder{r: p.r, refIDs: refIDs, expandRefs: true, budget: inlineBudget}
	ids := p.ids.clone()
	p.readOperations(doc)
	if p.ops.abbreviated {
		doc.Groups, doc.OmittedOps, doc.Linked, doc.Brief = nil, 0, true, 0
		p.ids, p.text = ids, 0
		p.ops = &schemaBuilder{r: p.r, refIDs: refIDs, linkRoots: true, budget: opsBudget}
		p.readOperations(doc)
	}

	list := &schemaBuilder{r: p.r, refIDs: refIDs, budget: schemasBudget}
	for i := range doc.Schemas {
		doc.Schemas[i].Schema = list.build(schemaNodes.vals[i], "", 0)
	}
	doc.Abbreviated = p.ops.abbreviated || list.abbreviated
	return doc, nil
}

// readInfo reads the info object and the root's externalDocs.
func readInfo(root *node, format string) Info {
	in := root.get("info")
	info := Info{
		Title:       in.s("title"),
		Version:     in.s("version"),
		Description: in.s("description"),
		Format:      format,
	}
	if u := in.s("termsOfService"); u != "" {
		info.Links = append(info.Links, Link{Label: "Terms of service", Href: safeHref(u), Text: u})
	}
	if c := in.get("contact"); c.isMap() {
		name := c.s("name")
		if name == "" {
			name = "Contact"
		}
		if u := c.s("url"); u != "" {
			info.Links = append(info.Links, Link{Label: name, Href: safeHref(u), Text: u})
		}
		if e := c.s("email"); e != "" {
			info.Links = append(info.Links, Link{Label: name, Text: e})
		}
		if c.s("url") == "" && c.s("email") == "" && c.s("name") != "" {
			info.Links = append(info.Links, Link{Label: "Contact", Text: name})
		}
	}
	if l := in.get("license"); l.isMap() {
		name := l.s("name")
		if name == "" {
			name = l.s("identifier")
		}
		info.Links = append(info.Links, Link{Label: "License", Href: safeHref(l.s("url")), Text: name})
	}
	docs := root.get("externalDocs")
	if !docs.isMap() {
		docs = in.get("externalDocs") // AsyncAPI 3 moved it into info
	}
	if d := docs; d.isMap() {
		label := d.s("description")
		if label == "" {
			label = "Documentation"
		}
		info.Links = append(info.Links, Link{Label: label, Href: safeHref(d.s("url")), Text: d.s("url")})
	}
	for i := range info.Links {
		if info.Links[i].Href != "" && info.Links[i].Text == "" {
			info.Links[i].Text = info.Links[i].Href
		}
	}
	return info
}

func readServers3(list *node) []Server {
	var out []Server
	for i, s := range list.items() {
		if i >= 50 {
			break
		}
		if !s.isMap() {
			continue
		}
		out = append(out, Server{URL: s.s("url"), Description: s.s("description")})
	}
	return out
}

type rawOp struct {
	method, path string
	item, op     *node
	webhook      bool
}

// webhooksGroup is the group of OpenAPI 3.1 webhooks.
const webhooksGroup = "Webhooks"

func (p *oaParser) readOperations(doc *OpenAPI) {
	var all []rawOp
	// Paths, then OpenAPI 3.1 webhooks (in a group of their own).
	for _, section := range []string{"paths", "webhooks"} {
		paths := p.root.get(section)
		for i, path := range paths.mkeys() {
			item, _, broken := p.r.deref(paths.vals[i])
			if broken || !item.isMap() {
				continue
			}
			for j, m := range item.mkeys() {
				if httpMethods[strings.ToLower(m)] && item.vals[j].isMap() {
					all = append(all, rawOp{method: strings.ToUpper(m), path: path, item: item, op: item.vals[j], webhook: section == "webhooks"})
				}
			}
		}
	}
	doc.Operations = len(all)

	// Groups: declared tags first, then other tags as they appear, then
	// "default" for untagged operations.
	groups := map[string]*OpGroup{}
	var order []string
	declared := map[string]string{}
	for _, t := range p.root.get("tags").items() {
		if name := t.s("name"); name != "" {
			if _, dup := declared[name]; !dup {
				declared[name] = t.s("description")
				order = append(order, name)
			}
		}
	}
	entries := 0
	for k, ro := range all {
		tags := ro.op.get("tags").strings()
		if len(tags) == 0 {
			tags = []string{"default"}
		}
		if ro.webhook {
			tags = []string{webhooksGroup}
		}
		if entries+len(tags) > maxOperations {
			doc.OmittedOps = len(all) - k
			break
		}
		if p.ops.expandRefs && p.ops.abbreviated {
			return // the caller starts over, with links
		}
		op := p.readOperation(ro)
		if op.Brief {
			doc.Brief++
		}
		seen := map[string]bool{}
		first := true
		for _, t := range tags {
			if seen[t] {
				continue
			}
			seen[t] = true
			g := groups[t]
			if g == nil {
				g = &OpGroup{Name: t, Description: declared[t]}
				groups[t] = g
				if _, ok := declared[t]; !ok && t != "default" && t != webhooksGroup {
					order = append(order, t)
				}
			}
			entry := op
			if !first {
				// The same operation under another tag: in full if the
				// budgets allow, else as a pointer to the first.
				c := *op
				entry = &c
				nodes, text := opCost(op)
				if !op.Brief && p.ops.budget >= nodes && p.text+text <= maxOpsText {
					p.ops.budget -= nodes
					p.text += text
				} else {
					c = Operation{Method: op.Method, Path: op.Path, Summary: op.Summary, Deprecated: op.Deprecated,
						Brief: true, SeeID: op.ID, SeeTag: tags[0]}
				}
			}
			first = false
			entry.ID = p.ids.make("op", opKey(ro, op))
			g.Ops = append(g.Ops, entry)
			entries++
		}
	}
	if _, ok := declared["default"]; !ok {
		order = append(order, "default")
	}
	if _, ok := declared[webhooksGroup]; !ok {
		order = append(order, webhooksGroup)
	}
	for _, name := range order {
		if g := groups[name]; g != nil && len(g.Ops) > 0 {
			g.ID = p.ids.make("tag", name)
			doc.Groups = append(doc.Groups, *g)
		}
	}
}

func opKey(ro rawOp, op *Operation) string {
	if op.OperationID != "" {
		return op.OperationID
	}
	return ro.method + "-" + ro.path
}

func (p *oaParser) readOperation(ro rawOp) *Operation {
	op := &Operation{
		Method:      ro.method,
		Path:        ro.path,
		Summary:     ro.op.s("summary"),
		OperationID: ro.op.s("operationId"),
		Description: ro.op.s("description"),
		Deprecated:  ro.op.b("deprecated"),
	}
	if op.Description == "" && ro.item.s("description") != "" && op.Summary == "" {
		op.Description = ro.item.s("description")
	}
	if op.Summary == "" {
		op.Summary = ro.item.s("summary")
	}
	p.text += 100 + len(op.Summary) + len(op.Path)
	if p.text > maxOpsText {
		op.Brief = true
		op.Description = ""
		return op
	}
	defer func() {
		p.text += len(op.Description)
		for _, prm := range op.Params {
			p.text += 300 + len(prm.Description)
		}
		for _, r := range op.Responses {
			p.text += 200 + len(r.Description) + 300*len(r.Headers) + 100*len(r.Content)
		}
		if op.Body != nil {
			p.text += 200 + len(op.Body.Description)
		}
	}()

	// Parameters: the path item's, overridden by the operation's with the
	// same name and location.
	var params []*node
	key := func(n *node) string { return n.s("in") + "\x00" + n.s("name") }
	for _, list := range []*node{ro.item.get("parameters"), ro.op.get("parameters")} {
		for _, pn := range list.items() {
			t, _, broken := p.r.deref(pn)
			if broken || !t.isMap() {
				continue
			}
			replaced := false
			for i, old := range params {
				if key(old) == key(t) {
					params[i] = t
					replaced = true
					break
				}
			}
			if !replaced {
				params = append(params, t)
			}
		}
	}
	var form []*node
	for _, pn := range params {
		switch in := pn.s("in"); {
		case p.swagger && in == "body":
			op.Body = &Body{Description: pn.s("description"), Required: pn.b("required")}
			op.Body.Content = []Media{{Type: p.mediaTypes(ro.op.get("consumes"), p.consumes), Schema: p.ops.build(pn.get("schema"), "", 0)}}
		case p.swagger && in == "formData":
			form = append(form, pn)
		default:
			if len(op.Params) >= maxParams {
				continue
			}
			op.Params = append(op.Params, p.param(pn))
		}
	}
	if len(form) > 0 && op.Body == nil {
		s := &Schema{Type: "object"}
		for _, f := range form {
			c := p.ops.build(f, f.s("name"), 1)
			c.Description = f.s("description")
			c.Required = f.b("required")
			s.Children = append(s.Children, c)
		}
		mt := p.mediaTypes(ro.op.get("consumes"), p.consumes)
		if mt == "" || mt == "application/json" {
			mt = "application/x-www-form-urlencoded"
		}
		op.Body = &Body{Content: []Media{{Type: mt, Schema: s}}}
	}

	if !p.swagger {
		if rb := ro.op.get("requestBody"); rb != nil {
			t, _, broken := p.r.deref(rb)
			if !broken && t.isMap() {
				op.Body = &Body{Description: t.s("description"), Required: t.b("required"), Content: p.content(t.get("content"))}
			}
		}
	}

	resps := ro.op.get("responses")
	for i, status := range resps.mkeys() {
		if i >= maxResponses {
			break
		}
		if strings.HasPrefix(status, "x-") {
			continue
		}
		t, ref, broken := p.r.deref(resps.vals[i])
		resp := Response{Status: status}
		if broken {
			resp.Description = "Unresolved reference " + ref
			op.Responses = append(op.Responses, resp)
			continue
		}
		resp.Description = t.s("description")
		hs := t.get("headers")
		for j, name := range hs.mkeys() {
			if j >= maxParams {
				break
			}
			h, _, broken := p.r.deref(hs.vals[j])
			if broken {
				continue
			}
			hp := p.param(h)
			hp.Name = name
			resp.Headers = append(resp.Headers, hp)
		}
		if p.swagger {
			if sc := t.get("schema"); sc != nil {
				resp.Content = []Media{{Type: p.mediaTypes(ro.op.get("produces"), p.produces), Schema: p.ops.build(sc, "", 0)}}
			}
		} else {
			resp.Content = p.content(t.get("content"))
		}
		op.Responses = append(op.Responses, resp)
	}
	return op
}

// opCost counts the schema nodes and roughly the bytes of text of an
// operation, to charge for showing it again under another tag.
func opCost(op *Operation) (nodes, text int) {
	var count func(s *Schema)
	count = func(s *Schema) {
		if s == nil {
			return
		}
		nodes++
		text += len(s.Description)
		for _, c := range s.Children {
			count(c)
		}
		for _, v := range s.Variants {
			count(v)
		}
	}
	text = 100 + len(op.Summary) + len(op.Path) + len(op.Description)
	for _, prm := range op.Params {
		count(prm.Schema)
		text += 300 + len(prm.Description)
	}
	if op.Body != nil {
		text += 200 + len(op.Body.Description)
		for _, m := range op.Body.Content {
			count(m.Schema)
		}
	}
	for _, r := range op.Responses {
		text += 200 + len(r.Description)
		for _, h := range r.Headers {
			count(h.Schema)
			text += 300
		}
		for _, m := range r.Content {
			count(m.Schema)
			text += 100
		}
	}
	return nodes, text
}

// mediaTypes joins an operation's consumes/produces, or the document's.
func (p *oaParser) mediaTypes(own *node, global []string) string {
	if l := own.strings(); len(l) > 0 {
		return strings.Join(l, ", ")
	}
	if len(global) > 0 {
		return strings.Join(global, ", ")
	}
	return "application/json"
}

func (p *oaParser) content(c *node) []Media {
	var out []Media
	for i, mt := range c.mkeys() {
		if i >= maxMediaTypes {
			break
		}
		m := Media{Type: mt}
		if sc := c.vals[i].get("schema"); sc != nil {
			m.Schema = p.ops.build(sc, "", 0)
		}
		out = append(out, m)
	}
	return out
}

// param reads a parameter (or header) object.
func (p *oaParser) param(pn *node) Param {
	prm := Param{
		Name:        pn.s("name"),
		In:          pn.s("in"),
		Required:    pn.b("required") || pn.s("in") == "path",
		Deprecated:  pn.b("deprecated"),
		Description: pn.s("description"),
	}
	switch {
	case pn.has("schema"):
		prm.Schema = p.ops.build(pn.get("schema"), "", 0)
	case pn.get("content").isMap() && len(pn.get("content").vals) > 0:
		c := pn.get("content")
		prm.Schema = p.ops.build(c.vals[0].get("schema"), "", 0)
	case pn.has("type"):
		// Swagger 2.0: the parameter is its own schema.
		prm.Schema = p.ops.build(pn, "", 0)
		prm.Schema.Description = ""
	}
	return prm
}
