package catalog

import "testing"

// Expected values were checked against @backstage/catalog-model's
// parseEntityRef and parseLocationRef.

func TestParseRef(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		def     RefDefaults
		want    Ref
		wantStr string
		wantErr string
	}{
		{name: "name only takes default kind and namespace", in: "team-a", def: RefDefaults{Kind: "Group"},
			want: Ref{"Group", "default", "team-a"}, wantStr: "group:default/team-a"},
		{name: "default namespace from context", in: "x", def: RefDefaults{Kind: "group", Namespace: "ns1"},
			want: Ref{"group", "ns1", "x"}, wantStr: "group:ns1/x"},
		{name: "explicit namespace beats default", in: "a:b/c", def: RefDefaults{Namespace: "zz"},
			want: Ref{"a", "b", "c"}, wantStr: "a:b/c"},
		{name: "explicit kind beats default", in: "user:jdoe", def: RefDefaults{Kind: "Group"},
			want: Ref{"user", "default", "jdoe"}, wantStr: "user:default/jdoe"},
		{name: "case kept, String lower-cases", in: "Group:Ns/Name",
			want: Ref{"Group", "Ns", "Name"}, wantStr: "group:ns/name"},
		{name: "slash before colon means no kind", in: "a/b:c", def: RefDefaults{Kind: "component"},
			want: Ref{"component", "a", "b:c"}, wantStr: "component:a/b:c"},
		{name: "colon in name after kind", in: "k:n:m",
			want: Ref{"k", "default", "n:m"}, wantStr: "k:default/n:m"},
		{name: "slash in name after namespace", in: "k:ns/a/b",
			want: Ref{"k", "ns", "a/b"}, wantStr: "k:ns/a/b"},
		{name: "empty ref", in: "", def: RefDefaults{Kind: "Group"},
			wantErr: "Error: Entity reference must not be empty"},
		{name: "empty name", in: "group:",
			wantErr: `TypeError: Entity reference "group:" was not on the form [<kind>:][<namespace>/]<name>`},
		{name: "empty kind", in: ":x", def: RefDefaults{Kind: "a"},
			wantErr: `TypeError: Entity reference ":x" was not on the form [<kind>:][<namespace>/]<name>`},
		{name: "empty namespace without kind", in: "/x", def: RefDefaults{Kind: "a"},
			wantErr: `TypeError: Entity reference "/x" was not on the form [<kind>:][<namespace>/]<name>`},
		{name: "empty namespace with kind", in: "a:/x",
			wantErr: `TypeError: Entity reference "a:/x" was not on the form [<kind>:][<namespace>/]<name>`},
		{name: "empty name after namespace", in: "ns/", def: RefDefaults{Kind: "a"},
			wantErr: `TypeError: Entity reference "ns/" was not on the form [<kind>:][<namespace>/]<name>`},
		{name: "missing kind without default", in: "db1",
			wantErr: `Error: Entity reference "db1" had missing or empty kind (e.g. did not start with "component:" or similar)`},
		{name: "slash before colon and no default kind", in: "a/b:c",
			wantErr: `Error: Entity reference "a/b:c" had missing or empty kind (e.g. did not start with "component:" or similar)`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseRef(tt.in, tt.def)
			if tt.wantErr != "" {
				if err == nil {
					t.Fatalf("ParseRef(%q) = %+v, want error %q", tt.in, got, tt.wantErr)
				}
				if err.Error() != tt.wantErr {
					t.Fatalf("error = %q\nwant    %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("ParseRef(%q): %v", tt.in, err)
			}
			if got != tt.want {
				t.Errorf("ParseRef(%q) = %+v, want %+v", tt.in, got, tt.want)
			}
			if s := got.String(); s != tt.wantStr {
				t.Errorf("String() = %q, want %q", s, tt.wantStr)
			}
		})
	}
}

