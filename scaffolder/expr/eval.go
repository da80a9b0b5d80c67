package expr

import (
	"fmt"
	"math"
	"regexp"
	"strconv"
	"strings"
	"unicode/utf16"
)

// Func is a callable template value (global function, method, macro).
type Func func(c *callCtx, args []any, kw *Object) (any, error)

type callCtx struct {
	r   *renderer
	pos int
}

const (
	maxSteps  = 1_000_000
	maxOutput = 1 << 20
	maxCalls  = 100
	maxArray  = 100_000
)

type frame struct {
	vars   map[string]any
	parent *frame
}

func (f *frame) lookup(name string) (any, bool) {
	for ; f != nil; f = f.parent {
		if v, ok := f.vars[name]; ok {
			return v, true
		}
	}
	return nil, false
}

type renderer struct {
	lx      *lexer
	ctx     *Object
	globals map[string]any
	opts    *Options
	steps   int
	outLen  int
	calls   int
}

type jsRegex struct {
	source, flags string
	re            *regexp.Regexp
}

func newRegex(source, flags string) (*jsRegex, error) {
	prefix := ""
	for _, f := range flags {
		switch f {
		case 'i':
			prefix += "i"
		case 'm':
			prefix += "m"
		case 's':
			prefix += "s"
		}
	}
	src := source
	if prefix != "" {
		src = "(?" + prefix + ")" + src
	}
	re, err := regexp.Compile(src)
	if err != nil {
		return nil, err
	}
	return &jsRegex{source: source, flags: flags, re: re}, nil
}

func (r *jsRegex) global() bool { return strings.Contains(r.flags, "g") }

func (r *renderer) errAt(pos int, format string, a ...any) *Error {
	return r.lx.errAt(pos, format, a...)
}

func (r *renderer) step(pos int) error {
	r.steps++
	if r.steps > maxSteps {
		return r.errAt(pos, "Template exceeded the evaluation step limit")
	}
	return nil
}

// cost is the work a value stands for: one unit per array element or
// object key, one per 64 bytes of a string.
func cost(v any) int {
	switch x := v.(type) {
	case string:
		return len(x) / 64
	case []any:
		return len(x)
	case *Object:
		return x.Len()
	}
	return 0
}

// charge counts the size of values an operation consumed or produced
// against the step limit. Security: a single step (a range() call, a
// filter or method over a large list or string, a slice, a concatenation)
// does work proportional to its data; counting only steps let a loop of
// such operations run for minutes or hours (e.g. 100,000 iterations of
// range(0, 99999)), so their sizes are charged too.
func (r *renderer) charge(pos int, vs ...any) error {
	for _, v := range vs {
		r.steps += cost(v)
	}
	if r.steps > maxSteps {
		return r.errAt(pos, "Template exceeded the evaluation step limit")
	}
	return nil
}

// ---- statements ---------------------------------------------------------

func (r *renderer) write(b *strings.Builder, s string, pos int) error {
	r.outLen += len(s)
	if r.outLen > maxOutput {
		return r.errAt(pos, "Template output exceeds %d bytes", maxOutput)
	}
	b.WriteString(s)
	return nil
}

