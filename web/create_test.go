package web_test

import (
	"bufio"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"
)

const createCatalog = `apiVersion: backstage.io/v1alpha1
kind: Location
metadata: {name: root}
spec:
  targets: [./org.yaml, ./template.yaml]
`

const createOrg = `apiVersion: backstage.io/v1alpha1
kind: Group
metadata: {name: team-a, title: Team A}
spec: {type: team, children: []}
---
apiVersion: backstage.io/v1alpha1
kind: Group
metadata: {name: team-b}
spec: {type: team, children: []}
---
apiVersion: backstage.io/v1alpha1
kind: User
metadata: {name: jane}
spec: {memberOf: [team-a]}
---
apiVersion: backstage.io/v1alpha1
kind: System
metadata: {name: shop, tags: [retail]}
spec: {owner: team-a}
`

// A two-page template whose output text and title carry markup, and whose
// output link is a javascript: URL.
const createTemplate = `apiVersion: scaffolder.backstage.io/v1beta3
kind: Template
metadata:
  name: tiny
  title: Tiny <img src=x onerror=alert(1)>
  description: Makes a <b>tiny</b> thing.
spec:
  owner: team-a
  type: service
  presentation:
    buttonLabels:
      createButtonText: Make it
  parameters:
    - title: Basics
      required: [name, owner]
      properties:
        name: {title: Name, type: string, pattern: '^[a-z]+$'}
        owner:
          title: Owner
          type: string
          ui:field: OwnerPicker
          ui:options: {catalogFilter: {kind: Group}}
        size: {title: Size, type: string, enum: [s, l], enumNames: [Small, Large], default: s}
    - title: Secrets
      properties:
        token: {title: Token, type: string, ui:widget: password}
        system:
          title: System
          type: string
          ui:field: EntityPicker
          ui:options: {catalogFilter: [{kind: System}], defaultKind: System}
  steps:
    - id: log
      name: Log it
      action: debug:log
      input: {message: "making ${{ parameters.name }}"}
  output:
    links:
      - title: Evil
        url: "javascript:alert(1)"
      - title: Owner
        entityRef: ${{ parameters.owner }}
    text:
      - title: Done
        content: "**${{ parameters.name }}** <script>alert(1)</script>"
`

