package expr

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"
)

type filterFn func(r *renderer, in any, args []any, kw *Object) (any, error)

// errStringInput marks a built-in filter given a non-string input.
var errStringInput = errors.New("Filter input must be a string")

// customError marks errors from the scaffolder filters.
type customError struct{ err error }

func (c customError) Error() string { return c.err.Error() }

var builtinFilters map[string]filterFn

var errTooLarge = fmt.Errorf("result exceeds %d bytes", maxOutput)

func init() {
	builtinFilters = map[string]filterFn{
		"abs":         func(r *renderer, in any, a []any, kw *Object) (any, error) { return math.Abs(toNumber(in)), nil },
		"batch":       fBatch,
		"capitalize":  strFilter(func(s string) string { return capitalize(s) }),
		"center":      fCenter,
		"default":     fDefault,
		"d":           fDefault,
		"dictsort":    fDictsort,
		"dump":        fDump,
		"escape":      fEscape,
		"e":           fEscape,
		"forceescape": fEscape,
		"first": func(r *renderer, in any, a []any, kw *Object) (any, error) {
			switch x := in.(type) {
			case []any:
				if len(x) > 0 {
					return x[0], nil
				}
			case string:
				for _, c := range x {
					return string(c), nil
				}
			}
			return Undefined, nil
		},
		"last": func(r *renderer, in any, a []any, kw *Object) (any, error) {
			switch x := in.(type) {
			case []any:
				if len(x) > 0 {
					return x[len(x)-1], nil
				}
			case string:
				rs := []rune(x)
				if len(rs) > 0 {
					return string(rs[len(rs)-1]), nil
				}
			}
			return Undefined, nil
		},
		"float": func(r *renderer, in any, a []any, kw *Object) (any, error) {
			f := parseFloatPrefix(jsString(in))
			if math.IsNaN(f) {
				return argAt(a, 0), nil
			}
			return f, nil
		},
		"int": func(r *renderer, in any, a []any, kw *Object) (any, error) {
			f := parseIntPrefix(jsString(in))
			if math.IsNaN(f) {
				return argAt(a, 0), nil
			}
			return f, nil
		},
		"groupby": fGroupby,
		"indent":  fIndent,
		"join":    fJoin,
		"length":  fLength,
		"list":    fList,
		"lower":   strFilter(strings.ToLower),
		"upper":   strFilter(jsUpper),
		"trim":    strFilter(strings.TrimSpace),
		"title": strFilter(func(s string) string {
			ws := strings.Split(s, " ")
			for i := range ws {
				ws[i] = capitalize(ws[i])
			}
			return strings.Join(ws, " ")
		}),
		"nl2br": func(r *renderer, in any, a []any, kw *Object) (any, error) {
			return nl2brRe.ReplaceAllString(outputString(in), "<br />\n"), nil
		},
		"random":     fRandom,
		"reject":     fSelect(false),
		"select":     fSelect(true),
		"rejectattr": fSelectAttr(false),
		"selectattr": fSelectAttr(true),
		"replace":    fReplace,
		"reverse":    fReverse,
		"round":      fRound,
		"safe":       func(r *renderer, in any, a []any, kw *Object) (any, error) { return in, nil },
		"slice":      fSlice,
		"sort":       fSort,
		"string":     func(r *renderer, in any, a []any, kw *Object) (any, error) { return outputString(in), nil },
		"striptags":  fStriptags,
		"sum":        fSum,
		"truncate":   fTruncate,
		"urlencode":  fUrlencode,
		"wordcount": func(r *renderer, in any, a []any, kw *Object) (any, error) {
			m := wordRe.FindAllString(outputString(in), -1)
			if m == nil {
				return nil, nil
			}
			return float64(len(m)), nil
		},
	}
}