func (r *renderer) exec(body []stmt, f *frame, b *strings.Builder) error {
	for _, s := range body {
		if err := r.step(0); err != nil {
			return err
		}
		switch st := s.(type) {
		case *textStmt:
			if err := r.write(b, st.text, 0); err != nil {
				return err
			}
		case *outputStmt:
			v, err := r.eval(st.x, f)
			if err != nil {
				return err
			}
			out := outputString(v)
			if err := r.charge(st.pos, out); err != nil {
				return err
			}
			if err := r.write(b, out, st.pos); err != nil {
				return err
			}
		case *ifStmt:
			done := false
			for i, c := range st.conds {
				v, err := r.eval(c, f)
				if err != nil {
					return err
				}
				if truthy(v) {
					if err := r.exec(st.bodies[i], f, b); err != nil {
						return err
					}
					done = true
					break
				}
			}
			if !done && st.els != nil {
				if err := r.exec(st.els, f, b); err != nil {
					return err
				}
			}
		case *forStmt:
			if err := r.execFor(st, f, b); err != nil {
				return err
			}
		case *setStmt:
			var v any
			if st.x != nil {
				x, err := r.eval(st.x, f)
				if err != nil {
					return err
				}
				v = x
			} else {
				var sb strings.Builder
				if err := r.exec(st.body, &frame{vars: map[string]any{}, parent: f}, &sb); err != nil {
					return err
				}
				v = sb.String()
			}
			for _, n := range st.names {
				f.vars[n] = v
			}
		case *macroStmt:
			f.vars[st.name] = r.makeMacro(st, f)
		case *filterStmt:
			var sb strings.Builder
			if err := r.exec(st.body, &frame{vars: map[string]any{}, parent: f}, &sb); err != nil {
				return err
			}
			v, err := r.applyFilter(st.filter, sb.String(), f)
			if err != nil {
				return err
			}
			if err := r.write(b, outputString(v), st.filter.pos); err != nil {
				return err
			}
		}
	}
	return nil
}

func (r *renderer) execFor(st *forStmt, f *frame, b *strings.Builder) error {
	it, err := r.eval(st.iter, f)
	if err != nil {
		return err
	}
	type item struct{ vals []any }
	var items []item
	switch x := it.(type) {
	case []any:
		for _, e := range x {
			if len(st.names) > 1 {
				arr, _ := e.([]any)
				vals := make([]any, len(st.names))
				for i := range vals {
					if i < len(arr) {
						vals[i] = arr[i]
					} else {
						vals[i] = Undefined
					}
				}
				items = append(items, item{vals})
			} else {
				items = append(items, item{[]any{e}})
			}
		}
	case *Object:
		for _, k := range x.keys {
			if len(st.names) > 1 {
				items = append(items, item{[]any{k, x.vals[k]}})
			} else {
				items = append(items, item{[]any{k}})
			}
		}
	case string:
		for _, c := range x {
			items = append(items, item{[]any{string(c)}})
		}
	}
	if len(items) == 0 {
		if st.els != nil {
			return r.exec(st.els, f, b)
		}
		return nil
	}
	n := len(items)
	for i, itm := range items {
		// Security: every iteration is a step, even with an empty body,
		// so nested loops over large ranges are bounded.
		if err := r.step(st.pos); err != nil {
			return err
		}
		lf := &frame{vars: map[string]any{}, parent: f}
		for j, name := range st.names {
			if j < len(itm.vals) {
				lf.vars[name] = itm.vals[j]
			} else {
				lf.vars[name] = Undefined
			}
		}
		loop := NewObject()
		loop.Set("index", float64(i+1))
		loop.Set("index0", float64(i))
		loop.Set("revindex", float64(n-i))
		loop.Set("revindex0", float64(n-i-1))
		loop.Set("first", i == 0)
		loop.Set("last", i == n-1)
		loop.Set("length", float64(n))
		lf.vars["loop"] = loop
		if err := r.exec(st.body, lf, b); err != nil {
			return err
		}
	}
	return nil
}

func (r *renderer) makeMacro(st *macroStmt, def *frame) Func {
	return func(c *callCtx, args []any, kw *Object) (any, error) {
		r.calls++
		if r.calls > maxCalls {
			return nil, r.errAt(st.pos, "Maximum macro call depth exceeded")
		}
		defer func() { r.calls-- }()
		mf := &frame{vars: map[string]any{}, parent: def}
		for i, p := range st.params {
			var v any = Undefined
			if i < len(args) {
				v = args[i]
			} else if kw != nil {
				if kv, ok := kw.Get(p); ok {
					v = kv
				} else if st.defaults[i] != nil {
					d, err := r.eval(st.defaults[i], mf)
					if err != nil {
						return nil, err
					}
					v = d
				}
			} else if st.defaults[i] != nil {
				d, err := r.eval(st.defaults[i], mf)
				if err != nil {
					return nil, err
				}
				v = d
			}
			mf.vars[p] = v
		}
		var sb strings.Builder
		if err := r.exec(st.body, mf, &sb); err != nil {
			return nil, err
		}
		return sb.String(), nil
	}
}

