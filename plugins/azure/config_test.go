package azure

import (
	"sort"
	"strings"
	"testing"

	"github.com/greenroom-dev/greenroom/scaffolder/action"
)

func TestInfo(t *testing.T) {
	i := Info()
	if i.ID != "git.azure" || strings.Join(i.Keys, ",") != "integrations.azure" || i.New == nil {
		t.Errorf("info %+v", i)
	}
	p, _ := newPlugin(t, nil, "integrations: {azure: [{host: dev.azure.com}]}")
	if p.ID() != "git.azure" {
		t.Errorf("id %s", p.ID())
	}
	var ids []string
	for _, a := range p.Actions() {
		ids = append(ids, a.ID())
		if action.SupportsDryRun(a) {
			t.Errorf("%s supports dry runs", a.ID())
		}
		in, out := a.Schema()
		if in["type"] != "object" || out["type"] != "object" {
			t.Errorf("%s schema %v %v", a.ID(), in, out)
		}
	}
	sort.Strings(ids)
	if got := strings.Join(ids, ","); got != "azure:repo:clone,azure:repo:pr,azure:repo:push,publish:azure" {
		t.Errorf("actions %s", got)
	}
	_, out := actionOf(t, p, "publish:azure").Schema()
	ex := action.ExampleOutput(out).(map[string]any)
	if len(ex) != 4 || ex["repositoryId"] != "<example>" || ex["repoContentsUrl"] != "<example>" {
		t.Errorf("example output %v", ex)
	}
	_, out = actionOf(t, p, "azure:repo:pr").Schema()
	if ex := action.ExampleOutput(out).(map[string]any); len(ex) != 1 || ex["pullRequestId"] != float64(0) {
		t.Errorf("pr example output %v", ex)
	}
	in, _ := actionOf(t, p, "azure:repo:pr").Schema()
	if strings.Join(in["required"].([]string), ",") != "repoId,title" {
		t.Errorf("pr required %v", in["required"])
	}
}

func TestConfig(t *testing.T) {
	type want struct {
		host, base, apiVersion string
		creds                  int
	}
	ok := []struct {
		name, cfg string
		want      []want // in order, the implicit dev.azure.com last when added
	}{
		{"default host and the legacy token", `integrations: {azure: [{token: "{{TOKEN}}"}]}`,
			[]want{{"dev.azure.com", "https://dev.azure.com", "6.0", 1}}},
		{"server with baseUrl and credentials", `
integrations:
  azure:
    - host: tfs.example.com:8443
      baseUrl: https://tfs.example.com:8443/tfs/
      apiVersion: "7.1-preview.1"
      commitSigningKey: ignored-unless-signCommit
      credentials:
        - {personalAccessToken: " {{TOKEN}} ", organizations: [a, b]}
        - {personalAccessToken: other}
`, []want{{"tfs.example.com:8443", "https://tfs.example.com:8443/tfs", "7.1-preview.1", 2}, {"dev.azure.com", "https://dev.azure.com", "6.0", 0}}},
		{"empty list", `integrations: {azure: []}`, []want{{"dev.azure.com", "https://dev.azure.com", "6.0", 0}}},
	}
	for _, tc := range ok {
		t.Run(tc.name, func(t *testing.T) {
			p, _ := newPlugin(t, nil, tc.cfg)
			if len(p.integrations) != len(tc.want) {
				t.Fatalf("%d integrations", len(p.integrations))
			}
			for i, w := range tc.want {
				in := p.integrations[i]
				if in.host != w.host || in.base() != w.base || in.apiVersion != w.apiVersion || len(in.creds) != w.creds {
					t.Errorf("[%d] = %s %s %s %d, want %+v", i, in.host, in.base(), in.apiVersion, len(in.creds), w)
				}
			}
		})
	}

	bad := []struct{ name, cfg, want string }{
		{"unknown key", `integrations: {azure: [{host: h.example.com, tokn: x}]}`, "field tokn not found"},
		{"unknown credential key", `integrations: {azure: [{credentials: [{pat: "{{TOKEN}}"}]}]}`, "field pat not found"},
		{"client secret", `integrations: {azure: [{credentials: [{clientId: c, clientSecret: "{{TOKEN}}", tenantId: t}]}]}`,
			"config integrations.azure[0]: credentials[0]: Entra ID credentials (clientId, clientSecret, tenantId, managedIdentityClientId) are not supported yet; use a personalAccessToken"},
		{"managed identity", `integrations: {azure: [{credentials: [{clientId: system-assigned}]}]}`, "are not supported yet"},
		{"client assertion", `integrations: {azure: [{credentials: [{clientId: c, managedIdentityClientId: m, tenantId: t}]}]}`, "are not supported yet"},
		{"no token", `integrations: {azure: [{credentials: [{organizations: [a]}]}]}`, "config integrations.azure[0]: credentials[0]: personalAccessToken is required"},
		{"credential", `integrations: {azure: [{credential: {token: "{{TOKEN}}"}}]}`, "'credential' has been removed from Backstage; use 'credentials' instead"},
		{"token and credentials", `integrations: {azure: [{token: "{{TOKEN}}", credentials: [{personalAccessToken: x}]}]}`, "'token' and 'credentials' cannot be used together"},
		{"organization twice", `integrations: {azure: [{credentials: [{personalAccessToken: x, organizations: [Acme]}, {personalAccessToken: y, organizations: [acme]}]}]}`,
			"config integrations.azure[0]: credentials[1]: organization acme is also in credentials[0]"},
		{"two without organizations", `integrations: {azure: [{credentials: [{personalAccessToken: x}, {personalAccessToken: y}]}]}`, "credentials[1]: only one credential may have no organizations"},
		{"bad organization", `integrations: {azure: [{credentials: [{personalAccessToken: x, organizations: ["a/b"]}]}]}`, `organization "a/b" is not a valid organization name`},
		{"host is a URL", `integrations: {azure: [{host: "https://dev.azure.com"}]}`, "must be a host name with an optional port, not a URL"},
		{"baseUrl with credentials", `integrations: {azure: [{host: h.example.com, baseUrl: "https://u:p@h.example.com"}]}`, "is not a valid http(s) URL"},
		{"baseUrl ftp", `integrations: {azure: [{host: h.example.com, baseUrl: "ftp://h.example.com"}]}`, "is not a valid http(s) URL"},
		{"apiVersion", `integrations: {azure: [{apiVersion: "6.0&x=1"}]}`, "is not an API version"},
		{"host twice", `integrations: {azure: [{host: A.example.com}, {host: a.example.com}]}`, "config integrations.azure[1]: host a.example.com is configured twice"},
		{"not a list", `integrations: {azure: {host: x}}`, "config integrations.azure"},
	}
	for _, tc := range bad {
		t.Run(tc.name, func(t *testing.T) {
			_, _, _, err := tryPlugin(nil, tc.cfg)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want %q", err, tc.want)
			}
			noSecret(t, "config error", err.Error())
		})
	}
}