func postForm(t *testing.T, u string, form url.Values) (*http.Response, string) {
	t.Helper()
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	req, _ := http.NewRequest(http.MethodPost, u, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}

var stateRe = regexp.MustCompile(`name="_values" value="([^"]*)"`)

// state is the wizard's hidden state field, unescaped.
func state(t *testing.T, body string) string {
	t.Helper()
	m := stateRe.FindStringSubmatch(body)
	if m == nil {
		t.Fatalf("no _values field in:\n%s", body)
	}
	r := strings.NewReplacer("&#34;", `"`, "&amp;", "&", "&lt;", "<", "&gt;", ">", "&#39;", "'")
	return r.Replace(m[1])
}

// The wizard without JavaScript: errors on Next with the input kept, Back
// keeping values, the review with enum names and masked secrets, Create
// redirecting to the task page, which shows the run and its output safely.
func TestCreateWizard(t *testing.T) {
	hs := newServer(t, map[string]string{"all.yaml": createCatalog, "org.yaml": createOrg, "template.yaml": createTemplate})
	base := hs.URL + "/create/templates/default/tiny"

	resp, body := get(t, hs.URL+"/create")
	if resp.StatusCode != 200 || !strings.Contains(body, `href="/create/templates/default/tiny"`) {
		t.Fatalf("create list: %d\n%s", resp.StatusCode, body)
	}
	resp, body = get(t, base)
	if resp.StatusCode != 200 || !strings.Contains(body, `name="values.name"`) || strings.Contains(body, "<img src=x") {
		t.Fatalf("first page: %d\n%s", resp.StatusCode, body)
	}
	// the owner picker's suggestions: groups only (its catalogFilter)
	if !strings.Contains(body, `<option value="group:default/team-a">`) || strings.Contains(body, `value="user:default/jane"`) {
		t.Errorf("owner suggestions:\n%s", body)
	}

	// Next with a bad name and no owner.
	resp, body = postForm(t, base, url.Values{"_values": {"{}"}, "_page": {"0"}, "_go": {"next"}, "values.name": {"Bad1"}, "values.size": {"l"}})
	if resp.StatusCode != http.StatusUnprocessableEntity {
		t.Fatalf("invalid page: %d", resp.StatusCode)
	}
	for _, want := range []string{`id="f-values-name-error"`, "Must match the pattern", `id="f-values-owner-error"`, `value="Bad1"`, `<option value="l" selected>`} {
		if !strings.Contains(body, want) {
			t.Errorf("invalid page lacks %q", want)
		}
	}

	// Corrected: on to page two, which carries page one's values.
	resp, body = postForm(t, base, url.Values{"_values": {state(t, body)}, "_page": {"0"}, "_go": {"next"}, "values.name": {"good"}, "values.owner": {"group:default/team-a"}, "values.size": {"l"}})
	if resp.StatusCode != 200 || !strings.Contains(body, `name="values.token"`) {
		t.Fatalf("page two: %d\n%s", resp.StatusCode, body)
	}
	// The system picker stores a short ref: its defaultKind is System.
	if !strings.Contains(body, `<option value="system:default/shop">`) {
		t.Errorf("system suggestions with defaultKind:\n%s", body)
	}
	st := state(t, body)
	// Back: page one as left.
	_, back := postForm(t, base, url.Values{"_values": {st}, "_page": {"1"}, "_go": {"back"}, "values.token": {"s3cret"}})
	if !strings.Contains(back, `value="good"`) || !strings.Contains(back, `<option value="l" selected>`) {
		t.Errorf("back lost values:\n%s", back)
	}
	st = state(t, back)
	// Forward again, then the review.
	_, two := postForm(t, base, url.Values{"_values": {st}, "_page": {"0"}, "_go": {"next"}, "values.name": {"good"}, "values.owner": {"group:default/team-a"}, "values.size": {"l"}})
	if !strings.Contains(two, `value="s3cret"`) {
		t.Errorf("the token typed before Back is gone")
	}
	resp, review := postForm(t, base, url.Values{"_values": {state(t, two)}, "_page": {"1"}, "_go": {"next"}, "values.token": {"s3cret"}, "values.system": {"shop"}})
	if resp.StatusCode != 200 {
		t.Fatalf("review: %d", resp.StatusCode)
	}
	for _, want := range []string{"<dt>Size</dt><dd>Large</dd>", "<dt>Token</dt><dd>******</dd>", "<dt>System</dt><dd>system:default/shop</dd>", ">Make it</button>"} {
		if !strings.Contains(review, want) {
			t.Errorf("review lacks %q:\n%s", want, review)
		}
	}
	if strings.Contains(review, "s3cret</dd>") {
		t.Error("the review shows the secret")
	}

	// A tampered state failing validation goes back to the page at fault.
	resp, _ = postForm(t, base, url.Values{"_values": {`{"name":"BAD"}`}, "_page": {"2"}, "_go": {"create"}})
	if resp.StatusCode != http.StatusUnprocessableEntity {
		t.Errorf("create with invalid values: %d", resp.StatusCode)
	}

	resp, _ = postForm(t, base, url.Values{"_values": {state(t, review)}, "_page": {"2"}, "_go": {"create"}})
	loc := resp.Header.Get("Location")
	if resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(loc, "/create/tasks/") {
		t.Fatalf("create: %d %q", resp.StatusCode, loc)
	}
	taskURL := hs.URL + loc

	// The stream: log lines, the state, then done.
	events := readStream(t, taskURL+"/stream")
	joined := strings.Join(events, "\n")
	for _, want := range []string{"event: log", "making good", "event: state", `data-status="completed"`, "event: done"} {
		if !strings.Contains(joined, want) {
			t.Errorf("stream lacks %q:\n%s", want, joined)
		}
	}

	resp, page := get(t, taskURL)
	if resp.StatusCode != 200 {
		t.Fatalf("task page: %d", resp.StatusCode)
	}
	for _, want := range []string{"making good", `href="/catalog/default/group/team-a"`, "<strong>good</strong>", "Completed"} {
		if !strings.Contains(page, want) {
			t.Errorf("task page lacks %q", want)
		}
	}
	for _, bad := range []string{`href="javascript:`, "<script>alert(1)", "<img src=x", "s3cret", "sse-connect"} {
		if strings.Contains(page, bad) {
			t.Errorf("task page contains %q", bad)
		}
	}
	resp, list := get(t, hs.URL+"/create/tasks")
	if resp.StatusCode != 200 || !strings.Contains(list, loc) {
		t.Errorf("task list: %d", resp.StatusCode)
	}
	// retry a completed task: refused with a message, not a server error
	resp, _ = postForm(t, taskURL+"/retry", url.Values{})
	if resp.StatusCode != http.StatusConflict {
		t.Errorf("retry a completed task: %d", resp.StatusCode)
	}
	if resp, _ := get(t, hs.URL+"/create/tasks/nope"); resp.StatusCode != 404 {
		t.Errorf("unknown task: %d", resp.StatusCode)
	}
	if resp, _ := get(t, hs.URL+"/create/templates/default/nope"); resp.StatusCode != 404 {
		t.Errorf("unknown template: %d", resp.StatusCode)
	}
}

// readStream reads a task's event stream until it ends (done), with a
// time limit.
func readStream(t *testing.T, u string) []string {
	t.Helper()
	client := &http.Client{Timeout: 10 * time.Second}
	resp, err := client.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if ct := resp.Header.Get("Content-Type"); ct != "text/event-stream" {
		t.Fatalf("stream content type %q", ct)
	}
	var lines []string
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		lines = append(lines, sc.Text())
		if sc.Text() == "event: done" {
			break
		}
	}
	return lines
}