var (
	nl2brRe = regexp.MustCompile(`\r\n|\n`)
	wordRe  = regexp.MustCompile(`\w+`)
	tagsRe  = regexp.MustCompile(`(?i)</?([a-z][a-z0-9]*)\b[^>]*>|<!--[\s\S]*?-->`)
	wsRe    = regexp.MustCompile(`\s+`)

	floatPrefixRe = regexp.MustCompile(`^[+-]?(\d+\.?\d*([eE][+-]?\d+)?|\.\d+([eE][+-]?\d+)?|Infinity)`)
	intPrefixRe   = regexp.MustCompile(`^[+-]?\d+`)
)

func capitalize(s string) string {
	if s == "" {
		return s
	}
	r, n := utf8.DecodeRuneInString(s)
	return jsUpper(string(r)) + strings.ToLower(s[n:])
}

func strFilter(fn func(string) string) filterFn {
	return func(r *renderer, in any, a []any, kw *Object) (any, error) {
		switch x := in.(type) {
		case nil, undefinedType:
			return "", nil
		case string:
			return fn(x), nil
		}
		return nil, errStringInput
	}
}

func parseFloatPrefix(s string) float64 {
	s = strings.TrimSpace(s)
	m := floatPrefixRe.FindString(s)
	if m == "" {
		return math.NaN()
	}
	f, err := strconv.ParseFloat(strings.Replace(m, "Infinity", "Inf", 1), 64)
	if err != nil {
		return math.NaN()
	}
	return f
}

func parseIntPrefix(s string) float64 {
	s = strings.TrimSpace(s)
	m := intPrefixRe.FindString(s)
	if m == "" {
		return math.NaN()
	}
	f, _ := strconv.ParseFloat(m, 64)
	return f
}

func fDefault(r *renderer, in any, a []any, kw *Object) (any, error) {
	def := argAt(a, 0)
	if truthy(argAt(a, 1)) {
		if !truthy(in) {
			return def, nil
		}
		return in, nil
	}
	if IsUndefined(in) {
		return def, nil
	}
	return in, nil
}

func fDump(r *renderer, in any, a []any, kw *Object) (any, error) {
	indent := ""
	switch x := argAt(a, 0).(type) {
	case float64:
		n := int(x)
		if n > 10 {
			n = 10
		}
		if n > 0 {
			indent = strings.Repeat(" ", n)
		}
	case string:
		indent = x
		if len(indent) > 10 {
			indent = indent[:10]
		}
	}
	var b strings.Builder
	if !writeJSON(&b, in, indent, "") {
		return Undefined, nil
	}
	if b.Len() > maxOutput {
		return nil, errTooLarge
	}
	return b.String(), nil
}

