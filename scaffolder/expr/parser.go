package expr

import (
	"strconv"
)

// ---- expression nodes ---------------------------------------------------

type node interface{ position() int }

type (
	litNode struct {
		pos int
		val any
	}
	nameNode struct {
		pos  int
		name string
	}
	arrayNode struct {
		pos   int
		items []node
	}
	dictNode struct {
		pos  int
		keys []node
		vals []node
	}
	memberNode struct { // obj.name or obj[expr]
		pos   int
		obj   node
		key   node
		dot   bool
		label string // dotted path for error messages
	}
	sliceNode struct {
		pos              int
		obj              node
		start, stop, stp node
	}
	callNode struct {
		pos    int
		fn     node
		args   []node
		kwKeys []string
		kwVals []node
	}
	filterNode struct {
		pos    int
		name   string
		input  node
		args   []node
		kwKeys []string
		kwVals []node
	}
	unaryNode struct {
		pos int
		op  string
		x   node
	}
	binNode struct {
		pos  int
		op   string
		l, r node
	}
	condNode struct {
		pos           int
		cond, yes, no node
		hasElse       bool
	}
	testNode struct {
		pos  int
		x    node
		name string
		neg  bool
		args []node
	}
	regexNode struct {
		pos          int
		source, flag string
	}
)

func (n *litNode) position() int    { return n.pos }
func (n *nameNode) position() int   { return n.pos }
func (n *arrayNode) position() int  { return n.pos }
func (n *dictNode) position() int   { return n.pos }
func (n *memberNode) position() int { return n.pos }
func (n *sliceNode) position() int  { return n.pos }
func (n *callNode) position() int   { return n.pos }
func (n *filterNode) position() int { return n.pos }
func (n *unaryNode) position() int  { return n.pos }
func (n *binNode) position() int    { return n.pos }
func (n *condNode) position() int   { return n.pos }
func (n *testNode) position() int   { return n.pos }
func (n *regexNode) position() int  { return n.pos }

// ---- statement nodes ----------------------------------------------------

type stmt interface{}

type (
	textStmt   struct{ text string }
	outputStmt struct {
		pos int
		x   node
	}
	ifStmt struct {
		conds  []node
		bodies [][]stmt
		els    []stmt
	}
	forStmt struct {
		pos   int
		names []string
		iter  node
		body  []stmt
		els   []stmt
	}
	setStmt struct {
		pos   int
		names []string
		x     node   // nil for block set
		body  []stmt // block set
	}
	macroStmt struct {
		pos      int
		name     string
		params   []string
		defaults []node
		body     []stmt
	}
	filterStmt struct {
		filter *filterNode // input is nil placeholder
		body   []stmt
	}
)

const maxDepth = 200

type parser struct {
	lx    *lexer
	toks  []token
	i     int
	depth int
}

func (p *parser) peek() token { return p.toks[p.i] }
func (p *parser) next() token {
	t := p.toks[p.i]
	if p.i < len(p.toks)-1 {
		p.i++
	}
	return t
}
func (p *parser) isOp(v string) bool {
	t := p.peek()
	return t.kind == tOp && t.val == v
}
func (p *parser) isName(v string) bool {
	t := p.peek()
	return t.kind == tName && t.val == v
}
func (p *parser) expectOp(v string) error {
	t := p.peek()
	if t.kind != tOp || t.val != v {
		return p.lx.errAt(t.pos, "Expected %s", v)
	}
	p.next()
	return nil
}

func (p *parser) enter() error {
	p.depth++
	if p.depth > maxDepth {
		return p.lx.errAt(p.peek().pos, "Expression nested too deeply")
	}
	return nil
}

func (p *parser) parseExpr() (node, error) {
	if err := p.enter(); err != nil {
		return nil, err
	}
	defer func() { p.depth-- }()
	return p.parseInlineIf()
}

func (p *parser) parseInlineIf() (node, error) {
	x, err := p.parseOr()
	if err != nil {
		return nil, err
	}
	if p.isName("if") {
		t := p.next()
		cond, err := p.parseOr()
		if err != nil {
			return nil, err
		}
		c := &condNode{pos: t.pos, cond: cond, yes: x}
		if p.isName("else") {
			p.next()
			no, err := p.parseInlineIf()
			if err != nil {
				return nil, err
			}
			c.no, c.hasElse = no, true
		}
		return c, nil
	}
	return x, nil
}

