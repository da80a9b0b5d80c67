package catalog

import "testing"

func TestDefaultRules(t *testing.T) {
	r := DefaultRules()
	loc := LocationRef{"file", "/srv/catalog-info.yaml"}
	tests := []struct {
		kind, specType string
		want           bool
	}{
		{"Component", "service", true},
		{"API", "openapi", true},
		{"Location", "", true},
		{"component", "", true}, // kinds match case-insensitively
		{"LOCATION", "", true},
		{"User", "", false},
		{"Group", "team", false},
		{"System", "", false},
		{"Domain", "", false},
		{"Resource", "database", false},
		{"Template", "service", false},
		{"Widget", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.kind, func(t *testing.T) {
			if got := r.IsAllowed(tt.kind, tt.specType, loc); got != tt.want {
				t.Errorf("IsAllowed(%q, %q) = %v, want %v", tt.kind, tt.specType, got, tt.want)
			}
		})
	}
}

func TestAllowAll(t *testing.T) {
	if !AllowAll().IsAllowed("User", "", LocationRef{"file", "/x"}) {
		t.Error("AllowAll refused a User")
	}
}

func TestRules(t *testing.T) {
	file := func(target string) LocationRef { return LocationRef{"file", target} }
	url := func(target string) LocationRef { return LocationRef{"url", target} }
	type check struct {
		kind, specType string
		loc            LocationRef
		want           bool
	}
	tests := []struct {
		name   string
		rules  []Rule
		checks []check
	}{
		{
			name:  "kind and spec.type match case-insensitively",
			rules: []Rule{{Allow: []RuleKind{{Kind: "template", SpecType: "Website"}, {Kind: "Group"}}}},
			checks: []check{
				{"Template", "website", file("/a"), true},
				{"TEMPLATE", "WEBSITE", file("/a"), true},
				{"Template", "service", file("/a"), false},
				{"Template", "", file("/a"), false},
				{"group", "team", file("/a"), true},
				{"Group", "", file("/a"), true},
			},
		},
		{
			name: "exact location",
			rules: []Rule{
				{Allow: []RuleKind{{Kind: "Component"}}},
				{Allow: []RuleKind{{Kind: "User"}, {Kind: "Group"}}, Locations: []RuleLocation{{Type: "file", Exact: "/srv/org.yaml"}}},
			},
			checks: []check{
				{"User", "", file("/srv/org.yaml"), true},
				{"Group", "", file("/srv/org.yaml"), true},
				{"Component", "", file("/srv/org.yaml"), true}, // global rule
				{"User", "", file("/srv/other.yaml"), false},
				{"User", "", file("/srv/ORG.yaml"), false}, // exact is case-sensitive
				{"User", "", url("/srv/org.yaml"), false},  // type must match
			},
		},
		{
			name: "pattern location",
			rules: []Rule{
				{Allow: []RuleKind{{Kind: "User"}}, Locations: []RuleLocation{{Type: "url", Pattern: "https://github.com/org/*/blob/main/**/org.yaml"}}},
			},
			checks: []check{
				{"User", "", url("https://github.com/org/repo/blob/main/org.yaml"), true},
				{"User", "", url("https://github.com/org/repo/blob/main/a/b/org.yaml"), true},
				{"User", "", url("https://GitHub.com/ORG/repo/blob/main/ORG.yaml"), true},    // nocase
				{"User", "", url("https://github.com/org/.hidden/blob/main/org.yaml"), true}, // dot
				{"User", "", url("https://github.com/other/repo/blob/main/org.yaml"), false},
				{"User", "", file("https://github.com/org/repo/blob/main/org.yaml"), false},
				{"Group", "", url("https://github.com/org/repo/blob/main/org.yaml"), false},
			},
		},
		{
			name: "several location matchers, any matches",
			rules: []Rule{
				{Allow: []RuleKind{{Kind: "Group"}}, Locations: []RuleLocation{{Type: "file", Exact: "/a.yaml"}, {Type: "file", Pattern: "/teams/*.yaml"}}},
			},
			checks: []check{
				{"Group", "", file("/a.yaml"), true},
				{"Group", "", file("/teams/x.yaml"), true},
				{"Group", "", file("/teams/sub/x.yaml"), false},
				{"Group", "", file("/b.yaml"), false},
			},
		},
		{
			name:  "type-only location matcher",
			rules: []Rule{{Allow: []RuleKind{{Kind: "System"}}, Locations: []RuleLocation{{Type: "url"}}}},
			checks: []check{
				{"System", "", url("https://anything"), true},
				{"System", "", file("/anything"), false},
			},
		},
		{
			name:  "empty location list matches nothing",
			rules: []Rule{{Allow: []RuleKind{{Kind: "System"}}, Locations: []RuleLocation{}}},
			checks: []check{
				{"System", "", file("/x"), false},
			},
		},
		{
			name:  "no rules allow nothing",
			rules: nil,
			checks: []check{
				{"Component", "", file("/x"), false},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := NewRules(tt.rules)
			if err != nil {
				t.Fatal(err)
			}
			for _, c := range tt.checks {
				if got := r.IsAllowed(c.kind, c.specType, c.loc); got != c.want {
					t.Errorf("IsAllowed(%q, %q, %s) = %v, want %v", c.kind, c.specType, c.loc, got, c.want)
				}
			}
		})
	}
}

func TestNewRulesErrors(t *testing.T) {
	tests := []struct {
		name    string
		rules   []Rule
		wantErr string
	}{
		{name: "exact and pattern together",
			rules:   []Rule{{Allow: []RuleKind{{Kind: "User"}}, Locations: []RuleLocation{{Type: "file", Exact: "/a", Pattern: "/*"}}}},
			wantErr: "A catalog rule location cannot have both exact and pattern values"},
		{name: "location without type",
			rules:   []Rule{{Allow: []RuleKind{{Kind: "User"}}, Locations: []RuleLocation{{Exact: "/a"}}}},
			wantErr: "a catalog rule location needs a type"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := NewRules(tt.rules)
			if err == nil || err.Error() != tt.wantErr {
				t.Fatalf("err = %v, want %q", err, tt.wantErr)
			}
		})
	}
}

func TestResolveRuleTarget(t *testing.T) {
	if got := ResolveRuleTarget("url", "./x"); got != "./x" {
		t.Errorf("url target changed: %q", got)
	}
	if got := ResolveRuleTarget("file", "/a/./b/../c.yaml"); got != "/a/c.yaml" {
		t.Errorf("file target = %q", got)
	}
	if got := ResolveRuleTarget("file", "rel.yaml"); got == "rel.yaml" || got[0] != '/' {
		t.Errorf("relative file target not made absolute: %q", got)
	}
}

func TestNotAllowedError(t *testing.T) {
	err := NotAllowedError("user:default/jdoe", LocationRef{"file", "/a.yaml"}, LocationRef{"file", "/root.yaml"})
	want := "NotAllowedError: Entity user:default/jdoe at file:/a.yaml, originated at file:/root.yaml, is not of an allowed kind for that location"
	if err.Error() != want {
		t.Errorf("got %q\nwant %q", err, want)
	}
}
