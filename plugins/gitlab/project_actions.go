package gitlab

import (
	"context"
	"fmt"
	"net/http"
	"regexp"
	"strconv"
	"time"

	"github.com/greenroom-dev/greenroom/scaffolder/action"
)

// pipelineTriggerAction is gitlab:pipeline:trigger: a trigger token is
// created, used once and deleted again whatever happens.
type pipelineTriggerAction struct{ p *Plugin }

func (pipelineTriggerAction) ID() string          { return "gitlab:pipeline:trigger" }
func (pipelineTriggerAction) Description() string { return "Triggers a GitLab Pipeline." }

func (pipelineTriggerAction) Schema() (map[string]any, map[string]any) {
	vars := action.TypeSchema("object", "Variables", "A object/record of key-valued strings containing the pipeline variables.")
	vars["additionalProperties"] = map[string]any{"type": "string"}
	in := action.ObjectSchema([]string{"repoUrl", "projectId", "tokenDescription", "branch"}, map[string]any{
		"repoUrl":          repoURLSchema(),
		"token":            tokenSchema(),
		"projectId":        sNumber("Project Id", "Project Id"),
		"tokenDescription": sString("Token description", "Pipeline token description"),
		"branch":           sString("Branch", "Project branch"),
		"variables":        vars,
	})
	out := action.ObjectSchema(nil, map[string]any{"pipelineUrl": sString("Pipeline Url", "Pipeline Url")})
	return in, out
}

func (a pipelineTriggerAction) Run(c *action.Context) error {
	in := c.Input
	ctx := ctxOf(c)
	repoURL, _ := action.StringInput(in, "repoUrl")
	host, err := hostOf(repoURL)
	if err != nil {
		return err
	}
	pid, err := projectIDInput(in, "projectId")
	if err != nil {
		return err
	}
	desc, err := requireString(in, "tokenDescription")
	if err != nil {
		return err
	}
	branch, err := requireString(in, "branch")
	if err != nil {
		return err
	}
	if !validBranch(branch) {
		return fmt.Errorf("invalid branch %q", branch)
	}
	var vars map[string]string
	if err := decodeInput(in, "variables", &vars); err != nil {
		return err
	}
	cl, _, err := a.p.actionClient(c, host)
	if err != nil {
		return err
	}
	proj := "/projects/" + enc(pid)

	var trigger struct {
		ID    int64  `json:"id"`
		Token string `json:"token"`
	}
	if err := cl.post(ctx, proj+"/triggers", map[string]any{"description": desc}, &trigger); err != nil {
		return fmt.Errorf("Failed to trigger Pipeline: %w", err)
	}
	addSecret(c, "\x00gitlab trigger token", trigger.Token)
	if trigger.ID != 0 {
		defer func() {
			// the token is deleted even when the task was cancelled
			dctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
			defer cancel()
			route := proj + "/triggers/" + strconv.FormatInt(trigger.ID, 10)
			if _, derr := cl.call(dctx, http.MethodDelete, route, nil, nil, nil); derr != nil {
				c.Logf("Failed to delete pipeline trigger token with token id: %d.", trigger.ID)
				return
			}
			c.Logf("Deleted pipeline trigger token with token id: %d.", trigger.ID)
		}()
	}
	if trigger.Token == "" {
		return fmt.Errorf("Failed to create pipeline token for project %s.", pid)
	}
	c.Logf("Pipeline token id %d created for project %s.", trigger.ID, pid)
	body := map[string]any{"token": trigger.Token, "ref": branch}
	if len(vars) > 0 {
		body["variables"] = vars
	}
	var pipeline struct {
		ID     int64  `json:"id"`
		WebURL string `json:"web_url"`
	}
	if err := cl.post(ctx, proj+"/trigger/pipeline", body, &pipeline); err != nil {
		return fmt.Errorf("Failed to trigger Pipeline: %w", err)
	}
	if pipeline.ID == 0 {
		return fmt.Errorf("Failed to trigger pipeline for project %s.", pid)
	}
	c.Logf("Pipeline id %d for project %s triggered.", pipeline.ID, pid)
	output(c, "pipelineUrl", pipeline.WebURL)
	return nil
}

// projectVariableAction is gitlab:projectVariable:create.
type projectVariableAction struct{ p *Plugin }

func (projectVariableAction) ID() string { return "gitlab:projectVariable:create" }
func (projectVariableAction) Description() string {
	return "Creates a CI/CD variable of a GitLab project."
}

