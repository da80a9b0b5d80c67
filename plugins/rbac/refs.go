package rbac

import (
	"fmt"
	"regexp"
	"strings"
)

// RHDH accepts only full entity refs (kind:namespace/name) of users,
// groups and roles in its files (policies-validation.ts
// validateEntityReference); the patterns are its own.
var (
	refNamePattern      = regexp.MustCompile(`^[a-zA-Z0-9]+([._-][a-zA-Z0-9]+)*$`)
	refNamespacePattern = regexp.MustCompile(`^[a-z0-9]+(-[a-z0-9]+)*$`)
)

// validateRef checks a full user, group or role ref; kinds, when given,
// narrows the kinds accepted.
func validateRef(ref string, kinds ...string) error {
	if ref == "" {
		return fmt.Errorf("the entity reference is empty")
	}
	kind, rest, ok := strings.Cut(ref, ":")
	ns, name, ok2 := strings.Cut(rest, "/")
	if !ok || !ok2 || kind == "" || strings.ContainsAny(name, ":/") {
		return fmt.Errorf("entity reference %q is not in the full form <kind>:<namespace>/<name>", ref)
	}
	if len(kinds) == 0 {
		kinds = []string{"user", "group", "role"}
	}
	found := false
	for _, k := range kinds {
		if kind == k {
			found = true
		}
	}
	if !found {
		return fmt.Errorf("entity reference %q has kind %q; it should be %s", ref, kind, orList(kinds))
	}
	if !refNamePattern.MatchString(name) || len(name) > 63 {
		return fmt.Errorf("the name %q in %q must be sequences of [a-zA-Z0-9] separated by any of [-_.], at most 63 characters in total", name, ref)
	}
	if !refNamespacePattern.MatchString(ns) || len(ns) > 63 {
		return fmt.Errorf("the namespace %q in %q must be sequences of [a-z0-9] separated by [-], at most 63 characters in total", ns, ref)
	}
	return nil
}

func orList(items []string) string {
	q := make([]string, len(items))
	for i, s := range items {
		q[i] = "\"" + s + "\""
	}
	switch len(q) {
	case 1:
		return q[0]
	case 2:
		return q[0] + " or " + q[1]
	}
	return strings.Join(q[:len(q)-1], ", ") + " or " + q[len(q)-1]
}

func refKind(ref string) string {
	kind, _, _ := strings.Cut(ref, ":")
	return kind
}