func (p *parser) parseOr() (node, error) {
	x, err := p.parseAnd()
	if err != nil {
		return nil, err
	}
	for p.isName("or") {
		t := p.next()
		y, err := p.parseAnd()
		if err != nil {
			return nil, err
		}
		x = &binNode{pos: t.pos, op: "or", l: x, r: y}
	}
	return x, nil
}

func (p *parser) parseAnd() (node, error) {
	x, err := p.parseNot()
	if err != nil {
		return nil, err
	}
	for p.isName("and") {
		t := p.next()
		y, err := p.parseNot()
		if err != nil {
			return nil, err
		}
		x = &binNode{pos: t.pos, op: "and", l: x, r: y}
	}
	return x, nil
}

func (p *parser) parseNot() (node, error) {
	if p.isName("not") {
		t := p.next()
		if err := p.enter(); err != nil {
			return nil, err
		}
		x, err := p.parseNot()
		p.depth--
		if err != nil {
			return nil, err
		}
		return &unaryNode{pos: t.pos, op: "not", x: x}, nil
	}
	return p.parseIn()
}

func (p *parser) parseIn() (node, error) {
	x, err := p.parseIs()
	if err != nil {
		return nil, err
	}
	for {
		if p.isName("in") {
			t := p.next()
			y, err := p.parseIs()
			if err != nil {
				return nil, err
			}
			x = &binNode{pos: t.pos, op: "in", l: x, r: y}
			continue
		}
		if p.isName("not") && p.i+1 < len(p.toks) && p.toks[p.i+1].kind == tName && p.toks[p.i+1].val == "in" {
			t := p.next()
			p.next()
			y, err := p.parseIs()
			if err != nil {
				return nil, err
			}
			x = &unaryNode{pos: t.pos, op: "not", x: &binNode{pos: t.pos, op: "in", l: x, r: y}}
			continue
		}
		return x, nil
	}
}

func (p *parser) parseIs() (node, error) {
	x, err := p.parseCompare()
	if err != nil {
		return nil, err
	}
	if p.isName("is") {
		p.next()
		neg := false
		if p.isName("not") {
			p.next()
			neg = true
		}
		t := p.next()
		if t.kind != tName {
			return nil, p.lx.errAt(t.pos, "Expected test name")
		}
		tn := &testNode{pos: t.pos, x: x, name: t.val, neg: neg}
		if p.isOp("(") {
			args, _, _, err := p.parseArgs()
			if err != nil {
				return nil, err
			}
			tn.args = args
		} else if t := p.peek(); t.kind == tNumber || t.kind == tString {
			// "is divisibleby 3" style single argument
			y, err := p.parsePrimary()
			if err != nil {
				return nil, err
			}
			tn.args = []node{y}
		}
		return tn, nil
	}
	return x, nil
}

var compareOps = map[string]bool{"==": true, "===": true, "!=": true, "!==": true, "<": true, ">": true, "<=": true, ">=": true}

func (p *parser) parseCompare() (node, error) {
	x, err := p.parseConcat()
	if err != nil {
		return nil, err
	}
	for {
		t := p.peek()
		if t.kind != tOp || !compareOps[t.val] {
			return x, nil
		}
		p.next()
		y, err := p.parseConcat()
		if err != nil {
			return nil, err
		}
		x = &binNode{pos: t.pos, op: t.val, l: x, r: y}
	}
}

func (p *parser) parseConcat() (node, error) {
	x, err := p.parseAdd()
	if err != nil {
		return nil, err
	}
	for p.isOp("~") {
		t := p.next()
		y, err := p.parseAdd()
		if err != nil {
			return nil, err
		}
		x = &binNode{pos: t.pos, op: "~", l: x, r: y}
	}
	return x, nil
}

