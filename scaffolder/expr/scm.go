package expr

import (
	"fmt"
	"net/url"
	"strings"
)

// defaultIntegrations are the hosts Backstage's ScmIntegrations knows
// without any integrations configuration.
var defaultIntegrations = map[string]string{
	"github.com":    "github",
	"gitlab.com":    "gitlab",
	"bitbucket.org": "bitbucketCloud",
	"dev.azure.com": "azure",
}

var scaffolderFilters = map[string]filterFn{
	"parseRepoUrl": func(r *renderer, in any, a []any, kw *Object) (any, error) {
		return parseRepoURL(jsString(in), r.opts.Integrations)
	},
	"projectSlug": func(r *renderer, in any, a []any, kw *Object) (any, error) {
		o, err := parseRepoURL(jsString(in), r.opts.Integrations)
		if err != nil {
			return nil, err
		}
		owner, _ := o.Get("owner")
		repo, _ := o.Get("repo")
		return concatString(owner) + "/" + concatString(repo), nil
	},
	"parseEntityRef": func(r *renderer, in any, a []any, kw *Object) (any, error) {
		return parseEntityRef(in, argAt(a, 0))
	},
	"pick": func(r *renderer, in any, a []any, kw *Object) (any, error) {
		return lodashGet(in, argAt(a, 0)), nil
	},
}

func integrationType(host string, configured map[string]string) (string, bool) {
	if t, ok := configured[host]; ok {
		return t, true
	}
	t, ok := defaultIntegrations[host]
	return t, ok
}

// parseRepoURL mirrors parseRepoUrl from @backstage/plugin-scaffolder-node.
func parseRepoURL(repoURL string, integrations map[string]string) (*Object, error) {
	u, err := url.Parse("https://" + repoURL)
	if err != nil || u.Host == "" {
		return nil, fmt.Errorf("Invalid URL")
	}
	if u.Path == "" {
		u.Path = "/"
	}
	host := u.Host
	typ, ok := integrationType(host, integrations)
	if !ok {
		return nil, fmt.Errorf("No matching integration configuration for host %s, please check your integrations config", host)
	}
	q := u.Query()
	get := func(k string) string { return q.Get(k) }
	full := u.String()
	check := func(params ...string) error {
		for _, p := range params {
			if get(p) == "" {
				return fmt.Errorf("Invalid repo URL passed to publisher: %s, missing %s", full, p)
			}
		}
		return nil
	}
	switch typ {
	case "bitbucketCloud":
		err = check("workspace", "project", "repo")
	case "bitbucket":
		if host == "www.bitbucket.org" {
			err = check("workspace")
		}
		if err == nil {
			err = check("project", "repo")
		}
	case "bitbucketServer", "azure":
		err = check("project", "repo")
	case "gitlab":
		if get("project") == "" {
			err = check("owner", "repo")
		}
	case "gitea", "gerrit":
		err = check("repo")
	default:
		err = check("repo", "owner")
	}
	if err != nil {
		return nil, err
	}
	o := NewObject()
	o.Set("host", host)
	for _, k := range []string{"owner", "repo", "organization", "workspace", "project"} {
		if q.Has(k) {
			o.Set(k, get(k))
		}
	}
	return o, nil
}

// parseEntityRef mirrors parseEntityRef from @backstage/catalog-model.
func parseEntityRef(ref any, ctx any) (any, error) {
	if !truthy(ref) {
		return nil, fmt.Errorf("Entity reference must not be empty")
	}
	var defKind, defNS any = Undefined, Undefined
	if c, ok := ctx.(*Object); ok {
		if v, ok := c.Get("defaultKind"); ok {
			defKind = v
		}
		if v, ok := c.Get("defaultNamespace"); ok {
			defNS = v
		}
	}
	if !truthy(defNS) {
		defNS = "default"
	}
	var kind, ns, name any
	switch x := ref.(type) {
	case string:
		colon := strings.Index(x, ":")
		slash := strings.Index(x, "/")
		if slash != -1 && slash < colon {
			colon = -1
		}
		kind, ns = Undefined, Undefined
		if colon != -1 {
			kind = x[:colon]
		}
		if slash != -1 {
			ns = x[colon+1 : slash]
		}
		start := colon + 1
		if slash+1 > start {
			start = slash + 1
		}
		name = x[start:]
		if kind == "" || ns == "" || name == "" {
			return nil, fmt.Errorf("Entity reference %q was not on the form [<kind>:][<namespace>/]<name>", x)
		}
	case *Object:
		kind, ns, name = getOr(x, "kind"), getOr(x, "namespace"), getOr(x, "name")
	default:
		kind, ns, name = Undefined, Undefined, Undefined
	}
	if IsUndefined(kind) || kind == nil {
		kind = defKind
	}
	if IsUndefined(ns) || ns == nil {
		ns = defNS
	}
	textual, _ := ToJSON(ref)
	switch {
	case !truthy(kind):
		return nil, fmt.Errorf("Entity reference %s had missing or empty kind (e.g. did not start with \"component:\" or similar)", textual)
	case !truthy(ns):
		return nil, fmt.Errorf("Entity reference %s had missing or empty namespace", textual)
	case !truthy(name):
		return nil, fmt.Errorf("Entity reference %s had missing or empty name", textual)
	}
	o := NewObject()
	o.Set("kind", kind)
	o.Set("namespace", ns)
	o.Set("name", name)
	return o, nil
}

func getOr(o *Object, k string) any {
	if v, ok := o.Get(k); ok {
		return v
	}
	return Undefined
}

// lodashGet is lodash.get(obj, path).
func lodashGet(obj any, path any) any {
	var parts []string
	switch p := path.(type) {
	case []any:
		for _, e := range p {
			parts = append(parts, jsString(e))
		}
	default:
		s := jsString(p)
		s = strings.NewReplacer("[", ".", "]", "", "\"", "", "'", "").Replace(s)
		for _, x := range strings.Split(s, ".") {
			if x != "" {
				parts = append(parts, x)
			}
		}
	}
	r := &renderer{opts: &Options{}}
	v := obj
	for _, k := range parts {
		if isNil(v) {
			return Undefined
		}
		switch v.(type) {
		case *Object, []any:
			v = r.member(v, k)
		default:
			return Undefined
		}
	}
	return v
}