// Picker suggestions as one types: the text filter, the field's
// catalogFilter, the typed prefix of multi-value pickers kept.
func TestPickerSuggest(t *testing.T) {
	hs := newServer(t, map[string]string{"all.yaml": createCatalog, "org.yaml": createOrg, "template.yaml": createTemplate})
	q := url.Values{"field": {"values.owner"}, "ui": {"OwnerPicker"}, "values.owner": {"team-b"}}
	_, body := get(t, hs.URL+"/create/suggest?"+q.Encode())
	if !strings.Contains(body, `value="group:default/team-b"`) || strings.Contains(body, "team-a") {
		t.Errorf("owner suggestions for team-b:\n%s", body)
	}
	q = url.Values{"field": {"v"}, "ui": {"MultiEntityPicker"}, "options": {`{"catalogFilter":{"kind":["Group","User"]}}`}, "v": {"group:default/team-a, ja"}}
	_, body = get(t, hs.URL+"/create/suggest?"+q.Encode())
	if !strings.Contains(body, `value="group:default/team-a, user:default/jane"`) {
		t.Errorf("multi suggestions:\n%s", body)
	}
	q = url.Values{"field": {"v"}, "ui": {"EntityTagsPicker"}, "v": {"ret"}}
	_, body = get(t, hs.URL+"/create/suggest?"+q.Encode())
	if !strings.Contains(body, `value="retail"`) {
		t.Errorf("tag suggestions:\n%s", body)
	}
	q = url.Values{"field": {"v"}, "ui": {"EntityPicker"}, "options": {"{bad"}}
	if resp, _ := get(t, hs.URL+"/create/suggest?"+q.Encode()); resp.StatusCode != 400 {
		t.Errorf("bad options: %d", resp.StatusCode)
	}
}