func (p *parser) parseAdd() (node, error) {
	x, err := p.parseMul()
	if err != nil {
		return nil, err
	}
	for p.isOp("+") || p.isOp("-") {
		t := p.next()
		y, err := p.parseMul()
		if err != nil {
			return nil, err
		}
		x = &binNode{pos: t.pos, op: t.val, l: x, r: y}
	}
	return x, nil
}

func (p *parser) parseMul() (node, error) {
	x, err := p.parsePow()
	if err != nil {
		return nil, err
	}
	for p.isOp("*") || p.isOp("/") || p.isOp("//") || p.isOp("%") {
		t := p.next()
		y, err := p.parsePow()
		if err != nil {
			return nil, err
		}
		x = &binNode{pos: t.pos, op: t.val, l: x, r: y}
	}
	return x, nil
}

func (p *parser) parsePow() (node, error) {
	x, err := p.parseUnary(false)
	if err != nil {
		return nil, err
	}
	for p.isOp("**") {
		t := p.next()
		y, err := p.parseUnary(false)
		if err != nil {
			return nil, err
		}
		x = &binNode{pos: t.pos, op: "**", l: x, r: y}
	}
	return x, nil
}

func (p *parser) parseUnary(noFilters bool) (node, error) {
	var x node
	var err error
	if p.isOp("-") || p.isOp("+") {
		t := p.next()
		if err := p.enter(); err != nil {
			return nil, err
		}
		y, err := p.parseUnary(true)
		p.depth--
		if err != nil {
			return nil, err
		}
		x = &unaryNode{pos: t.pos, op: t.val, x: y}
	} else {
		x, err = p.parsePrimary()
		if err != nil {
			return nil, err
		}
	}
	if !noFilters {
		return p.parseFilters(x)
	}
	return x, nil
}

func (p *parser) parseFilters(x node) (node, error) {
	for p.isOp("|") {
		p.next()
		t := p.next()
		if t.kind != tName {
			return nil, p.lx.errAt(t.pos, "Expected filter name")
		}
		name := t.val
		for p.isOp(".") {
			p.next()
			n := p.next()
			name += "." + n.val
		}
		f := &filterNode{pos: t.pos, name: name, input: x}
		if p.isOp("(") {
			args, kk, kv, err := p.parseArgs()
			if err != nil {
				return nil, err
			}
			f.args, f.kwKeys, f.kwVals = args, kk, kv
		}
		x = f
	}
	return x, nil
}

// parseArgs parses "(a, b, k=v)"; the current token is "(".
func (p *parser) parseArgs() ([]node, []string, []node, error) {
	if err := p.expectOp("("); err != nil {
		return nil, nil, nil, err
	}
	var args []node
	var kk []string
	var kv []node
	for !p.isOp(")") {
		if len(args)+len(kk) > 0 {
			if err := p.expectOp(","); err != nil {
				return nil, nil, nil, err
			}
			if p.isOp(")") {
				break
			}
		}
		t := p.peek()
		if t.kind == tName && p.i+1 < len(p.toks) && p.toks[p.i+1].kind == tOp && p.toks[p.i+1].val == "=" {
			p.next()
			p.next()
			v, err := p.parseExpr()
			if err != nil {
				return nil, nil, nil, err
			}
			kk = append(kk, t.val)
			kv = append(kv, v)
			continue
		}
		if t.kind == tEnd || t.kind == tEOF {
			return nil, nil, nil, p.lx.errAt(t.pos, "Expected )")
		}
		v, err := p.parseExpr()
		if err != nil {
			return nil, nil, nil, err
		}
		args = append(args, v)
	}
	p.next()
	return args, kk, kv, nil
}

func label(n node) string {
	switch x := n.(type) {
	case *nameNode:
		return x.name
	case *memberNode:
		return x.label
	}
	return ""
}

