package apidoc

import (
	"errors"
	"strings"
)

// Limits for big AsyncAPI definitions.
const (
	maxChannels    = 300
	maxMessages    = 50 // per operation or channel
	maxAsyncOps    = 20 // per channel
	asyncBudget    = 4000
	maxAsyncServer = 50
	// maxTotalMessages caps the messages shown in all; the rest are
	// counted in OmittedMessages.
	maxTotalMessages = 600
)

// ParseAsyncAPI parses an AsyncAPI 2.x or 3.x definition (YAML or JSON)
// into its view model.
func ParseAsyncAPI(definition string) (*AsyncAPI, error) {
	root, err := parseDocument(definition)
	if err != nil {
		return nil, err
	}
	return asyncAPIFromNode(root)
}

func asyncAPIFromNode(root *node) (doc *AsyncAPI, err error) {
	defer func() {
		if r := recover(); r != nil {
			doc, err = nil, errors.New("internal error while reading the definition")
		}
	}()
	version, ok := root.get("asyncapi").scalar()
	if !ok {
		return nil, errors.New(`it has no "asyncapi" version field`)
	}
	r := newResolver(root)
	p := &asyncParser{
		root:   root,
		r:      r,
		ids:    newIDs(),
		v3:     !strings.HasPrefix(version, "2.") && !strings.HasPrefix(version, "1."),
		schema: &schemaBuilder{r: r, refIDs: map[*node]string{}, expandRefs: true, budget: asyncBudget},
	}
	doc = &AsyncAPI{
		Info:               readInfo(root, "AsyncAPI "+version),
		DefaultContentType: root.s("defaultContentType"),
	}
	p.defaultContentType = doc.DefaultContentType
	doc.Servers = p.servers(root.get("servers"))
	if p.v3 {
		p.channels3(doc)
	} else {
		p.channels2(doc)
	}
	doc.Abbreviated = p.schema.abbreviated
	doc.OmittedMessages = p.omitted
	return doc, nil
}

type asyncParser struct {
	root               *node
	r                  *resolver
	ids                *ids
	v3                 bool
	schema             *schemaBuilder
	defaultContentType string
	messages           int // messages shown so far
	omitted            int // messages left out (over maxTotalMessages)
}

func (p *asyncParser) servers(list *node) []Server {
	var out []Server
	add := func(name string, n *node) {
		t, _, broken := p.r.deref(n)
		if broken || !t.isMap() || len(out) >= maxAsyncServer {
			return
		}
		s := Server{Name: name, Protocol: t.s("protocol"), Description: t.s("description")}
		if v := t.s("protocolVersion"); v != "" && s.Protocol != "" {
			s.Protocol += " " + v
		}
		if p.v3 {
			s.URL = t.s("host") + t.s("pathname")
		} else {
			s.URL = t.s("url")
		}
		out = append(out, s)
	}
	if list.isMap() {
		for i, name := range list.mkeys() {
			add(name, list.vals[i])
		}
	} else {
		for _, n := range list.items() { // AsyncAPI 1.x listed servers
			add("", n)
		}
	}
	return out
}

func (p *asyncParser) channelBase(name string, ch *node) *Channel {
	c := &Channel{
		ID:          p.ids.make("channel", name),
		Name:        name,
		Address:     name,
		Description: ch.s("description"),
	}
	if p.v3 {
		if a, ok := ch.get("address").scalar(); ok && a != "" {
			c.Address = a
		}
	}
	ps := ch.get("parameters")
	for i, pname := range ps.mkeys() {
		if i >= maxParams {
			break
		}
		t, _, broken := p.r.deref(ps.vals[i])
		if broken || !t.isMap() {
			continue
		}
		prm := Param{Name: pname, Description: t.s("description")}
		if sc := t.get("schema"); sc != nil {
			prm.Schema = p.schema.build(sc, "", 0)
		} else if t.has("enum") || t.has("default") {
			// 3.x parameters carry enum/default themselves.
			prm.Schema = p.schema.build(t, "", 0)
			prm.Schema.Description = ""
			prm.Schema.Type = "string"
		}
		c.Params = append(c.Params, prm)
	}
	return c
}

func (p *asyncParser) channels2(doc *AsyncAPI) {
	chs := p.root.get("channels")
	for i, name := range chs.mkeys() {
		if i >= maxChannels {
			doc.OmittedChannels = len(chs.keys) - i
			break
		}
		ch, _, broken := p.r.deref(chs.vals[i])
		if broken || !ch.isMap() {
			continue
		}
		c := p.channelBase(name, ch)
		for j, k := range ch.mkeys() {
			if k != "publish" && k != "subscribe" {
				continue
			}
			on, _, broken := p.r.deref(ch.vals[j])
			if broken || !on.isMap() {
				continue
			}
			op := &AsyncOp{
				Action:      k,
				OperationID: on.s("operationId"),
				Summary:     on.s("summary"),
				Description: on.s("description"),
			}
			op.ID = p.ids.make("op", firstNonEmpty(op.OperationID, k+"-"+name))
			m, ref, broken := p.r.deref(on.get("message"))
			if !broken && m.isMap() {
				if alts := m.get("oneOf"); alts.isSeq() {
					for _, alt := range alts.items() {
						if len(op.Messages) >= maxMessages {
							break
						}
						am, aref, broken := p.r.deref(alt)
						if !broken && am.isMap() {
							op.Messages = appendMessage(op.Messages, p.message(am, refName(aref)))
						}
					}
				} else {
					op.Messages = appendMessage(op.Messages, p.message(m, refName(ref)))
				}
			} else if broken {
				op.Messages = append(op.Messages, &Message{Name: ref, Description: "Unresolved reference."})
			}
			c.Ops = append(c.Ops, op)
		}
		doc.Channels = append(doc.Channels, c)
	}
}

