package api

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"io/fs"
	"net/http"
	"net/url"
	"path"
	"sort"
	"strings"

	"github.com/greenroom-dev/greenroom/catalog"
)

func sortStrings(s []string) { sort.Strings(s) }

func encodeBase64(b []byte) string { return base64.StdEncoding.EncodeToString(b) }

func decodeBase64(s string) ([]byte, error) { return base64.StdEncoding.DecodeString(s) }

// matchLocation evaluates a predicate query against a location's fields
// (id, type, target, entityRef); there are few locations, so this runs in memory.
func matchLocation(q map[string]any, l locationJSON) (bool, error) {
	if q == nil {
		return true, nil
	}
	fields := map[string]string{"id": l.ID, "type": l.Type, "target": l.Target, "entityref": l.EntityRef}
	var eval func(p any) (bool, error)
	eval = func(p any) (bool, error) {
		obj, ok := p.(map[string]any)
		if !ok {
			return false, inputErr("Query must be an object")
		}
		if v, ok := obj["$not"]; ok && len(obj) == 1 {
			r, err := eval(v)
			return !r, err
		}
		if v, ok := obj["$all"]; ok && len(obj) == 1 {
			list, _ := v.([]any)
			for _, sub := range list {
				if r, err := eval(sub); err != nil || !r {
					return false, err
				}
			}
			return true, nil
		}
		if v, ok := obj["$any"]; ok && len(obj) == 1 {
			list, _ := v.([]any)
			for _, sub := range list {
				if r, err := eval(sub); err != nil || r {
					return r, err
				}
			}
			return false, nil
		}
		keys := sortedKeys(obj)
		for _, k := range keys {
			if strings.HasPrefix(k, "$") {
				return false, inputErr("Invalid filter predicate, unknown logic operator '%s'", strings.Join(keys, ", "))
			}
		}
		// Every key is checked before any value, so the answer does not
		// depend on the order the keys are visited in.
		for _, k := range keys {
			if _, known := fields[strings.ToLower(k)]; !known {
				return false, inputErr("Invalid filter predicate, expected key to be 'id', 'type', 'target', or 'entityRef', got '%s'", k)
			}
		}
		matched := true
		for _, k := range keys {
			val := fields[strings.ToLower(k)]
			cond := obj[k]
			if s, ok := primitive(cond); ok {
				matched = matched && strings.EqualFold(val, s)
				continue
			}
			c, ok := cond.(map[string]any)
			if !ok || c == nil {
				return false, inputErr("Invalid filter predicate, got unknown matcher object '%s'", mustJSON(cond))
			}
			if e, ok := c["$exists"]; ok {
				want, _ := e.(bool)
				matched = matched && want // every location has every field
				continue
			}
			if in, ok := c["$in"]; ok {
				list, _ := in.([]any)
				found := false
				for _, item := range list {
					if s, ok := primitive(item); ok && strings.EqualFold(s, val) {
						found = true
					}
				}
				matched = matched && found
				continue
			}
			if p, ok := c["$hasPrefix"]; ok {
				prefix, _ := p.(string)
				matched = matched && strings.HasPrefix(strings.ToLower(val), strings.ToLower(prefix))
				continue
			}
			if _, ok := c["$contains"]; ok {
				matched = false // no location field is an array
				continue
			}
			return false, inputErr("Invalid filter predicate, got unknown matcher object '%s'", mustJSON(cond))
		}
		if !matched {
			return false, nil
		}
		return true, nil
	}
	return eval(q)
}

// POST /analyze-location: what registering a location would find. An
// existing descriptor file yields its entities; a repository or folder
// without one yields a suggested Component for the user to complete.
func (s *Server) postAnalyzeLocation(w http.ResponseWriter, r *http.Request) error {
	var body struct {
		Location *struct {
			Type   string `json:"type"`
			Target string `json:"target"`
		} `json:"location"`
		CatalogFilename *string `json:"catalogFilename"`
		CatalogFileName *string `json:"catalogFileName"`
	}
	if err := readBody(r, &body); err != nil {
		return err
	}
	if body.Location == nil || body.Location.Type == "" || body.Location.Target == "" {
		return inputErr("Malformed request: location with type and target is required")
	}
	// Analyzing reads the target (a git location is cloned): vetted as a
	// registration is.
	if s.CheckLocation != nil {
		if err := s.CheckLocation(r.Context(), catalog.LocationSpec{Type: body.Location.Type, Target: body.Location.Target}); err != nil {
			return notAllowed("%s", err.Error())
		}
	}
	filename := "catalog-info.yaml"
	if body.CatalogFilename != nil && *body.CatalogFilename != "" {
		filename = *body.CatalogFilename
	} else if body.CatalogFileName != nil && *body.CatalogFileName != "" {
		filename = *body.CatalogFileName
	}
	spec := catalog.LocationSpec{Type: body.Location.Type, Target: body.Location.Target}
	if spec.Type == "url" {
		u, err := url.Parse(spec.Target)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return inputErr("The given location.target is not a URL")
		}
	}
	// A target that names no YAML file is a repository or folder: look for
	// its catalog file.
	candidates := []catalog.LocationSpec{spec}
	if !strings.HasSuffix(spec.Target, ".yaml") && !strings.HasSuffix(spec.Target, ".yml") {
		candidates = []catalog.LocationSpec{{Type: spec.Type, Target: strings.TrimSuffix(spec.Target, "/") + "/" + filename}}
	}
	type fileOut struct {
		Entity       *catalog.Entity      `json:"entity"`
		IsRegistered bool                 `json:"isRegistered"`
		Location     catalog.LocationSpec `json:"location"`
	}
	existing := []fileOut{}
	for _, c := range candidates {
		files, err := s.Ingester.Read(r.Context(), c)
		if errors.Is(err, fs.ErrPermission) {
			// The server's reading policy refuses the target (no
			// integration or backend.reading.allow rule, or an internal
			// address): say so rather than suggest an entity for it.
			return notAllowed("%v", err)
		}
		if err != nil {
			continue
		}
		for _, f := range files {
			_, regErr := s.Store.LocationByTarget(r.Context(), f.Location.Type, f.Location.Target)
			for _, e := range f.Entities {
				existing = append(existing, fileOut{Entity: e, IsRegistered: regErr == nil, Location: catalog.LocationSpec{Type: f.Location.Type, Target: f.Location.Target}})
			}
		}
	}
	generate := []any{}
	if len(existing) == 0 {
		name := path.Base(strings.TrimSuffix(strings.TrimSuffix(spec.Target, "/"), ".git"))
		if !catalog.IsValidEntityName(name) {
			name = ""
		}
		fields := []map[string]any{
			{"field": "spec.owner", "state": "needsUserInput", "value": nil, "description": "Entity owner, a user or group that is responsible for it"},
		}
		if name == "" {
			fields = append(fields, map[string]any{"field": "metadata.name", "state": "needsUserInput", "value": nil, "description": "Entity name"})
		}
		md := map[string]any{}
		if name != "" {
			md["name"] = name
		}
		generate = append(generate, map[string]any{
			"entity": map[string]any{"apiVersion": catalog.APIVersionV1alpha1, "kind": "Component", "metadata": md,
				"spec": map[string]any{"type": "other", "lifecycle": "unknown"}},
			"fields": fields,
		})
	}
	WriteJSON(w, http.StatusOK, map[string]any{"existingEntityFiles": existing, "generateEntities": generate})
	return nil
}

func mustJSON(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}
