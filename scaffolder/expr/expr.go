// Package expr is Backstage's scaffolder template engine in Go: the
// Nunjucks syntax with `${{ }}` variable tags, `{% %}` block tags and
// `{# #}` comments, no autoescaping, and the scaffolder filters
// parseRepoUrl, parseEntityRef, pick and projectSlug, as rendered by
// nunjitsu in @backstage/plugin-scaffolder-backend 4.2.0.
//
// Values follow JavaScript: undefined (Undefined), null (nil), bool,
// float64 (printed like JavaScript), string, []any and insertion-ordered
// objects (*Object). Templates have no access to files, the environment or
// processes: include, import and extends are refused. Rendering is bounded
// (evaluation steps, output size, nesting and macro recursion).
package expr

import "strings"

// Options configure the renderer.
type Options struct {
	// CookiecutterCompat switches variable tags to {{ }} (fetch:template's
	// cookiecutterCompat) and adds the jsonify filter.
	CookiecutterCompat bool
	// TrimBlocks removes the first newline after a block tag.
	TrimBlocks bool
	// LstripBlocks strips spaces and tabs before a block tag on its line.
	LstripBlocks bool
	// Integrations maps extra SCM hosts to integration types (github,
	// gitlab, bitbucketCloud, bitbucketServer, azure, gitea, gerrit) for
	// parseRepoUrl/projectSlug, on top of github.com, gitlab.com,
	// bitbucket.org and dev.azure.com.
	Integrations map[string]string
	// Filters adds custom filters (the scaffolder's additional filters).
	Filters map[string]func(in any, args ...any) (any, error)
	// Globals adds global values; Go functions of type
	// func(args ...any) any become callable.
	Globals map[string]any
	// StepStatus adds the workflow runner's always() and failure()
	// globals (failure() reports Failed).
	StepStatus bool
	Failed     bool
	// KeepOnError makes RenderTree keep a string whose rendering fails,
	// as Backstage's workflow runner does, instead of returning the error.
	KeepOnError bool
	// OnKeep, with KeepOnError, hears of each string kept and why, so
	// that the runner can say so in the task's log.
	OnKeep func(tmpl string, err error)
}

// RenderString renders a template to a string (what fetch:template does).
func RenderString(tmpl string, ctx map[string]any) (string, error) {
	return Options{}.RenderString(tmpl, ctx)
}

// RenderValue renders a template like the workflow runner renders a step
// input: a template that is exactly one ${{ expr }} keeps the value's type
// (string, float64, bool, nil, Undefined, []any, *Object); anything else
// renders to a string.
func RenderValue(tmpl string, ctx map[string]any) (any, error) {
	return Options{StepStatus: true}.RenderValue(tmpl, ctx)
}

// RenderTree renders every string in a JSON-like tree (maps, *Object,
// slices) with RenderValue, as the scaffolder does for step inputs. Object
// members that render to Undefined are dropped. The first error is
// returned (Backstage's runner keeps the original string instead; set
// Options.KeepOnError for that behaviour).
func RenderTree(tree any, ctx map[string]any) (any, error) {
	return Options{StepStatus: true}.RenderTree(tree, ctx)
}

func (o Options) newRenderer(src string, ctx any) *renderer {
	vs := "${{"
	if o.CookiecutterCompat {
		vs = "{{"
	}
	r := &renderer{
		lx:      &lexer{src: src, varStart: vs, varEnd: "}}", trimBlocks: o.TrimBlocks, lstripBlocks: o.LstripBlocks},
		globals: map[string]any{},
		opts:    &o,
	}
	switch c := normalize(ctx).(type) {
	case *Object:
		r.ctx = c
	default:
		r.ctx = NewObject()
	}
	for k, v := range builtinGlobals {
		r.globals[k] = v
	}
	if o.StepStatus {
		r.globals["always"] = method(func([]any) (any, error) { return true, nil })
		failed := o.Failed
		r.globals["failure"] = method(func([]any) (any, error) { return failed, nil })
	}
	for k, v := range o.Globals {
		r.globals[k] = normalize(v)
	}
	return r
}

func (r *renderer) parse() ([]stmt, error) {
	segs, err := r.lx.segments()
	if err != nil {
		return nil, err
	}
	bp := &blockParser{lx: r.lx, segs: segs}
	body, end, _, err := bp.parseBody()
	if err != nil {
		return nil, err
	}
	if end != "" {
		return nil, r.errAt(0, "Unexpected end tag")
	}
	return body, nil
}

