package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"path/filepath"
	"strings"
	"time"

	"github.com/go-chi/chi/v5/middleware"

	catalogapi "github.com/greenroom-dev/greenroom/catalog/api"
	"github.com/greenroom-dev/greenroom/catalog/store"
	"github.com/greenroom-dev/greenroom/plugins"
	"github.com/greenroom-dev/greenroom/plugins/rbac"
	"github.com/greenroom-dev/greenroom/scaffolder/task"
	"github.com/greenroom-dev/greenroom/web"
	"github.com/greenroom-dev/greenroom/web/audit"
	"github.com/greenroom-dev/greenroom/web/auth"
)

// demoGuest is who visits the bundled demo: Backstage's guest, as a
// person of the demo company so the pages have someone to be personal to.
const demoGuest = "user:default/guest"

// startAuth makes the sign-in service from auth.* and backend.auth.*
// (Backstage's keys). The bundled demo gets the guest provider, so
// `greenroom serve` needs no configuration; a real config turns guest on
// only if it says so.
func (a *app) startAuth(auditor *audit.Auditor) (*auth.Auth, func(), error) {
	cfg, err := auth.DecodeConfig(plugins.NewConfig(a.cfg.Raw))
	if err != nil {
		return nil, nil, err
	}
	if a.cfg.Demo && cfg.Guest == nil {
		cfg.Guest = &auth.GuestConfig{UserEntityRef: demoGuest, OwnershipEntityRefs: []string{demoGuest}}
	}
	sessions, err := auth.OpenSQLiteSessions(filepath.Join(a.cfg.DataDir, "sessions.db"))
	if err != nil {
		return nil, nil, err
	}
	base := strings.TrimSuffix(str(lookupRaw(a.cfg.Raw, "backend", "baseUrl")), "/")
	if base == "" {
		base = "http://" + a.cfg.Addr
	}
	au, err := auth.New(auth.Options{
		Config: cfg, BaseURL: base, BasePath: "/api/auth",
		Users: auth.CatalogUsers{Store: a.store}, Sessions: sessions,
		KeyFile: filepath.Join(a.cfg.DataDir, "auth-signing-key.pem"),
		Auditor: auditor, Log: a.log,
		// The identity provider is the admin's choice (metadataUrl), on
		// any address, like an integration's host.
		HTTP:        &http.Client{Timeout: 30 * time.Second},
		Secure:      strings.HasPrefix(base, "https://"),
		Development: a.cfg.Demo,
		RequestID:   func(r *http.Request) string { return middleware.GetReqID(r.Context()) },
	})
	if err != nil {
		sessions.Close()
		return nil, nil, fmt.Errorf("auth: %w", err)
	}
	return au, func() { sessions.Close() }, nil
}

func lookupRaw(raw map[string]any, path ...string) any {
	var v any = raw
	for _, p := range path {
		m, ok := v.(map[string]any)
		if !ok {
			return nil
		}
		v = m[p]
	}
	return v
}

// actorOf is who made a request, for the audit log.
func actorOf(r *http.Request) string {
	id, _ := auth.FromContext(r.Context())
	return id.ActorID()
}

// startPermissions loads the RBAC policy (permission.*, RHDH's files,
// relative to the config file's directory) for /api/permission.
func (a *app) startPermissions(configDir string) (*rbac.Service, error) {
	s, err := rbac.ReadSettings(plugins.NewConfig(a.cfg.Raw))
	if err != nil {
		return nil, err
	}
	return rbac.NewService(s, configDir, a.log)
}

// permissionUser is the policy's view of a request's identity.
func permissionUser(r *http.Request) (rbac.Identity, bool) {
	id, _ := auth.FromContext(r.Context())
	switch id.Kind {
	case auth.KindSession, auth.KindToken, auth.KindGuest:
		return rbac.Identity{Ref: id.UserRef, OwnershipRefs: id.OwnershipRefs}, id.UserRef != ""
	}
	return rbac.Identity{}, false
}