// ---- expressions --------------------------------------------------------

func (r *renderer) lookupName(name string, f *frame) any {
	if v, ok := f.lookup(name); ok {
		return v
	}
	if v, ok := r.ctx.Get(name); ok {
		return v
	}
	if v, ok := r.globals[name]; ok {
		return v
	}
	return Undefined
}

func (r *renderer) eval(n node, f *frame) (any, error) {
	if err := r.step(n.position()); err != nil {
		return nil, err
	}
	switch x := n.(type) {
	case *litNode:
		return x.val, nil
	case *regexNode:
		re, err := newRegex(x.source, x.flag)
		if err != nil {
			return nil, r.errAt(x.pos, "Invalid regular expression: %v", err)
		}
		return re, nil
	case *nameNode:
		return r.lookupName(x.name, f), nil
	case *arrayNode:
		out := make([]any, 0, len(x.items))
		for _, it := range x.items {
			v, err := r.eval(it, f)
			if err != nil {
				return nil, err
			}
			out = append(out, v)
		}
		return out, nil
	case *dictNode:
		o := NewObject()
		for i := range x.keys {
			k, err := r.eval(x.keys[i], f)
			if err != nil {
				return nil, err
			}
			v, err := r.eval(x.vals[i], f)
			if err != nil {
				return nil, err
			}
			o.Set(jsString(k), v)
		}
		return o, nil
	case *memberNode:
		obj, err := r.eval(x.obj, f)
		if err != nil {
			return nil, err
		}
		key, err := r.eval(x.key, f)
		if err != nil {
			return nil, err
		}
		if s, ok := key.(string); ok && reserved[s] {
			return nil, r.errAt(x.pos, "Template name %q is reserved", s)
		}
		v := r.member(obj, key)
		if _, isStr := obj.(string); isStr {
			// string members (length, indexing, methods) walk the string
			if err := r.charge(x.pos, obj); err != nil {
				return nil, err
			}
		} else if _, isFn := v.(Func); isFn {
			// a method works on its receiver
			if err := r.charge(x.pos, obj); err != nil {
				return nil, err
			}
		}
		return v, nil
	case *sliceNode:
		obj, err := r.eval(x.obj, f)
		if err != nil {
			return nil, err
		}
		var parts [3]any
		for i, nn := range []node{x.start, x.stop, x.stp} {
			parts[i] = nil
			if nn != nil {
				v, err := r.eval(nn, f)
				if err != nil {
					return nil, err
				}
				parts[i] = v
			}
		}
		if err := r.charge(x.pos, obj); err != nil {
			return nil, err
		}
		res := r.slice(obj, parts[0], parts[1], parts[2])
		if err := r.charge(x.pos, res); err != nil {
			return nil, err
		}
		return res, nil
	case *callNode:
		fn, err := r.eval(x.fn, f)
		if err != nil {
			return nil, err
		}
		args, kw, err := r.evalArgs(x.args, x.kwKeys, x.kwVals, f)
		if err != nil {
			return nil, err
		}
		callable, ok := fn.(Func)
		if !ok {
			lbl := label(x.fn)
			if fn == nil || IsUndefined(fn) {
				return nil, r.errAt(x.pos, "Template value %q resolved to %s and cannot be called", lbl, map[bool]string{true: "undefined", false: "null"}[IsUndefined(fn)])
			}
			return nil, r.errAt(x.pos, "Template value %q is not a function", lbl)
		}
		res, err := callable(&callCtx{r: r, pos: x.pos}, args, kw)
		if err != nil {
			return nil, err
		}
		if err := r.charge(x.pos, res); err != nil {
			return nil, err
		}
		if err := r.charge(x.pos, args...); err != nil {
			return nil, err
		}
		return res, nil
	case *filterNode:
		in, err := r.eval(x.input, f)
		if err != nil {
			return nil, err
		}
		res, err := r.applyFilter(x, in, f)
		if err != nil {
			return nil, err
		}
		if err := r.charge(x.pos, in, res); err != nil {
			return nil, err
		}
		return res, nil
	case *unaryNode:
		v, err := r.eval(x.x, f)
		if err != nil {
			return nil, err
		}
		switch x.op {
		case "not":
			return !truthy(v), nil
		case "-":
			return -toNumber(v), nil
		default:
			return toNumber(v), nil
		}
	case *condNode:
		c, err := r.eval(x.cond, f)
		if err != nil {
			return nil, err
		}
		if truthy(c) {
			return r.eval(x.yes, f)
		}
		if x.hasElse {
			return r.eval(x.no, f)
		}
		return "", nil
	case *testNode:
		v, err := r.eval(x.x, f)
		if err != nil {
			return nil, err
		}
		args, _, err := r.evalArgs(x.args, nil, nil, f)
		if err != nil {
			return nil, err
		}
		res, err := r.runTest(x.name, v, args, x.pos)
		if err != nil {
			return nil, err
		}
		if err := r.charge(x.pos, v); err != nil {
			return nil, err
		}
		return res != x.neg, nil
	case *binNode:
		return r.evalBin(x, f)
	}
	return nil, r.errAt(n.position(), "unknown expression")
}