// RenderString renders a template to a string. ctx is a map[string]any or
// an *Object (keeps key order).
func (o Options) RenderString(tmpl string, ctx any) (out string, err error) {
	r := o.newRenderer(tmpl, ctx)
	body, err := r.parse()
	if err != nil {
		return "", err
	}
	var b strings.Builder
	if err := r.exec(body, &frame{vars: map[string]any{}}, &b); err != nil {
		return "", err
	}
	return b.String(), nil
}

// RenderValue renders in value mode (see the package-level RenderValue).
func (o Options) RenderValue(tmpl string, ctx any) (any, error) {
	r := o.newRenderer(tmpl, ctx)
	body, err := r.parse()
	if err != nil {
		return nil, err
	}
	f := &frame{vars: map[string]any{}}
	if len(body) == 1 {
		if out, ok := body[0].(*outputStmt); ok {
			v, err := r.eval(out.x, f)
			if err != nil {
				return nil, err
			}
			return exportValue(v), nil
		}
	}
	var b strings.Builder
	if err := r.exec(body, f, &b); err != nil {
		return nil, err
	}
	return b.String(), nil
}

// exportValue turns engine-internal values (functions, regexes) into
// plain data.
func exportValue(v any) any {
	switch x := v.(type) {
	case Func:
		return Undefined
	case *jsRegex:
		return NewObject()
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = exportValue(e)
		}
		return out
	case *Object:
		o := NewObject()
		for _, k := range x.keys {
			o.Set(k, exportValue(x.vals[k]))
		}
		return o
	}
	return v
}

// RenderTree renders every string of a JSON-like tree in value mode.
func (o Options) RenderTree(tree any, ctx any) (any, error) {
	c := normalize(ctx)
	return o.renderTree(tree, c, 0)
}

func (o Options) renderTree(tree any, ctx any, depth int) (any, error) {
	if depth > maxDepth {
		return nil, &Error{Msg: "input nested too deeply"}
	}
	switch x := tree.(type) {
	case string:
		v, err := o.RenderValue(x, ctx)
		if err != nil && o.KeepOnError {
			if o.OnKeep != nil {
				o.OnKeep(x, err)
			}
			return x, nil
		}
		return v, err
	case []any:
		out := make([]any, 0, len(x))
		for _, e := range x {
			v, err := o.renderTree(e, ctx, depth+1)
			if err != nil {
				return nil, err
			}
			out = append(out, v)
		}
		return out, nil
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			v, err := o.renderTree(e, ctx, depth+1)
			if err != nil {
				return nil, err
			}
			if !IsUndefined(v) {
				out[k] = v
			}
		}
		return out, nil
	case *Object:
		out := NewObject()
		for _, k := range x.keys {
			v, err := o.renderTree(x.vals[k], ctx, depth+1)
			if err != nil {
				return nil, err
			}
			if !IsUndefined(v) {
				out.Set(k, v)
			}
		}
		return out, nil
	}
	return tree, nil
}

var builtinGlobals = map[string]any{
	"range": method(func(args []any) (any, error) {
		start, stop, step := 0.0, 0.0, 1.0
		switch len(args) {
		case 0:
		case 1:
			stop = toNumber(args[0])
		default:
			start, stop = toNumber(args[0]), toNumber(args[1])
			if len(args) > 2 {
				step = toNumber(args[2])
			}
		}
		out := []any{}
		if step == 0 {
			return out, nil
		}
		for i := start; (step > 0 && i < stop) || (step < 0 && i > stop); i += step {
			if len(out) >= 100000 {
				return nil, &Error{Msg: "range() result too large"}
			}
			out = append(out, i)
		}
		return out, nil
	}),
	"cycler": method(func(args []any) (any, error) {
		items := append([]any{}, args...)
		o := NewObject()
		pos := 0
		o.Set("current", nil)
		o.Set("next", method(func([]any) (any, error) {
			if len(items) == 0 {
				return Undefined, nil
			}
			v := items[pos]
			pos = (pos + 1) % len(items)
			o.Set("current", v)
			return v, nil
		}))
		o.Set("reset", method(func([]any) (any, error) { pos = 0; o.Set("current", nil); return Undefined, nil }))
		return o, nil
	}),
	"joiner": method(func(args []any) (any, error) {
		sep := ","
		if len(args) > 0 {
			sep = jsString(args[0])
		}
		first := true
		return method(func([]any) (any, error) {
			if first {
				first = false
				return "", nil
			}
			return sep, nil
		}), nil
	}),
}