func (p *asyncParser) channels3(doc *AsyncAPI) {
	chs := p.root.get("channels")
	byNode := map[*node]*Channel{}
	for i, name := range chs.mkeys() {
		if i >= maxChannels {
			doc.OmittedChannels = len(chs.keys) - i
			break
		}
		ch, _, broken := p.r.deref(chs.vals[i])
		if broken || !ch.isMap() {
			continue
		}
		c := p.channelBase(name, ch)
		c.Messages = p.messageMap(ch.get("messages"))
		byNode[ch] = c
		byNode[chs.vals[i]] = c
		doc.Channels = append(doc.Channels, c)
	}
	ops := p.root.get("operations")
	for i, name := range ops.mkeys() {
		on, _, broken := p.r.deref(ops.vals[i])
		if broken || !on.isMap() {
			continue
		}
		op := &AsyncOp{
			ID:          p.ids.make("op", name),
			Action:      on.s("action"),
			OperationID: name,
			Summary:     firstNonEmpty(on.s("summary"), on.s("title")),
			Description: on.s("description"),
		}
		chn, chRef, broken := p.r.deref(on.get("channel"))
		var c *Channel
		if !broken && chn != nil {
			c = byNode[chn]
			if c == nil && chn.isMap() && len(doc.Channels) < maxChannels {
				// A channel outside "channels" (components, say).
				c = p.channelBase(firstNonEmpty(refName(chRef), "channel of "+name), chn)
				c.Messages = p.messageMap(chn.get("messages"))
				byNode[chn] = c
				doc.Channels = append(doc.Channels, c)
			}
		}
		if c == nil {
			// One entry for all operations whose channel is missing or
			// cannot be resolved.
			c = byNode[nil]
			if c == nil {
				label := "(no known channel)"
				c = &Channel{ID: p.ids.make("channel", "unknown"), Name: label, Address: label}
				byNode[nil] = c
				doc.Channels = append(doc.Channels, c)
			}
		}
		if len(c.Ops) >= maxAsyncOps {
			continue
		}
		for _, mref := range on.get("messages").items() {
			if len(op.Messages) >= maxMessages {
				break
			}
			m, ref, broken := p.r.deref(mref)
			if broken || !m.isMap() {
				op.Messages = append(op.Messages, &Message{Name: ref, Description: "Unresolved reference."})
				continue
			}
			op.Messages = appendMessage(op.Messages, p.message(m, refName(ref)))
		}
		if len(op.Messages) == 0 {
			// Shown once, with the channel.
			op.AllMessages = true
		}
		c.Ops = append(c.Ops, op)
	}
}

func (p *asyncParser) messageMap(ms *node) []*Message {
	var out []*Message
	for i, key := range ms.mkeys() {
		if i >= maxMessages {
			break
		}
		m, _, broken := p.r.deref(ms.vals[i])
		if broken || !m.isMap() {
			continue
		}
		out = appendMessage(out, p.message(m, key))
	}
	return out
}

// message reads a message object; fallback names it when it has no name.
// Past maxTotalMessages it returns nil.
func (p *asyncParser) message(m *node, fallback string) *Message {
	if p.messages >= maxTotalMessages {
		p.omitted++
		return nil
	}
	p.messages++
	// Traits add fields the message itself does not set.
	get := func(key string) *node {
		if v := m.get(key); v != nil {
			return v
		}
		for _, tr := range m.get("traits").items() {
			t, _, broken := p.r.deref(tr)
			if broken {
				continue
			}
			if v := t.get(key); v != nil {
				return v
			}
		}
		return nil
	}
	str := func(key string) string { v, _ := get(key).scalar(); return v }
	msg := &Message{
		Name:        firstNonEmpty(str("name"), str("messageId"), fallback),
		Title:       str("title"),
		Summary:     str("summary"),
		Description: str("description"),
		ContentType: firstNonEmpty(str("contentType"), p.defaultContentType),
	}
	if h := get("headers"); h != nil {
		msg.Headers = p.schema.build(multiFormat(h), "", 0)
	}
	if pl := get("payload"); pl != nil {
		msg.Payload = p.schema.build(multiFormat(pl), "", 0)
	}
	return msg
}

func appendMessage(list []*Message, m *Message) []*Message {
	if m == nil {
		return list
	}
	return append(list, m)
}

// multiFormat unwraps an AsyncAPI 3 multi-format schema object
// ({schemaFormat, schema}).
func multiFormat(n *node) *node {
	if n.has("schemaFormat") && n.has("schema") {
		return n.get("schema")
	}
	return n
}

func firstNonEmpty(ss ...string) string {
	for _, s := range ss {
		if s != "" {
			return s
		}
	}
	return ""
}