func (r *renderer) evalArgs(an []node, kk []string, kv []node, f *frame) ([]any, *Object, error) {
	args := make([]any, 0, len(an))
	for _, a := range an {
		v, err := r.eval(a, f)
		if err != nil {
			return nil, nil, err
		}
		args = append(args, v)
	}
	var kw *Object
	if len(kk) > 0 {
		kw = NewObject()
		for i, k := range kk {
			v, err := r.eval(kv[i], f)
			if err != nil {
				return nil, nil, err
			}
			kw.Set(k, v)
		}
	}
	return args, kw, nil
}

func (r *renderer) evalBin(x *binNode, f *frame) (any, error) {
	l, err := r.eval(x.l, f)
	if err != nil {
		return nil, err
	}
	switch x.op {
	case "and":
		if !truthy(l) {
			return l, nil
		}
		return r.eval(x.r, f)
	case "or":
		if truthy(l) {
			return l, nil
		}
		return r.eval(x.r, f)
	}
	rv, err := r.eval(x.r, f)
	if err != nil {
		return nil, err
	}
	// concatenation, comparison and "in" walk their operands
	if err := r.charge(x.pos, l, rv); err != nil {
		return nil, err
	}
	switch x.op {
	case "~":
		a, b := concatString(l), concatString(rv)
		if len(a)+len(b) > maxOutput {
			return nil, r.errAt(x.pos, "String exceeds %d bytes", maxOutput)
		}
		return a + b, nil
	case "+":
		if isPrimitiveString(l) || isPrimitiveString(rv) {
			if len(jsString(l))+len(jsString(rv)) > maxOutput {
				return nil, r.errAt(x.pos, "String exceeds %d bytes", maxOutput)
			}
		}
		return jsAdd(l, rv), nil
	case "-":
		return toNumber(l) - toNumber(rv), nil
	case "*":
		return toNumber(l) * toNumber(rv), nil
	case "/":
		return toNumber(l) / toNumber(rv), nil
	case "//":
		return math.Floor(toNumber(l) / toNumber(rv)), nil
	case "%":
		return math.Mod(toNumber(l), toNumber(rv)), nil
	case "**":
		return math.Pow(toNumber(l), toNumber(rv)), nil
	case "==":
		return looseEqual(l, rv), nil
	case "!=":
		return !looseEqual(l, rv), nil
	case "===":
		return strictEqual(l, rv), nil
	case "!==":
		return !strictEqual(l, rv), nil
	case "<", ">", "<=", ">=":
		c, ok := jsCompare(l, rv)
		if !ok {
			return false, nil
		}
		switch x.op {
		case "<":
			return c < 0, nil
		case ">":
			return c > 0, nil
		case "<=":
			return c <= 0, nil
		}
		return c >= 0, nil
	case "in":
		switch h := rv.(type) {
		case []any:
			for _, e := range h {
				if strictEqual(e, l) {
					return true, nil
				}
			}
			return false, nil
		case string:
			return strings.Contains(h, jsString(l)), nil
		case *Object:
			_, ok := h.Get(jsString(l))
			return ok, nil
		}
		return nil, r.errAt(x.pos, "Cannot use \"in\" operator to search for %q in unexpected types.", jsString(l))
	}
	return nil, r.errAt(x.pos, "unknown operator %s", x.op)
}

