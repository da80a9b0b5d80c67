package e2e

import (
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/playwright-community/playwright-go"
)

// The golden path in a browser: choose the demo's "New Go service"
// template, fill its form (a validation error corrected, back and forth
// with the values kept), review, create, watch the task finish and open
// the new component from the output link.
func TestCreateGoldenPath(t *testing.T) {
	if _, err := exec.LookPath("git"); err != nil {
		t.Skip("git not installed")
	}
	a := newApp(t, nil)
	p := newTab(t)
	p.allow("status of 422") // a page with errors comes back as 422

	p.open(a.URL + "/create")
	p.shot("create-list")
	p.must(p.Locator("a[aria-label='Choose New Go service']").Click())
	p.waitURL("/create/templates/default/new-go-service")
	p.must(p.expect(p.Locator("h2")).ToHaveText("About the service"))
	name := p.Locator("#f-values-name")
	owner := p.Locator("#f-values-owner")
	p.must(p.expect(name).ToBeFocused()) // ui:autofocus

	// A bad name and no owner: errors beside both fields, input kept.
	p.must(name.Fill("Basket API"))
	p.must(p.Locator("button[value=next]").Click())
	p.must(p.expect(p.Locator("#f-values-name-error")).ToContainText("pattern"))
	p.must(p.expect(p.Locator("#f-values-owner-error")).ToContainText("required"))
	p.must(p.expect(name).ToHaveAttribute("aria-invalid", "true"))
	p.must(p.expect(name).ToHaveValue("Basket API"))
	p.shot("create-form-errors")

	// Correct them; the owner picker suggests groups as one types.
	p.must(name.Fill("basket-api"))
	p.must(p.Locator("#f-values-description").Fill("Keeps baskets between visits."))
	p.must(owner.Click())
	p.must(owner.PressSequentially("store"))
	p.must(p.expect(p.Locator("#f-values-owner-list option[value='group:default/team-storefront']")).ToHaveCount(1))
	p.must(owner.Fill("group:default/team-storefront"))
	p.must(p.Locator("#f-values-system").Fill("system:default/storefront"))
	if _, err := p.Locator("#f-values-lifecycle").SelectOption(playwright.SelectOptionValues{Values: &[]string{"production"}}); err != nil {
		t.Fatal(err)
	}
	p.must(p.Locator("button[value=next]").Click())

	// Page two: the repository, on the demo's git host.
	p.must(p.expect(p.Locator("h2")).ToHaveText("Repository"))
	p.must(p.expect(p.Locator("#f-values-repoUrl-host")).ToHaveValue("git.freshcart.example"))
	p.must(p.Locator("#f-values-repoUrl-owner").Fill("freshcart"))
	p.must(p.Locator("#f-values-repoUrl-repo").Fill("basket-api"))
	p.shot("create-form-repo")

	// Back: page one as it was left; forward again: page two as well.
	p.must(p.Locator("button[value=back]").Click())
	p.must(p.expect(name).ToHaveValue("basket-api"))
	p.must(p.expect(owner).ToHaveValue("group:default/team-storefront"))
	p.must(p.expect(p.Locator("#f-values-lifecycle")).ToHaveValue("production"))
	p.must(p.Locator("button[value=next]").Click())
	p.must(p.expect(p.Locator("#f-values-repoUrl-repo")).ToHaveValue("basket-api"))
	p.must(p.Locator("button[value=next]").Click())

	// Review: every answer, with enum names.
	review := p.Locator("form.wizard")
	p.must(p.expect(p.Locator("h2")).ToHaveText("Review"))
	p.must(p.expect(review).ToContainText("basket-api"))
	p.must(p.expect(review).ToContainText("Production"))
	p.must(p.expect(review).ToContainText("git.freshcart.example?owner=freshcart&repo=basket-api"))
	p.shot("create-review")

	// Create: the task page follows the run to its end.
	p.must(p.Locator("button[value=create]").Click())
	p.waitURL("/create/tasks/")
	status := p.Locator(".task-summary .status")
	p.must(playwright.NewPlaywrightAssertions(30000).Locator(status).ToHaveAttribute("data-status", "completed"))
	steps := p.Locator(".task-steps li")
	// five steps: publish:git runs for the demo's host, publish:gitea
	// (for a Gitea integration's hosts) is skipped by its if
	p.must(p.expect(steps).ToHaveCount(5))
	p.must(p.expect(p.Locator(".task-steps li.status-completed")).ToHaveCount(4))
	p.must(p.expect(p.Locator(".task-steps li.status-skipped")).ToHaveCount(1))
	p.must(p.expect(p.Locator("#task-log")).ToContainText("Pushing to"))
	p.must(p.expect(p.Locator(".task-output")).ToContainText("Next steps"))
	p.shot("create-task-done")

	// The bare repository holds the new service.
	bare := filepath.Join(a.Dir, "scaffolder", "repos", "git.freshcart.example", "freshcart", "basket-api.git")
	out, err := exec.Command("git", "--git-dir="+bare, "ls-tree", "-r", "--name-only", "main").Output()
	if err != nil {
		t.Fatalf("git ls-tree: %v", err)
	}
	for _, f := range []string{"catalog-info.yaml", "mkdocs.yml", "docs/index.md", "main.go", ".github/workflows/ci.yaml", "kubernetes/deployment.yaml"} {
		if !strings.Contains(string(out), f+"\n") {
			t.Errorf("the new repository lacks %s:\n%s", f, out)
		}
	}

	// The output link opens the new component, owned and part of its system.
	p.must(p.Locator(".task-output a[data-entity]").Click())
	p.waitURL("/catalog/default/component/basket-api")
	p.must(p.expect(p.Locator("h1")).ToContainText("basket-api"))
	p.must(p.expect(p.Locator("main")).ToContainText("team-storefront"))
	p.must(p.expect(p.Locator("main")).ToContainText("storefront"))
	p.shot("create-new-entity")

	// Its docs, from the new repository.
	p.must(p.Locator(".tabs a", playwright.PageLocatorOptions{HasText: "Docs"}).Click())
	p.must(p.expect(p.Locator("main")).ToContainText("go run ."))
	p.shot("create-new-entity-docs")
}