func (projectVariableAction) Schema() (map[string]any, map[string]any) {
	pid := map[string]any{"title": "Project ID", "description": "Project ID", "type": []any{"number", "string"}}
	key := sString("Key", "The key of a variable; must have no more than 255 characters; only A-Z, a-z, 0-9, and _ are allowed")
	key["pattern"] = varKeyRe.String()
	in := action.ObjectSchema([]string{"repoUrl", "projectId", "key", "value", "variableType"}, map[string]any{
		"repoUrl":           sString("Repository Location", "Repository Location"),
		"token":             tokenSchema(),
		"projectId":         pid,
		"key":               key,
		"value":             sString("Value", "The value of a variable"),
		"variableType":      sString("Variable Type", "Variable Type (env_var or file)"),
		"variableProtected": sBool("Protected", "Whether the variable is protected"),
		"masked":            sBool("Masked", "Whether the variable is masked"),
		"raw":               sBool("Raw", "Whether the variable is expandable"),
		"environmentScope":  sString("Environment scope", "The environment_scope of the variable"),
	})
	return in, action.ObjectSchema(nil, map[string]any{})
}

func (a projectVariableAction) Run(c *action.Context) error {
	in := c.Input
	repoURL, _ := action.StringInput(in, "repoUrl")
	host, err := hostOf(repoURL)
	if err != nil {
		return err
	}
	pid, err := projectIDInput(in, "projectId")
	if err != nil {
		return err
	}
	key, err := requireString(in, "key")
	if err != nil {
		return err
	}
	if !varKeyRe.MatchString(key) {
		return fmt.Errorf("input \"key\" %q must be 1-255 characters of A-Z, a-z, 0-9 and _", key)
	}
	value, err := action.StringInput(in, "value")
	if err != nil {
		return err
	}
	addSecret(c, "\x00gitlab variable value", value)
	varType, err := requireString(in, "variableType")
	if err != nil {
		return err
	}
	protected, err := action.BoolInput(in, "variableProtected")
	if err != nil {
		return err
	}
	masked, err := action.BoolInput(in, "masked")
	if err != nil {
		return err
	}
	raw, err := action.BoolInput(in, "raw")
	if err != nil {
		return err
	}
	scope, err := action.StringInput(in, "environmentScope")
	if err != nil {
		return err
	}
	cl, _, err := a.p.actionClient(c, host)
	if err != nil {
		return err
	}
	body := map[string]any{
		"key": key, "value": value, "variable_type": varType, "protected": protected,
		"masked": masked, "raw": raw, "environment_scope": orDefault(scope, "*"),
	}
	if err := cl.post(ctxOf(c), "/projects/"+enc(pid)+"/variables", body, nil); err != nil {
		return fmt.Errorf("creating variable %s of project %s: %w", key, pid, err)
	}
	return nil
}

// accessTokenAction is gitlab:projectAccessToken:create. Its output is a
// secret: it is never logged.
type accessTokenAction struct{ p *Plugin }

func (accessTokenAction) ID() string { return "gitlab:projectAccessToken:create" }
func (accessTokenAction) Description() string {
	return "Creates an access token of a GitLab project."
}

func (accessTokenAction) Schema() (map[string]any, map[string]any) {
	pid := map[string]any{"title": "Project ID", "description": "Project ID/Name(slug) of the Gitlab Project", "type": []any{"number", "string"}}
	in := action.ObjectSchema([]string{"projectId", "repoUrl"}, map[string]any{
		"projectId":   pid,
		"token":       tokenSchema(),
		"name":        sString("Name", "Name of Access Key"),
		"repoUrl":     sString("Repository Location", "URL to gitlab instance"),
		"accessLevel": sNumber("Access level", "Access Level of the Token, 10 (Guest), 20 (Reporter), 30 (Developer), 40 (Maintainer), and 50 (Owner)"),
		"scopes":      action.StringArraySchema("Scopes", "Scopes for a project access token"),
		"expiresAt":   sString("Expires at", "Expiration date of the access token in ISO format (YYYY-MM-DD). If Empty, it will set to the maximum of 365 days."),
	})
	out := action.ObjectSchema(nil, map[string]any{"access_token": sString("Access Token", "Access Token")})
	return in, out
}

var isoDateRe = regexp.MustCompile(`^\d{4}-\d{2}-\d{2}$`)

