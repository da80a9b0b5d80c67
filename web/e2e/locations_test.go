package e2e

import (
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"

	"github.com/playwright-community/playwright-go"
)

const importedCatalog = `apiVersion: backstage.io/v1alpha1
kind: Component
metadata:
  name: imported-service
  title: Imported service
  description: Registered from the import page during a test.
spec:
  type: service
  lifecycle: experimental
  owner: team-platform
  providesApis: [imported-api]
---
apiVersion: backstage.io/v1alpha1
kind: API
metadata:
  name: imported-api
spec:
  type: openapi
  lifecycle: experimental
  owner: team-platform
  definition: |
    openapi: 3.0.0
    info: {title: Imported, version: "1"}
    paths: {}
`

// Registering an existing component: errors beside the field, analysis,
// import, the new entities in the catalog, then unregistering it.
func TestRegisterLocation(t *testing.T) {
	a := newApp(t, nil)
	repo := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/org/repo/catalog-info.yaml" {
			http.NotFound(w, r)
			return
		}
		w.Write([]byte(importedCatalog))
	}))
	t.Cleanup(repo.Close)

	p := newTab(t)
	p.allow("status of 422") // the form with an error comes back as 422 Unprocessable Entity
	p.allow("status of 404") // the unregistered entity's page
	p.open(a.URL + "/catalog")
	p.must(p.Locator("a", playwright.PageLocatorOptions{HasText: "Register existing component"}).Click())
	p.waitURL("/catalog-import")
	field := p.Locator("#import-target")

	// Bad input: the error sits beside the field, the input is kept.
	p.must(field.Fill("not a location"))
	p.must(p.Locator("button[value=analyze]").Click())
	p.must(p.expect(p.Locator("#import-error")).ToContainText("neither a URL"))
	p.must(p.expect(field).ToHaveAttribute("aria-invalid", "true"))
	p.must(p.expect(field).ToHaveValue("not a location"))
	p.must(field.Fill("/etc/catalog-info.yaml"))
	p.must(p.Locator("button[value=analyze]").Click())
	p.must(p.expect(p.Locator("#import-error")).ToContainText("Local paths cannot be registered"))
	p.must(field.Fill(repo.URL + "/org/repo/missing.yaml"))
	p.must(p.Locator("button[value=analyze]").Click())
	p.must(p.expect(p.Locator("#import-error")).ToContainText("does not exist"))
	p.shot("import-error")

	// Analyze, then import.
	target := repo.URL + "/org/repo/catalog-info.yaml"
	p.must(field.Fill(target))
	p.must(p.Locator("button[value=analyze]").Click())
	review := p.Locator("#import-review")
	p.must(p.expect(review).ToContainText("component:default/imported-service"))
	p.must(p.expect(review).ToContainText("api:default/imported-api"))
	p.shot("import-review")
	p.must(p.Locator("button[value=register]").Click())
	done := p.Locator("#import-done")
	p.must(p.expect(done).ToContainText("entities added"))
	p.shot("import-done")
	p.must(done.Locator("a", playwright.LocatorLocatorOptions{HasText: "Imported service"}).Click())
	p.waitURL("/catalog/default/component/imported-service")
	p.must(p.expect(p.Locator("#provided-apis")).ToContainText("imported-api"))

	// It is in the catalog table too.
	p.open(a.URL + "/catalog?kind=component&q=imported")
	p.must(p.expect(p.Locator("#results tbody tr")).ToHaveCount(1))

	// The locations page lists it; unregister removes its entities.
	p.open(a.URL + "/locations")
	row := p.Locator("tr[data-location='url:" + target + "']")
	p.must(p.expect(row).ToContainText("api"))
	p.shot("locations")
	p.must(row.Locator("button", playwright.LocatorLocatorOptions{HasText: "Unregister"}).Click())
	p.must(p.expect(p.Locator(".notice.ok")).ToContainText("unregistered"))
	p.must(p.expect(p.Locator("tr[data-location='url:" + target + "']")).ToHaveCount(0))
	resp := p.open(a.URL + "/catalog/default/component/imported-service")
	if resp.Status() != http.StatusNotFound {
		t.Errorf("unregistered entity page: status %d", resp.Status())
	}
}

const extraRoot = `apiVersion: backstage.io/v1alpha1
kind: Location
metadata:
  name: extra
spec:
  targets: [./fragile.yaml, ./broken.yaml]
`

const fragile = `apiVersion: backstage.io/v1alpha1
kind: Component
metadata:
  name: fragile-service
  description: Its file breaks during the test.
spec:
  type: service
  lifecycle: production
  owner: team-platform
`

// A broken file: the locations page shows the error of its location; an
// entity whose file breaks keeps its last good version and shows why.
func TestBrokenFileErrors(t *testing.T) {
	a := newApp(t, extraFiles{
		"all.yaml":     extraRoot,
		"fragile.yaml": fragile,
		"broken.yaml":  "apiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata: {name: [unclosed\n",
	})
	p := newTab(t)
	p.open(a.URL + "/")
	p.must(p.expect(p.Locator(".notice.error")).ToContainText("1 processing error"))
	p.must(p.Locator(".notice.error a").Click())
	p.waitURL("/locations")
	row := p.Locator("tr[data-location$='extra/all.yaml']")
	p.must(p.expect(row).ToContainText("1 error"))
	p.must(row.Locator("summary").Click())
	p.must(p.expect(row.Locator(".errors-list")).ToContainText("broken.yaml"))
	p.shot("locations-errors")

	// Break the component's file and crawl again.
	p.open(a.URL + "/catalog/default/component/fragile-service")
	p.must(p.expect(p.Locator("#processing-errors")).ToHaveCount(0))
	if err := os.WriteFile(filepath.Join(a.Dir, "extra", "fragile.yaml"), []byte("kind: Component\nmetadata:\n  name: [oops\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := a.Engine.CrawlAll(context.Background()); err != nil {
		t.Fatal(err)
	}
	p.open(a.URL + "/catalog/default/component/fragile-service")
	p.must(p.expect(p.Locator("#processing-errors")).ToContainText("fragile.yaml"))
	p.must(p.expect(p.Locator("section[aria-labelledby=about-title]")).ToContainText("Its file breaks during the test."))
	p.shot("entity-processing-error")

	// The refresh button asks for a crawl and says so.
	p.open(a.URL + "/locations")
	p.must(p.Locator("tr[data-location$='extra/all.yaml'] button", playwright.PageLocatorOptions{HasText: "Refresh"}).Click())
	p.must(p.expect(p.Locator(".notice.ok")).ToContainText("Refresh requested"))
}
