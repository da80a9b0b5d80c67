package action

import (
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/greenroom-dev/greenroom/catalog"
	"github.com/greenroom-dev/greenroom/scaffolder/expr"
	"gopkg.in/yaml.v3"
)

// ---- catalog:register

type catalogRegister struct{ o BuiltinOptions }

func (catalogRegister) ID() string { return "catalog:register" }
func (catalogRegister) Description() string {
	return "Registers entities from a catalog descriptor file in the workspace into the software catalog."
}
func (catalogRegister) Schema() (map[string]any, map[string]any) {
	in := map[string]any{
		"oneOf": []any{
			schemaObj([]string{"catalogInfoUrl"}, map[string]any{
				"catalogInfoUrl": sType("string", "Catalog Info URL", "An absolute URL pointing to the catalog info file location"),
				"optional":       sType("boolean", "Optional", "Permit the registered location to optionally exist. Default: false"),
			}),
			schemaObj([]string{"repoContentsUrl"}, map[string]any{
				"repoContentsUrl": sType("string", "Repository Contents URL", "An absolute URL pointing to the root of a repository directory tree"),
				"catalogInfoPath": sType("string", "Fetch URL", "A relative path from the repo root pointing to the catalog info file, defaults to /catalog-info.yaml"),
				"optional":        sType("boolean", "Optional", "Permit the registered location to optionally exist. Default: false"),
			}),
		},
	}
	return in, schemaObj(nil, map[string]any{
		"entityRef":      sType("string", "Entity Ref", "The ref of the registered entity"),
		"catalogInfoUrl": sType("string", "Catalog Info URL", "The URL of the registered location"),
	})
}

// locationType is the catalog location type for a registered target:
// http(s) URLs are "url"; "<repo>/blob/<branch>/<path>" elsewhere (a local
// or file:// repository) is "git".
func locationType(target string) string {
	if strings.HasPrefix(target, "http://") || strings.HasPrefix(target, "https://") {
		return "url"
	}
	return "git"
}

func (a catalogRegister) Run(c *Context) error {
	infoURL, err := inStr(c.Input, "catalogInfoUrl")
	if err != nil {
		return err
	}
	if infoURL == "" {
		repo, err := inStr(c.Input, "repoContentsUrl")
		if err != nil {
			return err
		}
		if repo == "" {
			return fmt.Errorf("either catalogInfoUrl or repoContentsUrl is required")
		}
		p, err := inStr(c.Input, "catalogInfoPath")
		if err != nil {
			return err
		}
		if p == "" {
			p = "/catalog-info.yaml"
		}
		if _, err := cleanRel(strings.TrimPrefix(p, "/")); err != nil {
			return fmt.Errorf("catalogInfoPath: %w", err)
		}
		infoURL = strings.TrimSuffix(repo, "/") + "/" + strings.TrimPrefix(p, "/")
	}
	optional, err := inBool(c.Input, "optional")
	if err != nil {
		return err
	}
	c.out("catalogInfoUrl", infoURL)
	if c.DryRun {
		c.Logf("Would register %s in the catalog (dry run)", infoURL)
		return nil
	}
	if a.o.Catalog == nil {
		return errors.New("catalog:register: no catalog is configured")
	}
	c.Logf("Registering %s in the catalog", infoURL)
	ref, err := a.o.Catalog.Register(c.ctx(), locationType(infoURL), infoURL)
	if err != nil {
		if optional {
			c.Logf("Registering %s failed (optional): %v", infoURL, err)
			return nil
		}
		return fmt.Errorf("register %s: %w", infoURL, err)
	}
	if ref != "" {
		c.out("entityRef", ref)
	}
	return nil
}

// ---- catalog:write

type catalogWrite struct{}

func (catalogWrite) ID() string { return "catalog:write" }
func (catalogWrite) Description() string {
	return "Writes the catalog-info.yaml for your template"
}
func (catalogWrite) Schema() (map[string]any, map[string]any) {
	return schemaObj([]string{"entity"}, map[string]any{
		"filePath": sType("string", "Catalog file path", "Defaults to catalog-info.yaml"),
		"entity":   sType("object", "Entity info to write catalog-info.yaml", "You can provide the same values used in the Entity schema."),
	}), schemaObj(nil, map[string]any{})
}
func (catalogWrite) Run(c *Context) error {
	fp, err := inStr(c.Input, "filePath")
	if err != nil {
		return err
	}
	if fp == "" {
		fp = "catalog-info.yaml"
	}
	ent, ok := c.Input["entity"]
	if _, isMap := asMap(ent); !ok || !isMap {
		return fmt.Errorf("input \"entity\" must be an object")
	}
	dst, err := within(c.Workspace, fp, true)
	if err != nil {
		return fmt.Errorf("filePath: %w", err)
	}
	data, err := toYAML(ent)
	if err != nil {
		return err
	}
	c.Logf("Writing %s", fp)
	return writeFile(dst, data, 0o644)
}

// toYAML encodes a value keeping *expr.Object key order (Go maps are
// written with sorted keys).
func toYAML(v any) ([]byte, error) {
	n, err := yamlNode(v)
	if err != nil {
		return nil, err
	}
	var b strings.Builder
	enc := yaml.NewEncoder(&b)
	enc.SetIndent(2)
	if err := enc.Encode(n); err != nil {
		return nil, err
	}
	if err := enc.Close(); err != nil {
		return nil, err
	}
	return []byte(b.String()), nil
}