// concatString is how "~" stringifies operands (undefined becomes "").
func concatString(v any) string {
	if IsUndefined(v) {
		return ""
	}
	return jsString(v)
}

func utf16Units(s string) []uint16 { return utf16.Encode([]rune(s)) }

func (r *renderer) member(obj, key any) any {
	switch o := obj.(type) {
	case undefinedType, nil:
		return Undefined
	case *Object:
		if v, ok := o.Get(jsString(key)); ok {
			return v
		}
		if r.opts.CookiecutterCompat {
			if m := objectMethod(o, jsString(key)); m != nil {
				return m
			}
		}
		return Undefined
	case []any:
		if k, ok := key.(float64); ok {
			if k >= 0 && k == math.Trunc(k) && int(k) < len(o) {
				return o[int(k)]
			}
			return Undefined
		}
		ks := jsString(key)
		if ks == "length" {
			return float64(len(o))
		}
		if i, err := strconv.Atoi(ks); err == nil && i >= 0 && i < len(o) && strconv.Itoa(i) == ks {
			return o[i]
		}
		if m := arrayMethod(o, ks); m != nil {
			return m
		}
		return Undefined
	case string:
		if k, ok := key.(float64); ok {
			u := utf16Units(o)
			if k >= 0 && k == math.Trunc(k) && int(k) < len(u) {
				return string(utf16.Decode(u[int(k) : int(k)+1]))
			}
			return Undefined
		}
		ks := jsString(key)
		if ks == "length" {
			return float64(jsLength(o))
		}
		if m := stringMethod(o, ks); m != nil {
			return m
		}
		return Undefined
	case float64:
		if m := numberMethod(o, jsString(key)); m != nil {
			return m
		}
	case *jsRegex:
		switch jsString(key) {
		case "source":
			return o.source
		case "flags":
			return o.flags
		case "global":
			return o.global()
		case "test":
			return Func(func(c *callCtx, args []any, kw *Object) (any, error) {
				return o.re.MatchString(jsString(argAt(args, 0))), nil
			})
		}
	}
	return Undefined
}

func (r *renderer) slice(obj, start, stop, step any) any {
	var items []any
	switch o := obj.(type) {
	case []any:
		items = o
	case string:
		for _, c := range o {
			items = append(items, string(c))
		}
	case nil, undefinedType:
	default:
		return []any{}
	}
	n := len(items)
	st := 1
	if step != nil && !IsUndefined(step) {
		st = int(toNumber(step))
		if st == 0 {
			st = 1
		}
	}
	var s, e int
	if start == nil || IsUndefined(start) {
		if st < 0 {
			s = n - 1
		}
	} else {
		s = int(toNumber(start))
	}
	if stop == nil || IsUndefined(stop) {
		if st < 0 {
			e = -1
		} else {
			e = n
		}
	} else {
		e = int(toNumber(stop))
		if e < 0 {
			e += n
		}
	}
	if s < 0 {
		s += n
	}
	out := []any{}
	for i := s; ; i += st {
		if i < 0 || i > n {
			break
		}
		if st > 0 && i >= e {
			break
		}
		if st < 0 && i <= e {
			break
		}
		if i < n {
			out = append(out, items[i])
		} else {
			out = append(out, Undefined)
		}
	}
	return out
}

