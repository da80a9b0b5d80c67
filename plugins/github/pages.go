package github

import (
	"fmt"
	"net/http"

	"github.com/greenroom-dev/greenroom/scaffolder/action"
)

// pagesAction is github:pages:enable: GitHub Pages for a repository, from
// a branch and folder (build type legacy) or a GitHub Actions workflow.
type pagesAction struct{ p *Plugin }

func (pagesAction) ID() string          { return "github:pages:enable" }
func (pagesAction) Description() string { return "Enables GitHub Pages for a repository." }

func (pagesAction) Schema() (map[string]any, map[string]any) {
	buildType := prop("string", "Build Type", "The GitHub Pages build type - \"legacy\" or \"workflow\". Default is \"workflow\"")
	buildType["enum"] = []any{"legacy", "workflow"}
	sourcePath := prop("string", "Source Path", "The GitHub Pages source path - \"/\" or \"/docs\". Default is \"/\"")
	sourcePath["enum"] = []any{"/", "/docs"}
	return action.ObjectSchema([]string{"repoUrl"}, map[string]any{
		"repoUrl":      prop("string", "Repository Location", repoURLDesc),
		"buildType":    buildType,
		"sourceBranch": prop("string", "Source Branch", "The GitHub Pages source branch. Default is \"main\""),
		"sourcePath":   sourcePath,
		"token":        prop("string", "Authorization Token", "The token to use for authorization to GitHub"),
	}), nil
}

func (a pagesAction) Run(c *action.Context) error {
	in := c.Input
	buildType, err := action.StringInput(in, "buildType")
	if err != nil {
		return err
	}
	if buildType == "" {
		buildType = "workflow"
	}
	branch, err := action.StringInput(in, "sourceBranch")
	if err != nil {
		return err
	}
	if branch == "" {
		branch = "main"
	}
	path, err := action.StringInput(in, "sourcePath")
	if err != nil {
		return err
	}
	if path == "" {
		path = "/"
	}
	if buildType != "legacy" && buildType != "workflow" {
		return fmt.Errorf("input \"buildType\" must be \"legacy\" or \"workflow\", got %q", buildType)
	}
	if path != "/" && path != "/docs" {
		return fmt.Errorf("input \"sourcePath\" must be \"/\" or \"/docs\", got %q", path)
	}
	if !validRef(branch) {
		return fmt.Errorf("input \"sourceBranch\": %q is not a branch name", branch)
	}
	t, err := a.p.resolve(c, true)
	if err != nil {
		return err
	}
	c.Logf("Attempting to enable GitHub Pages for %s with %q build type, on source branch %q and source path %q", t.slug(), buildType, branch, path)
	body := map[string]any{"build_type": buildType, "source": map[string]any{"branch": branch, "path": path}}
	if err := t.c.call(ctxOf(c), http.MethodPost, t.path("pages"), body, nil); err != nil {
		return fmt.Errorf("enabling GitHub Pages for %s: %w", t.slug(), err)
	}
	c.Logf("Completed enabling GitHub Pages")
	return nil
}