func (p *parser) parsePrimary() (node, error) {
	if err := p.enter(); err != nil {
		return nil, err
	}
	defer func() { p.depth-- }()
	t := p.next()
	var x node
	switch t.kind {
	case tNumber:
		f, err := strconv.ParseFloat(t.val, 64)
		if err != nil {
			return nil, p.lx.errAt(t.pos, "Invalid numeric literal")
		}
		x = &litNode{pos: t.pos, val: f}
	case tString:
		x = &litNode{pos: t.pos, val: t.val}
	case tRegex:
		x = &regexNode{pos: t.pos, source: t.val, flag: t.flags}
	case tName:
		switch t.val {
		case "true", "True":
			x = &litNode{pos: t.pos, val: true}
		case "false", "False":
			x = &litNode{pos: t.pos, val: false}
		case "none", "None", "null":
			x = &litNode{pos: t.pos, val: nil}
		default:
			if reserved[t.val] {
				return nil, p.lx.errAt(t.pos, "Template name %q is reserved", t.val)
			}
			x = &nameNode{pos: t.pos, name: t.val}
		}
	case tOp:
		switch t.val {
		case "(":
			y, err := p.parseExpr()
			if err != nil {
				return nil, err
			}
			if p.isOp(",") { // tuple -> array
				items := []node{y}
				for p.isOp(",") {
					p.next()
					if p.isOp(")") {
						break
					}
					z, err := p.parseExpr()
					if err != nil {
						return nil, err
					}
					items = append(items, z)
				}
				y = &arrayNode{pos: t.pos, items: items}
			}
			if err := p.expectOp(")"); err != nil {
				return nil, err
			}
			x = y
		case "[":
			a := &arrayNode{pos: t.pos}
			for !p.isOp("]") {
				if len(a.items) > 0 {
					if !p.isOp(",") {
						return nil, p.lx.errAt(p.peek().pos, "Expected ]")
					}
					p.next()
					if p.isOp("]") {
						break
					}
				}
				if k := p.peek().kind; k == tEnd || k == tEOF {
					return nil, p.lx.errAt(p.peek().pos, "Expected ]")
				}
				y, err := p.parseExpr()
				if err != nil {
					return nil, err
				}
				a.items = append(a.items, y)
			}
			p.next()
			x = a
		case "{":
			d := &dictNode{pos: t.pos}
			for !p.isOp("}") {
				if len(d.keys) > 0 {
					if !p.isOp(",") {
						return nil, p.lx.errAt(p.peek().pos, "Expected }")
					}
					p.next()
					if p.isOp("}") {
						break
					}
				}
				kt := p.peek()
				var key node
				switch kt.kind {
				case tName:
					p.next()
					key = &litNode{pos: kt.pos, val: kt.val}
				case tString:
					p.next()
					key = &litNode{pos: kt.pos, val: kt.val}
				case tNumber:
					p.next()
					f, _ := strconv.ParseFloat(kt.val, 64)
					key = &litNode{pos: kt.pos, val: formatNumber(f)}
				default:
					return nil, p.lx.errAt(kt.pos, "Expected }")
				}
				if err := p.expectOp(":"); err != nil {
					return nil, err
				}
				v, err := p.parseExpr()
				if err != nil {
					return nil, err
				}
				d.keys = append(d.keys, key)
				d.vals = append(d.vals, v)
			}
			p.next()
			x = d
		default:
			return nil, p.lx.errAt(t.pos, "Unexpected token %q", t.val)
		}
	case tEnd, tEOF:
		return nil, p.lx.errAt(t.pos, "Unexpected end of expression")
	}
	return p.parsePostfix(x)
}

var reserved = map[string]bool{"constructor": true, "__proto__": true, "prototype": true}