func argAt(args []any, i int) any {
	if i < len(args) {
		return args[i]
	}
	return Undefined
}

func kwArg(args []any, kw *Object, i int, name string) any {
	if i < len(args) {
		return args[i]
	}
	if kw != nil {
		if v, ok := kw.Get(name); ok {
			return v
		}
	}
	return Undefined
}

func isNil(v any) bool { return v == nil || IsUndefined(v) }

func method(fn func(args []any) (any, error)) Func {
	return func(c *callCtx, args []any, kw *Object) (any, error) { return fn(args) }
}

func objectMethod(o *Object, name string) any {
	switch name {
	case "items":
		return method(func([]any) (any, error) {
			out := []any{}
			for _, k := range o.keys {
				out = append(out, []any{k, o.vals[k]})
			}
			return out, nil
		})
	case "keys":
		return method(func([]any) (any, error) {
			out := []any{}
			for _, k := range o.keys {
				out = append(out, k)
			}
			return out, nil
		})
	case "values":
		return method(func([]any) (any, error) {
			out := []any{}
			for _, k := range o.keys {
				out = append(out, o.vals[k])
			}
			return out, nil
		})
	}
	return nil
}

func clampIndex(v any, n int, def int) int {
	if isNil(v) {
		return def
	}
	f := toNumber(v)
	if math.IsNaN(f) {
		return 0
	}
	i := int(math.Trunc(f))
	if f < 0 {
		i = n + i
		if i < 0 {
			i = 0
		}
	}
	if i > n {
		i = n
	}
	return i
}

func arrayMethod(a []any, name string) any {
	switch name {
	case "includes":
		return method(func(args []any) (any, error) {
			x := argAt(args, 0)
			for _, e := range a {
				if strictEqual(e, x) {
					return true, nil
				}
			}
			return false, nil
		})
	case "indexOf":
		return method(func(args []any) (any, error) {
			x := argAt(args, 0)
			for i, e := range a {
				if strictEqual(e, x) {
					return float64(i), nil
				}
			}
			return float64(-1), nil
		})
	case "join":
		return method(func(args []any) (any, error) {
			sep := ","
			if !IsUndefined(argAt(args, 0)) {
				sep = jsString(args[0])
			}
			parts := make([]string, len(a))
			for i, e := range a {
				if !isNil(e) {
					parts[i] = jsString(e)
				}
			}
			return strings.Join(parts, sep), nil
		})
	case "slice":
		return method(func(args []any) (any, error) {
			s := clampIndex(argAt(args, 0), len(a), 0)
			e := clampIndex(argAt(args, 1), len(a), len(a))
			if e < s {
				e = s
			}
			return append([]any{}, a[s:e]...), nil
		})
	case "concat":
		return method(func(args []any) (any, error) {
			out := append([]any{}, a...)
			for _, x := range args {
				if arr, ok := x.([]any); ok {
					out = append(out, arr...)
				} else {
					out = append(out, x)
				}
				if len(out) > maxArray {
					return nil, fmt.Errorf("Array exceeds %d elements", maxArray)
				}
			}
			return out, nil
		})
	case "toString":
		return method(func([]any) (any, error) { return jsString(a), nil })
	}
	return nil
}

