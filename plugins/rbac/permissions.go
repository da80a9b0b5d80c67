package rbac

import (
	"encoding/json"
	"fmt"
	"slices"
)

// Permission types, as Backstage's permission objects carry them.
const (
	TypeBasic    = "basic"
	TypeResource = "resource"
)

// Actions of RHDH's policy rows. A permission without an action attribute
// is decided with "use" (rbac-common toPermissionAction).
const (
	ActionCreate = "create"
	ActionRead   = "read"
	ActionUpdate = "update"
	ActionDelete = "delete"
	ActionUse    = "use"
)

// Actions lists the actions a policy row or a permissionMapping may name.
func Actions() []string {
	return []string{ActionCreate, ActionRead, ActionUpdate, ActionDelete, ActionUse}
}

func isAction(s string) bool { return slices.Contains(Actions(), s) }

// Resource types of Backstage's resource permissions.
const (
	ResourceCatalogEntity      = "catalog-entity"
	ResourceScaffolderTemplate = "scaffolder-template"
	ResourceScaffolderAction   = "scaffolder-action"
	ResourceScaffolderTask     = "scaffolder-task"
	ResourcePolicyEntity       = "policy-entity"
)

// Permission is a Backstage permission: its name, whether it is about a
// resource, and its action attribute ("" when it has none, decided as
// "use"). PluginID is the plugin that defines it, the pluginId a
// conditional decision names; it is not part of the wire object.
type Permission struct {
	Name         string
	Type         string // TypeBasic or TypeResource
	ResourceType string // resource permissions only
	Action       string // create, read, update, delete, or ""
	PluginID     string
}

// PolicyAction is the action policy rows are matched with: the action
// attribute, or "use" when the permission has none.
func (p Permission) PolicyAction() string {
	if p.Action == "" {
		return ActionUse
	}
	return p.Action
}

// IsResource reports whether the permission is about a resource.
func (p Permission) IsResource() bool { return p.Type == TypeResource }

// wirePermission is the permission object of Backstage's permission API.
type wirePermission struct {
	Type         string            `json:"type"`
	Name         string            `json:"name"`
	Attributes   map[string]string `json:"attributes"`
	ResourceType string            `json:"resourceType,omitempty"`
}

// MarshalJSON writes Backstage's permission object
// ({type, name, attributes: {action?}, resourceType?}).
func (p Permission) MarshalJSON() ([]byte, error) {
	w := wirePermission{Type: p.Type, Name: p.Name, Attributes: map[string]string{}}
	if p.Action != "" {
		w.Attributes["action"] = p.Action
	}
	if p.IsResource() {
		w.ResourceType = p.ResourceType
	}
	return json.Marshal(w)
}

// UnmarshalJSON reads Backstage's permission object, as clients of
// /api/permission/authorize send it. PluginID is left empty.
func (p *Permission) UnmarshalJSON(data []byte) error {
	var w wirePermission
	if err := json.Unmarshal(data, &w); err != nil {
		return err
	}
	switch w.Type {
	case TypeBasic:
		if w.ResourceType != "" {
			return fmt.Errorf("permission %q: a basic permission has no resourceType", w.Name)
		}
	case TypeResource:
		if w.ResourceType == "" {
			return fmt.Errorf("permission %q: a resource permission needs a resourceType", w.Name)
		}
	default:
		return fmt.Errorf("permission %q: type %q is neither basic nor resource", w.Name, w.Type)
	}
	if w.Name == "" {
		return fmt.Errorf("permission: name is empty")
	}
	for k := range w.Attributes {
		if k != "action" {
			return fmt.Errorf("permission %q: unknown attribute %q", w.Name, k)
		}
	}
	action := w.Attributes["action"]
	if action != "" && (action == ActionUse || !isAction(action)) {
		return fmt.Errorf("permission %q: action %q is not one of create, read, update, delete", w.Name, action)
	}
	*p = Permission{Name: w.Name, Type: w.Type, ResourceType: w.ResourceType, Action: action}
	return nil
}

func basic(plugin, name, action string) Permission {
	return Permission{Name: name, Type: TypeBasic, Action: action, PluginID: plugin}
}

func resource(plugin, name, resourceType, action string) Permission {
	return Permission{Name: name, Type: TypeResource, ResourceType: resourceType, Action: action, PluginID: plugin}
}