func (p *parser) parsePostfix(x node) (node, error) {
	for {
		t := p.peek()
		if t.kind != tOp {
			return x, nil
		}
		switch t.val {
		case ".":
			p.next()
			n := p.next()
			if n.kind != tName && n.kind != tNumber {
				return nil, p.lx.errAt(n.pos, "Expected name after .")
			}
			if reserved[n.val] {
				return nil, p.lx.errAt(n.pos, "Template name %q is reserved", n.val)
			}
			var key any = n.val
			x = &memberNode{pos: n.pos, obj: x, key: &litNode{pos: n.pos, val: key}, dot: true, label: label(x) + "." + n.val}
		case "[":
			p.next()
			var start node
			var err error
			if !p.isOp(":") {
				start, err = p.parseExpr()
				if err != nil {
					return nil, err
				}
			}
			if p.isOp(":") {
				s := &sliceNode{pos: t.pos, obj: x, start: start}
				p.next()
				if !p.isOp("]") && !p.isOp(":") {
					if s.stop, err = p.parseExpr(); err != nil {
						return nil, err
					}
				}
				if p.isOp(":") {
					p.next()
					if !p.isOp("]") {
						if s.stp, err = p.parseExpr(); err != nil {
							return nil, err
						}
					}
				}
				if err := p.expectOp("]"); err != nil {
					return nil, err
				}
				x = s
				continue
			}
			if err := p.expectOp("]"); err != nil {
				return nil, err
			}
			if l, ok := start.(*litNode); ok {
				if s, ok := l.val.(string); ok && reserved[s] {
					return nil, p.lx.errAt(l.pos, "Template name %q is reserved", s)
				}
			}
			lbl := label(x) + "[]"
			x = &memberNode{pos: t.pos, obj: x, key: start, label: lbl}
		case "(":
			args, kk, kv, err := p.parseArgs()
			if err != nil {
				return nil, err
			}
			x = &callNode{pos: x.position(), fn: x, args: args, kwKeys: kk, kwVals: kv}
		default:
			return x, nil
		}
	}
}

// ---- statements ---------------------------------------------------------

type blockParser struct {
	lx   *lexer
	segs []segment
	i    int
}

func (bp *blockParser) exprParser(s segment, from int) *parser {
	return &parser{lx: bp.lx, toks: s.toks, i: from}
}

// parseBody parses statements until one of the end tags; returns the tag name found.
func (bp *blockParser) parseBody(ends ...string) ([]stmt, string, *parser, error) {
	var out []stmt
	for bp.i < len(bp.segs) {
		s := bp.segs[bp.i]
		bp.i++
		switch s.kind {
		case segText:
			if s.text != "" {
				out = append(out, &textStmt{text: s.text})
			}
		case -1:
		case segVar:
			p := bp.exprParser(s, 0)
			x, err := p.parseExpr()
			if err != nil {
				return nil, "", nil, err
			}
			if p.peek().kind != tEnd {
				return nil, "", nil, bp.lx.errAt(p.peek().pos, "Expected variable end")
			}
			out = append(out, &outputStmt{pos: s.pos, x: x})
		case segBlock:
			if len(s.toks) == 0 || s.toks[0].kind != tName {
				return nil, "", nil, bp.lx.errAt(s.pos, "Expected block tag name")
			}
			name := s.toks[0].val
			for _, e := range ends {
				if e == name {
					return out, name, bp.exprParser(s, 1), nil
				}
			}
			st, err := bp.parseTag(s, name)
			if err != nil {
				return nil, "", nil, err
			}
			if st != nil {
				out = append(out, st)
			}
		}
	}
	return out, "", nil, nil
}

func endOfTag(p *parser) error {
	if t := p.peek(); t.kind != tEnd {
		return p.lx.errAt(t.pos, "Expected block end")
	}
	return nil
}