func numberMethod(f float64, name string) any {
	switch name {
	case "toString":
		return method(func([]any) (any, error) { return formatNumber(f), nil })
	case "toFixed":
		return method(func(args []any) (any, error) {
			d := 0
			if !isNil(argAt(args, 0)) {
				d = int(toNumber(args[0]))
			}
			if d < 0 || d > 100 {
				return nil, fmt.Errorf("toFixed() digits argument must be between 0 and 100")
			}
			return strconv.FormatFloat(f, 'f', d, 64), nil
		})
	}
	return nil
}

func stringMethod(s string, name string) any {
	switch name {
	case "toUpperCase", "toLocaleUpperCase":
		return method(func([]any) (any, error) { return jsUpper(s), nil })
	case "toLowerCase", "toLocaleLowerCase":
		return method(func([]any) (any, error) { return strings.ToLower(s), nil })
	case "trim":
		return method(func([]any) (any, error) { return strings.TrimSpace(s), nil })
	case "trimStart", "trimLeft":
		return method(func([]any) (any, error) { return strings.TrimLeft(s, " \t\r\n\v\f"), nil })
	case "trimEnd", "trimRight":
		return method(func([]any) (any, error) { return strings.TrimRight(s, " \t\r\n\v\f"), nil })
	case "startsWith":
		return method(func(args []any) (any, error) { return strings.HasPrefix(s, jsString(argAt(args, 0))), nil })
	case "endsWith":
		return method(func(args []any) (any, error) { return strings.HasSuffix(s, jsString(argAt(args, 0))), nil })
	case "includes":
		return method(func(args []any) (any, error) { return strings.Contains(s, jsString(argAt(args, 0))), nil })
	case "indexOf":
		return method(func(args []any) (any, error) {
			i := strings.Index(s, jsString(argAt(args, 0)))
			if i < 0 {
				return float64(-1), nil
			}
			return float64(jsLength(s[:i])), nil
		})
	case "split":
		return method(func(args []any) (any, error) {
			sep := argAt(args, 0)
			var parts []string
			switch p := sep.(type) {
			case undefinedType:
				return []any{s}, nil
			case *jsRegex:
				parts = p.re.Split(s, -1)
			default:
				ps := jsString(p)
				if ps == "" {
					for _, c := range s {
						parts = append(parts, string(c))
					}
				} else {
					parts = strings.Split(s, ps)
				}
			}
			out := make([]any, 0, len(parts))
			for _, x := range parts {
				out = append(out, x)
			}
			if l := argAt(args, 1); !isNil(l) {
				if n := int(toNumber(l)); n >= 0 && n < len(out) {
					out = out[:n]
				}
			}
			return out, nil
		})
	case "replace", "replaceAll":
		return method(func(args []any) (any, error) {
			return jsReplace(s, argAt(args, 0), jsString(argAt(args, 1)), name == "replaceAll"), nil
		})
	case "slice", "substring":
		return method(func(args []any) (any, error) {
			u := utf16Units(s)
			st := clampIndex(argAt(args, 0), len(u), 0)
			e := clampIndex(argAt(args, 1), len(u), len(u))
			if name == "substring" {
				if v := toNumber(argAt(args, 0)); v < 0 {
					st = 0
				}
				if !isNil(argAt(args, 1)) && toNumber(args[1]) < 0 {
					e = 0
				}
				if e < st {
					st, e = e, st
				}
			}
			if e < st {
				e = st
			}
			return string(utf16.Decode(u[st:e])), nil
		})
	case "charAt":
		return method(func(args []any) (any, error) {
			u := utf16Units(s)
			i := int(toNumber(argAt(args, 0)))
			if isNil(argAt(args, 0)) {
				i = 0
			}
			if i < 0 || i >= len(u) {
				return "", nil
			}
			return string(utf16.Decode(u[i : i+1])), nil
		})
	case "repeat":
		return method(func(args []any) (any, error) {
			n := int(toNumber(argAt(args, 0)))
			if n < 0 || n*len(s) > maxOutput {
				return nil, fmt.Errorf("Invalid count value: %d", n)
			}
			return strings.Repeat(s, n), nil
		})
	case "padStart", "padEnd":
		return method(func(args []any) (any, error) {
			n := int(toNumber(argAt(args, 0)))
			pad := " "
			if !IsUndefined(argAt(args, 1)) {
				pad = jsString(args[1])
			}
			l := jsLength(s)
			if n <= l || pad == "" || n > maxOutput {
				return s, nil
			}
			fill := strings.Repeat(pad, (n-l)/len(pad)+1)
			fill = string([]rune(fill)[:n-l])
			if name == "padStart" {
				return fill + s, nil
			}
			return s + fill, nil
		})
	case "concat":
		return method(func(args []any) (any, error) {
			out := s
			for _, a := range args {
				out += jsString(a)
				if len(out) > maxOutput {
					return nil, fmt.Errorf("String exceeds %d bytes", maxOutput)
				}
			}
			return out, nil
		})
	case "toString":
		return method(func([]any) (any, error) { return s, nil })
	case "match":
		return method(func(args []any) (any, error) {
			re, ok := argAt(args, 0).(*jsRegex)
			if !ok {
				var err error
				re, err = newRegex(regexp.QuoteMeta(jsString(argAt(args, 0))), "")
				if err != nil {
					return nil, err
				}
			}
			if re.global() {
				m := re.re.FindAllString(s, -1)
				if m == nil {
					return nil, nil
				}
				out := []any{}
				for _, x := range m {
					out = append(out, x)
				}
				return out, nil
			}
			m := re.re.FindStringSubmatch(s)
			if m == nil {
				return nil, nil
			}
			out := []any{}
			for _, x := range m {
				out = append(out, x)
			}
			return out, nil
		})
	}
	return nil
}