func TestRefStringAndEqual(t *testing.T) {
	tests := []struct {
		name  string
		a, b  Ref
		str   string
		equal bool
	}{
		{name: "empty namespace is default", a: Ref{"Component", "", "x"}, b: Ref{"component", "default", "x"},
			str: "component:default/x", equal: true},
		{name: "compare is case-insensitive", a: Ref{"Group", "Team", "A-Team"}, b: Ref{"group", "team", "a-team"},
			str: "group:team/a-team", equal: true},
		{name: "different kind", a: Ref{"Group", "default", "a"}, b: Ref{"User", "default", "a"},
			str: "group:default/a", equal: false},
		{name: "different namespace", a: Ref{"Group", "x", "a"}, b: Ref{"Group", "y", "a"},
			str: "group:x/a", equal: false},
		{name: "different name", a: Ref{"Group", "x", "a"}, b: Ref{"Group", "x", "b"},
			str: "group:x/a", equal: false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if s := tt.a.String(); s != tt.str {
				t.Errorf("String() = %q, want %q", s, tt.str)
			}
			if got := tt.a.Equal(tt.b); got != tt.equal {
				t.Errorf("%v.Equal(%v) = %v, want %v", tt.a, tt.b, got, tt.equal)
			}
			if got := tt.b.Equal(tt.a); got != tt.equal {
				t.Errorf("Equal is not symmetric for %v and %v", tt.a, tt.b)
			}
		})
	}
}

func TestMustParseRef(t *testing.T) {
	if got := MustParseRef("component:ns/x"); got != (Ref{"component", "ns", "x"}) {
		t.Errorf("MustParseRef = %+v", got)
	}
	defer func() {
		if recover() == nil {
			t.Error("MustParseRef of a ref without kind did not panic")
		}
	}()
	MustParseRef("x")
}

func TestParseLocationRef(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		want    LocationRef
		wantErr string
	}{
		{name: "url", in: "url:https://host/path", want: LocationRef{"url", "https://host/path"}},
		{name: "file with colon in target", in: "file:C:/x.yaml", want: LocationRef{"file", "C:/x.yaml"}},
		{name: "parts are trimmed", in: " file : /a ", want: LocationRef{"file", "/a"}},
		{name: "missing colon", in: "nocolon",
			wantErr: "Unable to parse location ref 'nocolon', expected '<type>:<target>', e.g. 'url:https://host/path'"},
		{name: "empty type", in: ":x",
			wantErr: "Unable to parse location ref ':x', expected '<type>:<target>', e.g. 'url:https://host/path'"},
		{name: "empty target", in: "x:",
			wantErr: "Unable to parse location ref 'x:', expected '<type>:<target>', e.g. 'url:https://host/path'"},
		{name: "http prefix", in: "http://x.com/a",
			wantErr: "Invalid location ref 'http://x.com/a', please prefix it with 'url:', e.g. 'url:http://x.com/a'"},
		{name: "https prefix", in: "https://x",
			wantErr: "Invalid location ref 'https://x', please prefix it with 'url:', e.g. 'url:https://x'"},
		{name: "javascript target", in: "url:javascript:alert(1)",
			wantErr: "Invalid location ref 'url:javascript:alert(1)', target is a javascript: URL"},
		{name: "javascript target upper case", in: "url:JAVASCRIPT:x",
			wantErr: "Invalid location ref 'url:JAVASCRIPT:x', target is a javascript: URL"},
		{name: "javascript target with tab and newline", in: "url:\tjava\nscript:x",
			wantErr: "Invalid location ref 'url:\tjava\nscript:x', target is a javascript: URL"},
		{name: "javascript target after control characters", in: "url:\x01javascript:x",
			wantErr: "Invalid location ref 'url:\x01javascript:x', target is a javascript: URL"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseLocationRef(tt.in)
			if tt.wantErr != "" {
				if err == nil || err.Error() != tt.wantErr {
					t.Fatalf("ParseLocationRef(%q) = %+v, %v; want error %q", tt.in, got, err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("ParseLocationRef(%q): %v", tt.in, err)
			}
			if got != tt.want {
				t.Errorf("ParseLocationRef(%q) = %+v, want %+v", tt.in, got, tt.want)
			}
			if s := got.String(); s != tt.want.Type+":"+tt.want.Target {
				t.Errorf("String() = %q", s)
			}
		})
	}
}