// slowTemplate logs, waits and logs again, so that a test can watch a run
// while it happens and cancel it.
const slowTemplate = `apiVersion: backstage.io/v1alpha1
kind: Location
metadata: {name: e2e-templates}
spec:
  targets: [./slow.yaml]
`

const slowTemplateFile = `apiVersion: scaffolder.backstage.io/v1beta3
kind: Template
metadata:
  name: slow-one
  title: Slow one
  description: Takes its time.
spec:
  owner: team-platform
  type: service
  parameters:
    - title: Timing
      properties:
        wait:
          title: Seconds to wait
          type: integer
          default: 2
          minimum: 0
          maximum: 30
  steps:
    - id: hello
      name: Say hello
      action: debug:log
      input: {message: "hello from the first step"}
    - id: wait
      name: Wait
      action: debug:wait
      input: {seconds: "${{ parameters.wait }}"}
    - id: bye
      name: Say goodbye
      action: debug:log
      input: {message: "goodbye from the last step"}
`

// The task page follows a run live over server-sent events (no reload),
// and cancel and start over work.
func TestCreateLiveLogCancelRetry(t *testing.T) {
	a := newApp(t, extraFiles{"all.yaml": slowTemplate, "slow.yaml": slowTemplateFile})
	p := newTab(t)
	p.open(a.URL + "/create/templates/default/slow-one")
	p.must(p.Locator("button[value=next]").Click())
	p.must(p.expect(p.Locator("h2")).ToHaveText("Review"))
	p.must(p.Locator("button[value=create]").Click())
	p.waitURL("/create/tasks/")

	// Mark the document: a reload would lose the mark.
	if _, err := p.Evaluate("() => { window.__sameDocument = true }"); err != nil {
		t.Fatal(err)
	}
	p.must(p.expect(p.Locator("#task-log")).ToContainText("hello from the first step"))
	p.must(p.expect(p.Locator(".task-steps li[data-step=wait]")).ToHaveClass("step status-processing"))
	p.shot("create-task-running")
	long := playwright.NewPlaywrightAssertions(15000)
	p.must(long.Locator(p.Locator("#task-log")).ToContainText("goodbye from the last step"))
	p.must(long.Locator(p.Locator(".task-summary .status")).ToHaveAttribute("data-status", "completed"))
	same, err := p.Evaluate("() => window.__sameDocument === true")
	if err != nil || same != true {
		t.Fatalf("the task page reloaded instead of following the stream (%v)", err)
	}
	// Each log line once, even across the stream's state swaps.
	p.must(p.expect(p.Locator(".log-line", playwright.PageLocatorOptions{HasText: "hello from the first step"})).ToHaveCount(1))

	// A long run, cancelled, then started over and cancelled again.
	p.open(a.URL + "/create/templates/default/slow-one")
	p.must(p.Locator("#f-values-wait").Fill("30"))
	p.must(p.Locator("button[value=next]").Click())
	p.must(p.Locator("button[value=create]").Click())
	p.waitURL("/create/tasks/")
	p.must(p.expect(p.Locator(".task-steps li[data-step=wait]")).ToHaveClass("step status-processing"))
	start := time.Now()
	p.must(p.Locator("button", playwright.PageLocatorOptions{HasText: "Cancel"}).Click())
	p.must(p.expect(p.Locator(".task-summary .status")).ToHaveAttribute("data-status", "cancelled"))
	if d := time.Since(start); d > 10*time.Second {
		t.Errorf("cancelling took %v", d)
	}
	p.shot("create-task-cancelled")
	p.must(p.Locator("button", playwright.PageLocatorOptions{HasText: "Start over"}).Click())
	p.must(p.expect(p.Locator(".task-steps li[data-step=wait]")).ToHaveClass("step status-processing"))
	p.must(p.expect(p.Locator("#task-log")).ToContainText("Retrying the task"))
	p.must(p.Locator("button", playwright.PageLocatorOptions{HasText: "Cancel"}).Click())
	p.must(p.expect(p.Locator(".task-summary .status")).ToHaveAttribute("data-status", "cancelled"))
	taskURL := p.URL()

	// The task list shows both runs.
	p.open(a.URL + "/create/tasks")
	p.must(p.expect(p.Locator("table tbody tr")).ToHaveCount(2))
	p.shot("create-task-list")

	// A phone: the wizard and a task page without sideways scrolling.
	phone := newTab(t, 390, 844)
	for _, u := range []string{a.URL + "/create", a.URL + "/create/templates/default/new-go-service", taskURL, a.URL + "/create/tasks"} {
		phone.open(u)
		wide, err := phone.Evaluate("() => document.documentElement.scrollWidth > window.innerWidth + 1")
		phone.must(err)
		if wide == true {
			t.Errorf("%s scrolls sideways on a phone", u)
		}
	}
	phone.open(a.URL + "/create/templates/default/new-go-service")
	phone.shot("create-form-phone")
}