func jsUpper(s string) string {
	return strings.ToUpper(strings.ReplaceAll(s, "ß", "SS"))
}

// jsReplace is String.prototype.replace with a string or regex pattern.
func jsReplace(s string, pat any, repl string, all bool) string {
	if len(repl) > 0 && (len(s)+1)*len(repl) > maxOutput {
		// Bound the result: count the matches before replacing.
		n := 0
		if re, ok := pat.(*jsRegex); ok {
			n = len(re.re.FindAllStringIndex(s, -1))
		} else if p := jsString(pat); p != "" {
			n = strings.Count(s, p)
		} else {
			n = len(s) + 1
		}
		if len(s)+n*len(repl) > maxOutput {
			return cutMarker()
		}
	}
	if re, ok := pat.(*jsRegex); ok {
		goRepl := jsReplacementToGo(repl)
		if re.global() || all {
			return re.re.ReplaceAllString(s, goRepl)
		}
		loc := re.re.FindStringSubmatchIndex(s)
		if loc == nil {
			return s
		}
		var dst []byte
		dst = re.re.ExpandString(dst, goRepl, s, loc)
		return s[:loc[0]] + string(dst) + s[loc[1]:]
	}
	p := jsString(pat)
	if all {
		return strings.ReplaceAll(s, p, repl)
	}
	return strings.Replace(s, p, repl, 1)
}

func jsReplacementToGo(r string) string {
	var b strings.Builder
	for i := 0; i < len(r); i++ {
		c := r[i]
		if c == '$' && i+1 < len(r) {
			n := r[i+1]
			switch {
			case n == '$':
				b.WriteString("$$")
				i++
				continue
			case n == '&':
				b.WriteString("${0}")
				i++
				continue
			case n >= '0' && n <= '9':
				b.WriteString("${" + string(n) + "}")
				i++
				continue
			}
		}
		if c == '$' {
			b.WriteString("$$")
			continue
		}
		b.WriteByte(c)
	}
	return b.String()
}

// cutMarker returns a string just over the output limit, so that the
// caller's size checks report an oversized result.
func cutMarker() string {
	return strings.Repeat("x", maxOutput+1)
}
