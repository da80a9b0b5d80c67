package main

import (
	"bytes"
	"context"
	"os/exec"
	"strings"
	"testing"
)

// greenroom create, in-process and against a running portal: refused
// values are listed, steps are shown with ✓/✗ as they end, output links
// at the end, and the exit code says how it went.
func TestCreateCommand(t *testing.T) {
	if _, err := exec.LookPath("git"); err != nil {
		t.Skip("git not installed")
	}
	t.Setenv("GREENROOM_CONFIG", "")
	t.Setenv("GREENROOM_SERVER", "")
	ctx := context.Background()
	create := func(args ...string) (int, string, string) {
		var out, errb bytes.Buffer
		code := run(ctx, append([]string{"create"}, args...), &out, &errb)
		return code, out.String(), errb.String()
	}

	local := t.TempDir()
	code, _, errOut := create("new-go-service", "--data-dir", local, "--set", "name=Bad Name")
	if code != 1 || !strings.Contains(errOut, "name: Must match the pattern") || !strings.Contains(errOut, "owner: This field is required") {
		t.Fatalf("bad values: exit %d\n%s", code, errOut)
	}

	code, out, errOut := create("--data-dir", local, "template:default/new-go-service",
		"--set", "name=cli-svc", "--set", "owner=group:default/team-storefront",
		"--set", "repoUrl=git.freshcart.example?owner=freshcart&repo=cli-svc", "--set", "description=Made: from the CLI")
	if code != 0 {
		t.Fatalf("exit %d\n%s\n%s", code, out, errOut)
	}
	for _, want := range []string{"✓ Fetch the skeleton", "✓ Publish to git", "✓ Register in the catalog", "Completed.", "Open in catalog: component:default/cli-svc", "Next steps"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}

	// On a portal: a step that fails is marked ✗ with its error.
	dir := t.TempDir()
	base := startServe(t, "--data-dir", dir)
	code, out, errOut = create("new-go-service", "--server", base,
		"--set", "name=remote-svc", "--set", "owner=group:default/team-storefront",
		"--set", "repoUrl=git.freshcart.example?owner=freshcart&repo=-svc")
	if code != 1 || !strings.Contains(out, "✓ Name the Go files") || !strings.Contains(out, "✗ Publish to git") || !strings.Contains(out, "invalid repository path") {
		t.Fatalf("failing step: exit %d\n%s\n%s", code, out, errOut)
	}
	code, out, errOut = create("new-go-service", "--server", base, "--verbose",
		"--set", "name=remote-svc", "--set", "owner=group:default/team-storefront",
		"--set", "repoUrl=git.freshcart.example?owner=freshcart&repo=remote-svc")
	if code != 0 || !strings.Contains(out, "Open in catalog: "+base+"/catalog/default/component/remote-svc") || !strings.Contains(out, "Pushing to") {
		t.Fatalf("on a portal: exit %d\n%s\n%s", code, out, errOut)
	}
	code, _, errOut = create("new-go-service", "--server", base, "--set", "name=x")
	if code != 1 || !strings.Contains(errOut, "owner: This field is required") {
		t.Fatalf("bad values on a portal: exit %d\n%s", code, errOut)
	}
	if code, _, _ := create("no-such-template", "--server", base); code != 1 {
		t.Errorf("unknown template: exit %d", code)
	}
	// GREENROOM_TOKEN goes to the portal as a Bearer token: a bad one is
	// refused there.
	t.Setenv("GREENROOM_TOKEN", "not-a-token")
	code, _, errOut = create("new-go-service", "--server", base, "--set", "name=tok-svc")
	if code != 1 || !strings.Contains(errOut, "Failed to authenticate") {
		t.Errorf("a bad GREENROOM_TOKEN: exit %d\n%s", code, errOut)
	}
}