func (a accessTokenAction) Run(c *action.Context) error {
	in := c.Input
	repoURL, _ := action.StringInput(in, "repoUrl")
	host, err := hostOf(repoURL)
	if err != nil {
		return err
	}
	pid, err := projectIDInput(in, "projectId")
	if err != nil {
		return err
	}
	name, err := action.StringInput(in, "name")
	if err != nil {
		return err
	}
	name = orDefault(name, "tokenname")
	level := 40.0
	if n, ok, err := action.NumberInput(in, "accessLevel"); err != nil {
		return err
	} else if ok {
		level = n
	}
	scopes, err := action.StringListInput(in, "scopes")
	if err != nil {
		return err
	}
	if len(scopes) == 0 {
		scopes = []string{"read_repository"}
	}
	expires, err := action.StringInput(in, "expiresAt")
	if err != nil {
		return err
	}
	if expires == "" {
		expires = a.p.now().AddDate(0, 0, 365).Format("2006-01-02")
	} else if t, err := time.Parse(time.RFC3339, expires); err == nil {
		expires = t.Format("2006-01-02")
	} else if !isoDateRe.MatchString(expires) {
		return fmt.Errorf("input \"expiresAt\" %q must be a date (YYYY-MM-DD)", expires)
	}
	cl, _, err := a.p.actionClient(c, host)
	if err != nil {
		return err
	}
	c.Logf("Creating Token for Project %q", pid)
	var tok struct {
		Token string `json:"token"`
	}
	body := map[string]any{"name": name, "scopes": scopes, "expires_at": expires, "access_level": int(level)}
	if err := cl.post(ctxOf(c), "/projects/"+enc(pid)+"/access_tokens", body, &tok); err != nil {
		return fmt.Errorf("creating an access token of project %s: %w", pid, err)
	}
	if tok.Token == "" {
		return fmt.Errorf("Could not create project access token")
	}
	addSecret(c, "\x00gitlab project access token", tok.Token)
	output(c, "access_token", tok.Token)
	return nil
}

// groupEnsureExistsAction is gitlab:group:ensureExists. As in Backstage it
// supports dry runs: it then calls nothing and outputs groupId 42.
type groupEnsureExistsAction struct{ p *Plugin }

func (groupEnsureExistsAction) ID() string          { return "gitlab:group:ensureExists" }
func (groupEnsureExistsAction) Description() string { return "Ensures a Gitlab group exists" }
func (groupEnsureExistsAction) SupportsDryRun() bool {
	return true // plugins/scaffolder-backend-module-gitlab/src/actions/gitlabGroupEnsureExists.ts
}

func (groupEnsureExistsAction) Schema() (map[string]any, map[string]any) {
	item := map[string]any{"anyOf": []any{
		map[string]any{"type": "string"},
		action.ObjectSchema([]string{"name", "slug"}, map[string]any{"name": map[string]any{"type": "string"}, "slug": map[string]any{"type": "string"}}),
	}}
	in := action.ObjectSchema([]string{"repoUrl", "path"}, map[string]any{
		"repoUrl": sString("Repository Location", "Repository Location"),
		"token":   tokenSchema(),
		"path":    map[string]any{"type": "array", "minItems": 1, "items": item, "description": "A path of group names or objects (name and slug) that is ensured to exist"},
	})
	out := action.ObjectSchema(nil, map[string]any{"groupId": sNumber("Group ID", "The id of the innermost sub-group")})
	return in, out
}

type groupElem struct{ name, slug string }

func (a groupEnsureExistsAction) Run(c *action.Context) error {
	in := c.Input
	if c.DryRun {
		output(c, "groupId", float64(42))
		return nil
	}
	repoURL, _ := action.StringInput(in, "repoUrl")
	host, err := hostOf(repoURL)
	if err != nil {
		return err
	}
	var raw []any
	if err := decodeInput(in, "path", &raw); err != nil {
		return err
	}
	if len(raw) == 0 {
		return fmt.Errorf("input \"path\" must hold at least one group")
	}
	elems := make([]groupElem, 0, len(raw))
	for i, r := range raw {
		var e groupElem
		switch v := r.(type) {
		case string:
			e = groupElem{v, v}
		case map[string]any:
			e.name, _ = v["name"].(string)
			e.slug, _ = v["slug"].(string)
		}
		if e.name == "" || !segRe.MatchString(e.slug) {
			return fmt.Errorf("input \"path\"[%d] must be a group path or {name, slug}", i)
		}
		elems = append(elems, e)
	}
	cl, _, err := a.p.actionClient(c, host)
	if err != nil {
		return err
	}
	ctx := ctxOf(c)
	full := ""
	var parent int64
	for _, e := range elems {
		if full == "" {
			full = e.slug
		} else {
			full += "/" + e.slug
		}
		var found []struct {
			ID       int64  `json:"id"`
			FullPath string `json:"full_path"`
		}
		if _, err := cl.get(ctx, "/groups", map[string][]string{"search": {full}}, &found); err != nil {
			return err
		}
		var id int64
		for _, g := range found {
			if g.FullPath == full {
				id = g.ID
				break
			}
		}
		if id == 0 {
			c.Logf("creating missing group %s", full)
			body := map[string]any{"name": e.name, "path": e.slug}
			if parent != 0 {
				body["parent_id"] = parent
			}
			var g struct {
				ID int64 `json:"id"`
			}
			if err := cl.post(ctx, "/groups", body, &g); err != nil {
				return fmt.Errorf("creating group %s: %w", full, err)
			}
			id = g.ID
		}
		parent = id
	}
	output(c, "groupId", float64(parent))
	return nil
}