// catalogResource reads a catalog entity for a conditional decision.
func (a *app) catalogResource(ctx context.Context, resourceType, ref string) (map[string]any, error) {
	if resourceType != rbac.ResourceCatalogEntity {
		return nil, nil
	}
	final, err := a.store.FinalByRef(ctx, strings.ToLower(ref))
	if errors.Is(err, store.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var m map[string]any
	if err := json.Unmarshal(final, &m); err != nil {
		return nil, err
	}
	return m, nil
}

// permissionWords say what a permission lets one do, for the message a
// refused person reads.
var permissionWords = map[string]string{
	"catalog.location.create": "register locations in the catalog",
	"catalog.location.delete": "unregister locations",
	"catalog.entity.delete":   "delete this entity",
	"catalog.entity.refresh":  "refresh this entity",
	"scaffolder.task.create":  "run templates",
	"greenroom.audit.read":    "read the audit log",
}

// authorizer decides one permission for a request's user with the policy
// in force; resource is a catalog entity's JSON for resource permissions.
// A refusal says what was refused and whom to ask; why (the policy line)
// goes to the log for admins, not to the person.
func (a *app) authorizer(perms *rbac.Service) func(r *http.Request, name string, resource []byte) error {
	return func(r *http.Request, name string, resource []byte) error {
		if !perms.Enabled() {
			return nil
		}
		perm, ok := rbac.Lookup(name)
		if !ok {
			return fmt.Errorf("unknown permission %s", name)
		}
		user, _ := permissionUser(r)
		d := perms.Decide(user, perm)
		var entity map[string]any
		if resource != nil {
			json.Unmarshal(resource, &entity)
		}
		if d.Result == rbac.Conditional && entity != nil {
			d = d.ApplyTo(entity)
		}
		if d.Result == rbac.Allow {
			return nil
		}
		a.log.Info("permission denied", "user", user.Ref, "permission", name, "why", d.Explanation.Summary())
		what := permissionWords[name]
		if what == "" {
			what = "do this"
		}
		ask := "a portal admin"
		if spec, _ := entity["spec"].(map[string]any); spec != nil {
			if owner, _ := spec["owner"].(string); owner != "" {
				ask = owner + " (its owner) or a portal admin"
			}
		}
		who := user.Ref
		if who == "" {
			who = "You (not signed in)"
		}
		return fmt.Errorf("%s may not %s (%s); ask %s", who, what, name, ask)
	}
}

// readPolicy is catalog.entity.read for a request's user, decided once
// per request: a filter for queries and a check of one entity.
type readPolicy struct{ d rbac.Decision }

func (p readPolicy) Filter() (store.Predicate, error) { return p.d.Predicate() }

func (p readPolicy) Allows(final []byte) bool {
	switch p.d.Result {
	case rbac.Allow:
		return true
	case rbac.Conditional:
		var m map[string]any
		if json.Unmarshal(final, &m) != nil {
			return false
		}
		return p.d.ApplyTo(m).Result == rbac.Allow
	}
	return false
}

// reads is the catalog API's read policy (nil with permissions off).
func reads(perms *rbac.Service) func(r *http.Request) catalogapi.ReadPolicy {
	if !perms.Enabled() {
		return nil
	}
	return func(r *http.Request) catalogapi.ReadPolicy {
		user, _ := permissionUser(r)
		return readPolicy{d: perms.Decide(user, rbac.CatalogEntityRead)}
	}
}

// guardReads keeps the search and TechDocs APIs from answering past the
// read policy: TechDocs of an entity the user may not read are not found,
// and search — whose index cannot yet apply a conditional read inside its
// query — is refused for users whose reads are restricted (the pages'
// search falls back to the catalog's filtered text match instead).
func (a *app) guardReads(perms *rbac.Service, searchAPI, techdocsAPI http.Handler) (http.Handler, http.Handler) {
	rp := reads(perms)
	if rp == nil {
		return searchAPI, techdocsAPI
	}
	restricted := func(r *http.Request) (catalogapi.ReadPolicy, bool) {
		p := rp(r)
		f, err := p.Filter()
		return p, err != nil || f != nil
	}
	search := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if _, ok := restricted(r); ok {
			catalogapi.WriteError(w, r, &catalogapi.Error{Name: "NotAllowedError",
				Message: "Search is not available to users whose catalog access is restricted yet; use the catalog's filters"})
			return
		}
		searchAPI.ServeHTTP(w, r)
	})
	docs := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if p, ok := restricted(r); ok {
			// /metadata/{techdocs|entity}/{ns}/{kind}/{name}, /static/docs/{ns}/{kind}/{name}/…
			parts := strings.Split(strings.TrimPrefix(r.URL.Path, "/api/techdocs/"), "/")
			if len(parts) >= 5 {
				ref := strings.ToLower(parts[3] + ":" + parts[2] + "/" + parts[4])
				final, err := a.store.FinalByRef(r.Context(), ref)
				if err != nil || !p.Allows(final) {
					catalogapi.WriteError(w, r, &catalogapi.Error{Name: "NotFoundError", Message: "No entity " + ref})
					return
				}
			}
		}
		techdocsAPI.ServeHTTP(w, r)
	})
	return search, docs
}

// pageReads is the pages' read policy (nil with permissions off).
func pageReads(perms *rbac.Service) func(r *http.Request) web.ReadPolicy {
	rp := reads(perms)
	if rp == nil {
		return nil
	}
	return func(r *http.Request) web.ReadPolicy { return rp(r) }
}

// taskUser is who runs a template: the signed-in user's ref and User
// entity (templates read them as user.ref and user.entity), or nobody.
func (a *app) taskUser(r *http.Request) task.User {
	id, _ := auth.FromContext(r.Context())
	if id.UserRef == "" {
		return task.User{}
	}
	u := task.User{Ref: id.UserRef}
	if final, err := a.store.FinalByRef(r.Context(), strings.ToLower(id.UserRef)); err == nil {
		json.Unmarshal(final, &u.Entity)
	}
	return u
}
