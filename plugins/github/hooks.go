package github

import (
	"fmt"
	"net/http"
	"net/url"

	"github.com/greenroom-dev/greenroom/scaffolder/action"
)

// webhookAction is github:webhook. As in Backstage, a failure to create
// the hook is only a warning in the log: the repository exists by then,
// and the task should not fail over its notifications.
type webhookAction struct{ p *Plugin }

func (webhookAction) ID() string           { return "github:webhook" }
func (webhookAction) Description() string  { return "Creates webhook for a repository on GitHub." }
func (webhookAction) SupportsDryRun() bool { return true }

func (webhookAction) Schema() (map[string]any, map[string]any) {
	events := prop("array", "Triggering Events", "Determines what events the hook is triggered for. Default: `[push]`", []any{"push"})
	events["items"] = map[string]any{"type": "string"}
	return action.ObjectSchema([]string{"repoUrl", "webhookUrl"}, map[string]any{
		"repoUrl":       prop("string", "Repository Location", repoURLDesc),
		"webhookUrl":    prop("string", "Webhook URL", "The URL to which the payloads will be delivered"),
		"webhookSecret": prop("string", "Webhook Secret", "Webhook secret value. The default is events.modules.github.webhookSecret"),
		"events":        events,
		"active":        prop("boolean", "Active", "Determines if notifications are sent when the webhook is triggered. Default: `true`", true),
		"contentType":   withEnum(prop("string", "Content Type", "The media type used to serialize the payloads. The default is `form`", "form"), "form", "json"),
		"insecureSsl":   prop("boolean", "Insecure SSL", "Determines whether the SSL certificate of the host for url will be verified when delivering payloads. Default `false`", false),
		"token":         prop("string", "Authentication Token", "The `GITHUB_TOKEN` to use for authorization to GitHub"),
	}), nil
}

func (a webhookAction) Run(c *action.Context) error {
	in := c.Input
	hookURL, err := action.StringInput(in, "webhookUrl")
	if err != nil {
		return err
	}
	if u, err := url.Parse(hookURL); hookURL == "" || err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return fmt.Errorf("input \"webhookUrl\" must be an http(s) URL")
	}
	repoURL, _ := action.StringInput(in, "repoUrl")
	c.Logf("Creating webhook %s for repo %s", hookURL, repoURL)
	t, err := a.p.resolve(c, !c.DryRun)
	if err != nil {
		return err
	}
	// The events endpoint's own secret is the natural default: a hook
	// created by a template usually points back at this portal.
	secret, err := stringOr(in, "webhookSecret", a.p.webhookSecret)
	if err != nil {
		return err
	}
	if secret != "" {
		c.Secrets["github webhook secret"] = secret // resolve made c.Secrets our own copy
	}
	events, err := action.StringListInput(in, "events")
	if err != nil {
		return err
	}
	if events == nil {
		events = []string{"push"}
	}
	active, err := boolOr(in, "active", true)
	if err != nil {
		return err
	}
	contentType, err := stringOr(in, "contentType", "form")
	if err == nil {
		err = oneOf("contentType", contentType, "form", "json")
	}
	if err != nil {
		return err
	}
	insecure, err := boolOr(in, "insecureSsl", false)
	if err != nil {
		return err
	}
	if c.DryRun {
		c.Logf("Dry run complete")
		return nil
	}
	insecureSSL := "0"
	if insecure {
		insecureSSL = "1"
	}
	cfg := map[string]any{"url": hookURL, "content_type": contentType, "insecure_ssl": insecureSSL}
	if secret != "" {
		cfg["secret"] = secret
	}
	body := map[string]any{"config": cfg, "events": events, "active": active}
	if err := t.c.call(ctxOf(c), http.MethodPost, t.path("hooks"), body, nil); err != nil {
		c.Logf("Failed: create webhook '%s' on repo: '%s', %v", hookURL, t.repo.Repo, err)
		return nil
	}
	c.Logf("Webhook '%s' created successfully", hookURL)
	return nil
}

// dispatchAction is github:actions:dispatch.
type dispatchAction struct{ p *Plugin }

func (dispatchAction) ID() string { return "github:actions:dispatch" }
func (dispatchAction) Description() string {
	return "Dispatches a GitHub Action workflow for a given branch or tag"
}

func (dispatchAction) Schema() (map[string]any, map[string]any) {
	return action.ObjectSchema([]string{"repoUrl", "workflowId", "branchOrTagName"}, map[string]any{
		"repoUrl":         prop("string", "Repository Location", repoURLDesc),
		"workflowId":      prop("string", "Workflow ID", "The GitHub Action Workflow filename"),
		"branchOrTagName": prop("string", "Branch or Tag name", "The git branch or tag name used to dispatch the workflow"),
		"workflowInputs":  prop("object", "Workflow Inputs", "Inputs keys and values to send to GitHub Action configured on the workflow file. The maximum number of properties is 10. "),
		"token":           prop("string", "Authentication Token", "The `GITHUB_TOKEN` to use for authorization to GitHub"),
	}), nil
}

func (a dispatchAction) Run(c *action.Context) error {
	in := c.Input
	workflow, err := action.StringInput(in, "workflowId")
	if err != nil {
		return err
	}
	ref, err := action.StringInput(in, "branchOrTagName")
	if err != nil {
		return err
	}
	if workflow == "" || ref == "" {
		return fmt.Errorf("inputs \"workflowId\" and \"branchOrTagName\" are required")
	}
	if !validRef(ref) {
		return fmt.Errorf("input \"branchOrTagName\": %q is not a branch or tag name", ref)
	}
	inputs, err := action.MapInput(in, "workflowInputs")
	if err != nil {
		return err
	}
	if len(inputs) > 10 {
		return fmt.Errorf("input \"workflowInputs\" may have at most 10 properties, got %d", len(inputs))
	}
	repoURL, _ := action.StringInput(in, "repoUrl")
	c.Logf("Dispatching workflow %s for repo %s on %s", workflow, repoURL, ref)
	t, err := a.p.resolve(c, true)
	if err != nil {
		return err
	}
	body := map[string]any{"ref": ref}
	if inputs != nil {
		body["inputs"] = inputs
	}
	if err := t.c.call(ctxOf(c), http.MethodPost, t.path("actions", "workflows", workflow, "dispatches"), body, nil); err != nil {
		return fmt.Errorf("dispatching the workflow %s on %s: %w", workflow, t.slug(), err)
	}
	c.Logf("Workflow %s dispatched successfully", workflow)
	return nil
}