// TestCredentialLookup is Backstage's order: the credential naming the
// organization, else the one naming none.
func TestCredentialLookup(t *testing.T) {
	p, _ := newPlugin(t, nil, `
integrations:
  azure:
    - host: dev.azure.com
      credentials:
        - {personalAccessToken: for-ab, organizations: [a, B]}
        - {personalAccessToken: for-rest}
    - host: only.example.com
      credentials:
        - {personalAccessToken: for-c, organizations: [c]}
`)
	dev, only := p.integration("DEV.azure.com"), p.integration("only.example.com")
	for _, tc := range []struct {
		in        *integration
		org, want string
	}{
		{dev, "a", "for-ab"}, {dev, "b", "for-ab"}, {dev, "z", "for-rest"}, {dev, "", "for-rest"},
		{only, "c", "for-c"}, {only, "a", ""},
	} {
		if got := tc.in.token(tc.org); got != tc.want {
			t.Errorf("%s/%s: %q, want %q", tc.in.host, tc.org, got, tc.want)
		}
	}
	if len(p.integrations) != 2 {
		t.Errorf("an explicit dev.azure.com entry is not duplicated: %d", len(p.integrations))
	}
}

func TestParseRemote(t *testing.T) {
	p, _ := newPlugin(t, nil, `
integrations:
  azure:
    - host: dev.azure.com
    - host: tfs.example.com
      baseUrl: http://tfs.example.com/tfs
    - host: acme.visualstudio.com
`)
	ok := []struct{ raw, url, org, host string }{
		{"https://acme@dev.azure.com/acme/My%20Project/_git/repo", "https://dev.azure.com/acme/My%20Project/_git/repo", "acme", "dev.azure.com"},
		{"https://DEV.azure.com/acme/p/_git/r", "https://DEV.azure.com/acme/p/_git/r", "acme", "dev.azure.com"},
		{"http://tfs.example.com/tfs/Coll/p/_git/r", "http://tfs.example.com/tfs/Coll/p/_git/r", "Coll", "tfs.example.com"},
		{"https://acme.visualstudio.com/p/_git/r", "https://acme.visualstudio.com/p/_git/r", "acme", "acme.visualstudio.com"},
	}
	for _, tc := range ok {
		r, err := p.parseRemote("remoteUrl", tc.raw)
		if err != nil || r.url != tc.url || r.org != tc.org || r.in.host != tc.host {
			t.Errorf("%s: %+v %v", tc.raw, r, err)
		}
	}
	bad := []struct{ raw, want string }{
		{"https://u:" + testToken + "@dev.azure.com/a/p/_git/r", "remoteUrl must not hold credentials"},
		{"https://evil.example.com/a/p/_git/r", "No matching integration configuration for remoteUrl https://evil.example.com/a/p/_git/r"},
		{"http://dev.azure.com/a/p/_git/r", "No matching integration configuration"},         // scheme differs
		{"http://tfs.example.com/other/a/p/_git/r", "No matching integration configuration"}, // outside the base path
		{"https://dev.azure.com/a/p/r", "is not an Azure Repos git URL"},
		{"https://dev.azure.com/a/../p/_git/r", "has an empty, . or .. path segment"},
		{"file:///etc/_git/x", "must be an http(s) git URL"},
		{"https://dev.azure.com/a/p/_git/r?x=1", "without a query"},
		{"ext::sh -c id", "must be an http(s) git URL"},
	}
	for _, tc := range bad {
		_, err := p.parseRemote("remoteUrl", tc.raw)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, want %q", tc.raw, err, tc.want)
			continue
		}
		noSecret(t, "parseRemote error", err.Error())
	}
}

func TestNames(t *testing.T) {
	for s, want := range map[string]bool{
		"My Project": true, "repo-1": true, "a.b": true, "6ce954b1-ce1f-45d1-b94d-e6bf2464ba2c": true,
		"": false, ".": false, "..": false, ".hidden": false, "_x": false, "a/b": false, `a\b`: false,
		"a?b": false, "a#b": false, "a%2fb": false, " lead": false, "trail.": false, "a\nb": false,
	} {
		if validName(s) != want {
			t.Errorf("validName(%q) = %v", s, !want)
		}
	}
	for s, want := range map[string]bool{
		"main": true, "feature/x": true, "v1.0": true,
		"-x": false, "a..b": false, "/a": false, "a/": false, "a b": false, "x.lock": false, "a//b": false,
	} {
		if validBranch(s) != want {
			t.Errorf("validBranch(%q) = %v", s, !want)
		}
	}
}