func yamlNode(v any) (*yaml.Node, error) {
	switch x := v.(type) {
	case *expr.Object:
		n := &yaml.Node{Kind: yaml.MappingNode}
		for _, k := range x.Keys() {
			e, _ := x.Get(k)
			if expr.IsUndefined(e) {
				continue
			}
			vn, err := yamlNode(e)
			if err != nil {
				return nil, err
			}
			n.Content = append(n.Content, &yaml.Node{Kind: yaml.ScalarNode, Value: k, Tag: "!!str"}, vn)
		}
		return n, nil
	case map[string]any:
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		n := &yaml.Node{Kind: yaml.MappingNode}
		for _, k := range keys {
			if expr.IsUndefined(x[k]) {
				continue
			}
			vn, err := yamlNode(x[k])
			if err != nil {
				return nil, err
			}
			n.Content = append(n.Content, &yaml.Node{Kind: yaml.ScalarNode, Value: k, Tag: "!!str"}, vn)
		}
		return n, nil
	case []any:
		n := &yaml.Node{Kind: yaml.SequenceNode}
		for _, e := range x {
			vn, err := yamlNode(e)
			if err != nil {
				return nil, err
			}
			n.Content = append(n.Content, vn)
		}
		return n, nil
	case []string:
		n := &yaml.Node{Kind: yaml.SequenceNode}
		for _, e := range x {
			n.Content = append(n.Content, &yaml.Node{Kind: yaml.ScalarNode, Value: e, Tag: "!!str"})
		}
		return n, nil
	case nil:
		return &yaml.Node{Kind: yaml.ScalarNode, Value: "null", Tag: "!!null"}, nil
	case string:
		return &yaml.Node{Kind: yaml.ScalarNode, Value: x, Tag: "!!str"}, nil
	case bool:
		return &yaml.Node{Kind: yaml.ScalarNode, Value: strconv.FormatBool(x), Tag: "!!bool"}, nil
	case float64:
		s, _ := expr.ToJSON(x)
		tag := "!!float"
		if x == float64(int64(x)) {
			tag = "!!int"
		}
		return &yaml.Node{Kind: yaml.ScalarNode, Value: s, Tag: tag}, nil
	case int:
		return &yaml.Node{Kind: yaml.ScalarNode, Value: strconv.Itoa(x), Tag: "!!int"}, nil
	}
	if expr.IsUndefined(v) {
		return &yaml.Node{Kind: yaml.ScalarNode, Value: "null", Tag: "!!null"}, nil
	}
	n := &yaml.Node{}
	if err := n.Encode(v); err != nil {
		return nil, fmt.Errorf("can not write %T as YAML: %w", v, err)
	}
	return n, nil
}

// ---- catalog:fetch

type catalogFetch struct{ o BuiltinOptions }

func (catalogFetch) ID() string { return "catalog:fetch" }
func (catalogFetch) Description() string {
	return "Returns entity or entities from the catalog by entity reference(s)"
}
func (catalogFetch) Schema() (map[string]any, map[string]any) {
	return schemaObj(nil, map[string]any{
			"entityRef":        sType("string", "Entity reference", "Entity reference of the entity to get"),
			"entityRefs":       sStrArray("Entity references", "Entity references of the entities to get"),
			"optional":         sType("boolean", "Optional", "Allow the entity or entities to optionally exist. Default: false"),
			"defaultKind":      sType("string", "Default kind", "The default kind of the entity reference"),
			"defaultNamespace": sType("string", "Default namespace", "The default namespace of the entity reference"),
		}), schemaObj(nil, map[string]any{
			"entity":   sType("object", "Entity", "Object containing same values used in the Entity schema. Only when used with `entityRef` parameter."),
			"entities": sType("array", "Entities", "Array containing objects with same values used in the Entity schema. Only when used with `entityRefs` parameter."),
		})
}

// normalizeRef fills a ref's missing kind and namespace.
func normalizeRef(ref, defKind, defNS string) (string, error) {
	r, err := catalog.ParseRef(ref, catalog.RefDefaults{Kind: defKind, Namespace: defNS})
	if err != nil {
		return "", fmt.Errorf("invalid entity ref %q: %v (give a kind, or defaultKind)", ref, err)
	}
	return strings.ToLower(r.String()), nil
}

func (a catalogFetch) Run(c *Context) error {
	ref, err := inStr(c.Input, "entityRef")
	if err != nil {
		return err
	}
	refs, err := inStrList(c.Input, "entityRefs")
	if err != nil {
		return err
	}
	if ref == "" && refs == nil {
		return fmt.Errorf("missing entity refs: give entityRef or entityRefs")
	}
	optional, err := inBool(c.Input, "optional")
	if err != nil {
		return err
	}
	defKind, _ := inStr(c.Input, "defaultKind")
	defNS, _ := inStr(c.Input, "defaultNamespace")
	if a.o.Catalog == nil {
		return errors.New("catalog:fetch: no catalog is configured")
	}
	get := func(r string) (any, error) {
		nr, err := normalizeRef(r, defKind, defNS)
		if err != nil {
			return nil, err
		}
		e, err := a.o.Catalog.Entity(c.ctx(), nr)
		if errors.Is(err, ErrNotFound) || (err == nil && e == nil) {
			if optional {
				return nil, nil
			}
			return nil, fmt.Errorf("entity %s not found", r)
		}
		if err != nil {
			return nil, err
		}
		return e, nil
	}
	if ref != "" {
		e, err := get(ref)
		if err != nil {
			return err
		}
		c.out("entity", e)
	}
	if refs != nil {
		out := make([]any, 0, len(refs))
		for _, r := range refs {
			e, err := get(r)
			if err != nil {
				return err
			}
			out = append(out, e)
		}
		c.out("entities", out)
	}
	return nil
}