// The permissions Greenroom checks. Names, types and actions are
// Backstage's (catalog-common, scaffolder-common, techdocs-common) and
// RHDH's (rbac-common); the greenroom.* ones are Greenroom's own, named as
// Backstage names its permissions (<plugin>.<resource>.<verb>).
var (
	CatalogEntityRead      = resource("catalog", "catalog.entity.read", ResourceCatalogEntity, ActionRead)
	CatalogEntityCreate    = basic("catalog", "catalog.entity.create", ActionCreate)
	CatalogEntityDelete    = resource("catalog", "catalog.entity.delete", ResourceCatalogEntity, ActionDelete)
	CatalogEntityRefresh   = resource("catalog", "catalog.entity.refresh", ResourceCatalogEntity, ActionUpdate)
	CatalogEntityValidate  = basic("catalog", "catalog.entity.validate", "")
	CatalogLocationRead    = basic("catalog", "catalog.location.read", ActionRead)
	CatalogLocationCreate  = basic("catalog", "catalog.location.create", ActionCreate)
	CatalogLocationDelete  = basic("catalog", "catalog.location.delete", ActionDelete)
	CatalogLocationAnalyze = basic("catalog", "catalog.location.analyze", "")

	ScaffolderActionExecute         = resource("scaffolder", "scaffolder.action.execute", ResourceScaffolderAction, "")
	ScaffolderTemplateParameterRead = resource("scaffolder", "scaffolder.template.parameter.read", ResourceScaffolderTemplate, ActionRead)
	ScaffolderTemplateStepRead      = resource("scaffolder", "scaffolder.template.step.read", ResourceScaffolderTemplate, ActionRead)
	ScaffolderTemplateManagement    = basic("scaffolder", "scaffolder.template.management", "")
	ScaffolderTaskCreate            = basic("scaffolder", "scaffolder.task.create", ActionCreate)
	ScaffolderTaskRead              = resource("scaffolder", "scaffolder.task.read", ResourceScaffolderTask, ActionRead)
	ScaffolderTaskCancel            = resource("scaffolder", "scaffolder.task.cancel", ResourceScaffolderTask, "")

	TechDocsEntityRead = resource("techdocs", "techdocs.entity.read", ResourceCatalogEntity, ActionRead)

	PolicyEntityRead   = resource("permission", "policy.entity.read", ResourcePolicyEntity, ActionRead)
	PolicyEntityCreate = basic("permission", "policy.entity.create", ActionCreate)
	PolicyEntityUpdate = resource("permission", "policy.entity.update", ResourcePolicyEntity, ActionUpdate)
	PolicyEntityDelete = resource("permission", "policy.entity.delete", ResourcePolicyEntity, ActionDelete)

	GreenroomAuditRead   = basic("greenroom", "greenroom.audit.read", ActionRead)
	GreenroomPluginsRead = basic("greenroom", "greenroom.plugins.read", ActionRead)
)

// Catalogue returns every permission Greenroom knows, in a stable order:
// what /.well-known/backstage/permissions/metadata lists and the policy
// page offers.
func Catalogue() []Permission {
	return []Permission{
		CatalogEntityRead, CatalogEntityCreate, CatalogEntityDelete, CatalogEntityRefresh,
		CatalogEntityValidate, CatalogLocationRead, CatalogLocationCreate, CatalogLocationDelete,
		CatalogLocationAnalyze,
		ScaffolderActionExecute, ScaffolderTemplateParameterRead, ScaffolderTemplateStepRead,
		ScaffolderTemplateManagement, ScaffolderTaskCreate, ScaffolderTaskRead, ScaffolderTaskCancel,
		TechDocsEntityRead,
		PolicyEntityRead, PolicyEntityCreate, PolicyEntityUpdate, PolicyEntityDelete,
		GreenroomAuditRead, GreenroomPluginsRead,
	}
}

// Lookup finds a permission of the catalogue by name.
func Lookup(name string) (Permission, bool) {
	for _, p := range Catalogue() {
		if p.Name == name {
			return p, true
		}
	}
	return Permission{}, false
}

// PluginPermissions returns the catalogue's permissions of one plugin
// ("catalog", "scaffolder", ...), for that plugin's metadata endpoint.
func PluginPermissions(pluginID string) []Permission {
	var out []Permission
	for _, p := range Catalogue() {
		if p.PluginID == pluginID {
			out = append(out, p)
		}
	}
	return out
}

// resourceTypes are the resource types of the catalogue.
func resourceTypes() []string {
	var out []string
	for _, p := range Catalogue() {
		if p.IsResource() && !slices.Contains(out, p.ResourceType) {
			out = append(out, p.ResourceType)
		}
	}
	return out
}