func fEscape(r *renderer, in any, a []any, kw *Object) (any, error) {
	s := outputString(in)
	s = strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;", `"`, "&quot;", "'", "&#39;").Replace(s)
	return s, nil
}

func toList(in any) []any {
	switch x := in.(type) {
	case []any:
		return x
	case string:
		out := []any{}
		for _, c := range x {
			out = append(out, string(c))
		}
		return out
	case *Object:
		out := []any{}
		for _, k := range x.keys {
			o := NewObject()
			o.Set("key", k)
			o.Set("value", x.vals[k])
			out = append(out, o)
		}
		return out
	}
	return nil
}

func fList(r *renderer, in any, a []any, kw *Object) (any, error) {
	l := toList(in)
	if l == nil {
		return nil, fmt.Errorf("list filter: type not iterable")
	}
	return append([]any{}, l...), nil
}

func fLength(r *renderer, in any, a []any, kw *Object) (any, error) {
	switch x := in.(type) {
	case []any:
		return float64(len(x)), nil
	case string:
		return float64(jsLength(x)), nil
	case *Object:
		return float64(x.Len()), nil
	}
	return float64(0), nil
}

func attrOf(v any, attr any, r *renderer) any {
	if isNil(attr) {
		return v
	}
	path := strings.Split(jsString(attr), ".")
	for _, p := range path {
		v = r.member(v, p)
	}
	return v
}

func fJoin(r *renderer, in any, a []any, kw *Object) (any, error) {
	sep := ""
	if !isNil(argAt(a, 0)) {
		sep = jsString(a[0])
	}
	arr, ok := in.([]any)
	if !ok {
		return outputString(in), nil
	}
	parts := make([]string, len(arr))
	total := 0
	for i, e := range arr {
		e = attrOf(e, kwArg(a, kw, 1, "attribute"), r)
		if !isNil(e) {
			parts[i] = jsString(e)
		}
		total += len(parts[i]) + len(sep)
		if total > maxOutput {
			return nil, errTooLarge
		}
	}
	return strings.Join(parts, sep), nil
}

func fBatch(r *renderer, in any, a []any, kw *Object) (any, error) {
	arr := toList(in)
	size := int(toNumber(argAt(a, 0)))
	if size <= 0 {
		return []any{}, nil
	}
	// Security: the fill value pads the last batch up to size, so an
	// unbounded size (batch(1e9, 0)) allocated without limit.
	if size > maxArray {
		return nil, fmt.Errorf("batch size exceeds %d", maxArray)
	}
	fill := argAt(a, 1)
	out := []any{}
	var cur []any
	for _, e := range arr {
		cur = append(cur, e)
		if len(cur) == size {
			out = append(out, cur)
			cur = nil
		}
	}
	if len(cur) > 0 {
		if !isNil(fill) {
			for len(cur) < size {
				cur = append(cur, fill)
			}
		}
		out = append(out, cur)
	}
	return out, nil
}

func fCenter(r *renderer, in any, a []any, kw *Object) (any, error) {
	s := outputString(in)
	w := 80
	if !isNil(argAt(a, 0)) {
		w = int(toNumber(a[0]))
	}
	l := jsLength(s)
	if l >= w {
		return s, nil
	}
	if w > maxOutput {
		return nil, errTooLarge
	}
	sp := w - l
	pre := int(math.Ceil(float64(sp)/2 - float64(sp%2)))
	post := int(math.Ceil(float64(sp) / 2))
	if pre < 0 {
		pre = 0
	}
	return strings.Repeat(" ", pre) + s + strings.Repeat(" ", post), nil
}

func fDictsort(r *renderer, in any, a []any, kw *Object) (any, error) {
	o, ok := in.(*Object)
	if !ok {
		return nil, fmt.Errorf("dictsort filter: val must be an object")
	}
	caseSens := truthy(argAt(a, 0))
	by := "key"
	if !isNil(argAt(a, 1)) {
		by = jsString(a[1])
	}
	if by != "key" && by != "value" {
		return nil, fmt.Errorf("dictsort filter: You can only sort by either key or value")
	}
	out := []any{}
	for _, k := range o.keys {
		out = append(out, []any{k, o.vals[k]})
	}
	idx := 0
	if by == "value" {
		idx = 1
	}
	sort.SliceStable(out, func(i, j int) bool {
		x, y := out[i].([]any)[idx], out[j].([]any)[idx]
		if !caseSens {
			if s, ok := x.(string); ok {
				x = strings.ToLower(s)
			}
			if s, ok := y.(string); ok {
				y = strings.ToLower(s)
			}
		}
		c, _ := jsCompare(x, y)
		return c < 0
	})
	return out, nil
}

func fGroupby(r *renderer, in any, a []any, kw *Object) (any, error) {
	o := NewObject()
	for _, e := range toList(in) {
		k := jsString(attrOf(e, argAt(a, 0), r))
		v, _ := o.Get(k)
		l, _ := v.([]any)
		o.Set(k, append(l, e))
	}
	return o, nil
}

func fIndent(r *renderer, in any, a []any, kw *Object) (any, error) {
	s := outputString(in)
	if s == "" {
		return "", nil
	}
	w := 4
	if !isNil(argAt(a, 0)) {
		w = int(toNumber(a[0]))
	}
	if w < 0 || w > 1000 {
		w = 0
	}
	first := truthy(argAt(a, 1))
	sp := strings.Repeat(" ", w)
	lines := strings.Split(s, "\n")
	if len(s)+len(lines)*w > maxOutput {
		return nil, errTooLarge
	}
	for i := range lines {
		if i == 0 && !first {
			continue
		}
		lines[i] = sp + lines[i]
	}
	return strings.Join(lines, "\n"), nil
}

func fRandom(r *renderer, in any, a []any, kw *Object) (any, error) {
	l := toList(in)
	if len(l) == 0 {
		return Undefined, nil
	}
	return l[rand.IntN(len(l))], nil
}

func fReplace(r *renderer, in any, a []any, kw *Object) (any, error) {
	old, repl := argAt(a, 0), jsString(argAt(a, 1))
	if re, ok := old.(*jsRegex); ok {
		out := jsReplace(outputString(in), re, repl, false)
		if len(out) > maxOutput {
			return nil, errTooLarge
		}
		return out, nil
	}
	if f, ok := old.(float64); ok {
		old = formatNumber(f)
	}
	olds, ok := old.(string)
	if !ok {
		return in, nil
	}
	var s string
	switch x := in.(type) {
	case string:
		s = x
	case float64:
		s = formatNumber(x)
	default:
		return in, nil
	}
	max := -1
	if !isNil(argAt(a, 2)) {
		max = int(toNumber(a[2]))
	}
	if n := strings.Count(s, olds); len(s)+n*len(repl) > maxOutput {
		return nil, errTooLarge
	}
	if olds == "" {
		var b strings.Builder
		b.WriteString(repl)
		for _, c := range s {
			b.WriteRune(c)
			b.WriteString(repl)
		}
		return b.String(), nil
	}
	if max < 0 {
		return strings.ReplaceAll(s, olds, repl), nil
	}
	return strings.Replace(s, olds, repl, max), nil
}

func fReverse(r *renderer, in any, a []any, kw *Object) (any, error) {
	switch x := in.(type) {
	case string:
		rs := []rune(x)
		for i, j := 0, len(rs)-1; i < j; i, j = i+1, j-1 {
			rs[i], rs[j] = rs[j], rs[i]
		}
		return string(rs), nil
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[len(x)-1-i] = e
		}
		return out, nil
	}
	l := toList(in)
	out := make([]any, len(l))
	for i, e := range l {
		out[len(l)-1-i] = e
	}
	return out, nil
}

func jsRound(f float64) float64 { return math.Floor(f + 0.5) }

func fRound(r *renderer, in any, a []any, kw *Object) (any, error) {
	v := toNumber(in)
	prec := 0.0
	if !isNil(argAt(a, 0)) {
		prec = toNumber(a[0])
	}
	factor := math.Pow(10, prec)
	switch jsString(argAt(a, 1)) {
	case "ceil":
		return math.Ceil(v*factor) / factor, nil
	case "floor":
		return math.Floor(v*factor) / factor, nil
	}
	return jsRound(v*factor) / factor, nil
}

func fSlice(r *renderer, in any, a []any, kw *Object) (any, error) {
	arr := toList(in)
	n := int(toNumber(argAt(a, 0)))
	if n <= 0 || n > 10000 {
		return []any{}, nil
	}
	fill := argAt(a, 1)
	per := len(arr) / n
	extra := len(arr) % n
	out := []any{}
	offset := 0
	for i := 0; i < n; i++ {
		start := offset + i*per
		if i < extra {
			offset++
		}
		end := offset + (i+1)*per
		cur := append([]any{}, arr[start:end]...)
		if !isNil(fill) && i >= extra {
			cur = append(cur, fill)
		}
		out = append(out, cur)
	}
	return out, nil
}

func fSort(r *renderer, in any, a []any, kw *Object) (any, error) {
	arr := append([]any{}, toList(in)...)
	rev := truthy(kwArg(a, kw, 0, "reverse"))
	caseSens := truthy(kwArg(a, kw, 1, "case_sensitive"))
	attr := kwArg(a, kw, 2, "attribute")
	key := func(v any) any {
		v = attrOf(v, attr, r)
		if s, ok := v.(string); ok && !caseSens {
			return strings.ToLower(s)
		}
		return v
	}
	sort.SliceStable(arr, func(i, j int) bool {
		x, y := key(arr[i]), key(arr[j])
		c, _ := jsCompare(x, y)
		if rev {
			return c > 0
		}
		return c < 0
	})
	return arr, nil
}

func fStriptags(r *renderer, in any, a []any, kw *Object) (any, error) {
	s := tagsRe.ReplaceAllString(outputString(in), "")
	s = strings.TrimSpace(s)
	if truthy(argAt(a, 0)) {
		lines := strings.Split(s, "\n")
		for i, l := range lines {
			lines[i] = strings.TrimSpace(regexp.MustCompile(`[ \t]+`).ReplaceAllString(l, " "))
		}
		return regexp.MustCompile(`\n\n\n+`).ReplaceAllString(strings.Join(lines, "\n"), "\n\n"), nil
	}
	return wsRe.ReplaceAllString(s, " "), nil
}

func fSum(r *renderer, in any, a []any, kw *Object) (any, error) {
	var total any = float64(0)
	if !isNil(argAt(a, 1)) {
		total = a[1]
	}
	for _, e := range toList(in) {
		total = jsAdd(total, attrOf(e, argAt(a, 0), r))
		// Security: adding to a string copies it; charge each copy so a
		// long list summed onto a large string is bounded.
		if err := r.charge(0, total); err != nil {
			return nil, err
		}
	}
	return total, nil
}

func fTruncate(r *renderer, in any, a []any, kw *Object) (any, error) {
	s := outputString(in)
	n := 255
	if !isNil(kwArg(a, kw, 0, "length")) {
		n = int(toNumber(kwArg(a, kw, 0, "length")))
	}
	rs := []rune(s)
	if len(rs) <= n {
		return s, nil
	}
	if n < 0 {
		n = 0
	}
	if truthy(kwArg(a, kw, 1, "killwords")) {
		rs = rs[:n]
	} else {
		idx := -1
		for i := n; i >= 0; i-- {
			if i < len(rs) && rs[i] == ' ' {
				idx = i
				break
			}
		}
		if idx == -1 {
			idx = n
		}
		rs = rs[:idx]
	}
	end := "..."
	if e := kwArg(a, kw, 2, "end"); !isNil(e) {
		end = jsString(e)
	}
	return string(rs) + end, nil
}

func encodeURIComponent(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || strings.IndexByte("-_.!~*'()", c) >= 0 {
			b.WriteByte(c)
		} else {
			fmt.Fprintf(&b, "%%%02X", c)
		}
	}
	return b.String()
}

func fUrlencode(r *renderer, in any, a []any, kw *Object) (any, error) {
	switch x := in.(type) {
	case string:
		return encodeURIComponent(x), nil
	case *Object:
		parts := []string{}
		for _, k := range x.keys {
			parts = append(parts, encodeURIComponent(k)+"="+encodeURIComponent(jsString(x.vals[k])))
		}
		return strings.Join(parts, "&"), nil
	case []any:
		parts := []string{}
		for _, e := range x {
			p, _ := e.([]any)
			if len(p) >= 2 {
				parts = append(parts, encodeURIComponent(jsString(p[0]))+"="+encodeURIComponent(jsString(p[1])))
			}
		}
		return strings.Join(parts, "&"), nil
	}
	return encodeURIComponent(outputString(in)), nil
}

func fSelect(keep bool) filterFn {
	return func(r *renderer, in any, a []any, kw *Object) (any, error) {
		out := []any{}
		name := "truthy"
		if !isNil(argAt(a, 0)) {
			name = jsString(a[0])
		}
		var targs []any
		if len(a) > 1 {
			targs = a[1:]
		}
		for _, e := range toList(in) {
			ok, err := r.runTest(name, e, targs, 0)
			if err != nil {
				return nil, err
			}
			if ok == keep {
				out = append(out, e)
			}
		}
		return out, nil
	}
}

func fSelectAttr(keep bool) filterFn {
	return func(r *renderer, in any, a []any, kw *Object) (any, error) {
		out := []any{}
		for _, e := range toList(in) {
			if truthy(attrOf(e, argAt(a, 0), r)) == keep {
				out = append(out, e)
			}
		}
		return out, nil
	}
}

// ---- tests --------------------------------------------------------------

func (r *renderer) runTest(name string, v any, args []any, pos int) (bool, error) {
	num := func() (float64, bool) { f, ok := v.(float64); return f, ok }
	switch name {
	case "defined":
		return !IsUndefined(v), nil
	case "undefined":
		return IsUndefined(v), nil
	case "none", "null":
		return v == nil, nil
	case "truthy":
		return truthy(v), nil
	case "falsy":
		return !truthy(v), nil
	case "odd":
		f, _ := num()
		return math.Mod(toNumber(f), 2) == 1 || math.Mod(f, 2) == -1, nil
	case "even":
		return math.Mod(toNumber(v), 2) == 0, nil
	case "divisibleby":
		return math.Mod(toNumber(v), toNumber(argAt(args, 0))) == 0, nil
	case "string":
		_, ok := v.(string)
		return ok, nil
	case "number":
		_, ok := num()
		return ok, nil
	case "boolean":
		_, ok := v.(bool)
		return ok, nil
	case "callable", "function":
		_, ok := v.(Func)
		return ok, nil
	case "iterable":
		switch v.(type) {
		case []any, string:
			return true, nil
		}
		return false, nil
	case "mapping":
		_, ok := v.(*Object)
		return ok, nil
	case "lower":
		s, ok := v.(string)
		return ok && strings.ToLower(s) == s, nil
	case "upper":
		s, ok := v.(string)
		return ok && strings.ToUpper(s) == s, nil
	case "equalto", "eq", "sameas", "==", "===":
		return strictEqual(v, argAt(args, 0)), nil
	case "ne", "!=", "!==":
		return !strictEqual(v, argAt(args, 0)), nil
	case "lt", "<", "lessthan":
		c, ok := jsCompare(v, argAt(args, 0))
		return ok && c < 0, nil
	case "gt", ">", "greaterthan":
		c, ok := jsCompare(v, argAt(args, 0))
		return ok && c > 0, nil
	case "le", "<=":
		c, ok := jsCompare(v, argAt(args, 0))
		return ok && c <= 0, nil
	case "ge", ">=":
		c, ok := jsCompare(v, argAt(args, 0))
		return ok && c >= 0, nil
	case "escaped":
		return false, nil
	}
	return false, r.errAt(pos, "Unknown template test %q", name)
}

// ---- application --------------------------------------------------------

func (r *renderer) applyFilter(fn *filterNode, in any, f *frame) (any, error) {
	args, kw, err := r.evalArgs(fn.args, fn.kwKeys, fn.kwVals, f)
	if err != nil {
		return nil, err
	}
	if cf, ok := r.opts.Filters[fn.name]; ok {
		v, err := cf(in, args...)
		if err != nil {
			return nil, r.errAt(fn.pos, "Template filter %q failed: %s", fn.name, err.Error())
		}
		return normalize(v), nil
	}
	if sf, ok := scaffolderFilters[fn.name]; ok {
		v, err := sf(r, in, args, kw)
		if err != nil {
			return nil, r.errAt(fn.pos, "Template filter %q failed: %s", fn.name, err.Error())
		}
		return v, nil
	}
	bf, ok := builtinFilters[fn.name]
	if !ok && fn.name == "jsonify" && r.opts.CookiecutterCompat {
		bf, ok = fDump, true
	}
	if !ok {
		return nil, r.errAt(fn.pos, "Unknown template filter %q", fn.name)
	}
	v, err := bf(r, in, args, kw)
	if err != nil {
		if _, isTmpl := err.(*Error); isTmpl {
			return nil, err
		}
		return nil, r.errAt(fn.pos, "Filter %q failed for %s input: %s", fn.name, typeOf(in), err.Error())
	}
	return v, nil
}