func (bp *blockParser) parseTag(s segment, name string) (stmt, error) {
	p := bp.exprParser(s, 1)
	missing := func(end string) error { return bp.lx.errAt(s.pos, "Missing %s tag", end) }
	switch name {
	case "include", "import", "extends", "from":
		return nil, bp.lx.errAt(s.pos, "Unsupported template-loading tag %q", name)
	case "if":
		st := &ifStmt{}
		cond, err := p.parseExpr()
		if err != nil {
			return nil, err
		}
		if err := endOfTag(p); err != nil {
			return nil, err
		}
		for {
			body, end, np, err := bp.parseBody("elif", "elseif", "else", "endif")
			if err != nil {
				return nil, err
			}
			if end == "" {
				return nil, missing("endif")
			}
			if cond != nil {
				st.conds = append(st.conds, cond)
				st.bodies = append(st.bodies, body)
			} else {
				st.els = body
			}
			switch end {
			case "endif":
				return st, nil
			case "else":
				if cond == nil {
					return nil, bp.lx.errAt(s.pos, "Unexpected else")
				}
				cond = nil
			default:
				if cond == nil {
					return nil, bp.lx.errAt(s.pos, "Unexpected elif")
				}
				if cond, err = np.parseExpr(); err != nil {
					return nil, err
				}
			}
		}
	case "for", "asyncEach", "asyncAll":
		st := &forStmt{pos: s.pos}
		for {
			t := p.next()
			if t.kind != tName {
				return nil, bp.lx.errAt(t.pos, "Expected loop variable name")
			}
			st.names = append(st.names, t.val)
			if !p.isOp(",") {
				break
			}
			p.next()
		}
		if !p.isName("in") {
			return nil, bp.lx.errAt(p.peek().pos, "Expected \"in\" keyword for loop")
		}
		p.next()
		it, err := p.parseExpr()
		if err != nil {
			return nil, err
		}
		st.iter = it
		body, end, _, err := bp.parseBody("else", "endfor")
		if err != nil {
			return nil, err
		}
		st.body = body
		if end == "else" {
			els, end2, _, err := bp.parseBody("endfor")
			if err != nil {
				return nil, err
			}
			end = end2
			st.els = els
		}
		if end == "" {
			return nil, missing("endfor")
		}
		return st, nil
	case "set":
		st := &setStmt{pos: s.pos}
		for {
			t := p.next()
			if t.kind != tName {
				return nil, bp.lx.errAt(t.pos, "Expected variable name in set")
			}
			st.names = append(st.names, t.val)
			if !p.isOp(",") {
				break
			}
			p.next()
		}
		if p.isOp("=") {
			p.next()
			x, err := p.parseExpr()
			if err != nil {
				return nil, err
			}
			st.x = x
			return st, endOfTag(p)
		}
		body, end, _, err := bp.parseBody("endset")
		if err != nil {
			return nil, err
		}
		if end == "" {
			return nil, missing("endset")
		}
		st.body = body
		return st, nil
	case "macro":
		t := p.next()
		if t.kind != tName {
			return nil, bp.lx.errAt(t.pos, "Expected macro name")
		}
		st := &macroStmt{pos: s.pos, name: t.val}
		if p.isOp("(") {
			p.next()
			for !p.isOp(")") {
				if len(st.params) > 0 {
					if err := p.expectOp(","); err != nil {
						return nil, err
					}
				}
				a := p.next()
				if a.kind != tName {
					return nil, bp.lx.errAt(a.pos, "Expected macro argument name")
				}
				st.params = append(st.params, a.val)
				var def node
				if p.isOp("=") {
					p.next()
					d, err := p.parseExpr()
					if err != nil {
						return nil, err
					}
					def = d
				}
				st.defaults = append(st.defaults, def)
			}
			p.next()
		}
		body, end, _, err := bp.parseBody("endmacro")
		if err != nil {
			return nil, err
		}
		if end == "" {
			return nil, missing("endmacro")
		}
		st.body = body
		return st, nil
	case "filter":
		fx, err := p.parseFilters(&litNode{pos: s.pos, val: ""})
		if err != nil {
			return nil, err
		}
		t := p.peek()
		if t.kind == tName {
			// "{% filter upper %}" has no "|": parse the name directly
			p.next()
			f := &filterNode{pos: t.pos, name: t.val}
			if p.isOp("(") {
				args, kk, kv, err := p.parseArgs()
				if err != nil {
					return nil, err
				}
				f.args, f.kwKeys, f.kwVals = args, kk, kv
			}
			fx = f
		}
		f, ok := fx.(*filterNode)
		if !ok {
			return nil, bp.lx.errAt(s.pos, "Expected filter name")
		}
		body, end, _, err := bp.parseBody("endfilter")
		if err != nil {
			return nil, err
		}
		if end == "" {
			return nil, missing("endfilter")
		}
		return &filterStmt{filter: f, body: body}, nil
	case "raw", "verbatim":
		body, end, _, err := bp.parseBody("end" + name)
		if err != nil {
			return nil, err
		}
		if end == "" {
			return nil, missing("end" + name)
		}
		return &ifStmt{conds: []node{&litNode{val: true}}, bodies: [][]stmt{body}}, nil
	}
	return nil, bp.lx.errAt(s.pos, "Unknown block tag %q", name)
}
