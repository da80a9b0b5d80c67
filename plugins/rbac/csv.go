package rbac

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strings"
)

// Source says where a policy row or a conditional policy came from, for
// explanations: the file and line and the row as written, or
// "configuration" for what permission.rbac.admin adds.
type Source struct {
	File string
	Line int    // 1-based; 0 for rows from configuration
	Text string // the row as written (trimmed)
}

func (s Source) String() string {
	if s.Line == 0 {
		return s.File + " (" + s.Text + ")"
	}
	return fmt.Sprintf("%s:%d (%s)", s.File, s.Line, s.Text)
}

// PolicyRow is a "p" row: subject may do (or not) action on object, a
// permission name or a resource type.
type PolicyRow struct {
	Source
	Subject string // role:…, or user:… / group:… directly
	Object  string // permission name or resource type
	Action  string // create, read, update, delete, use
	Effect  string // allow or deny
}

// RoleRow is a "g" row: member (a user or group) has role.
type RoleRow struct {
	Source
	Member string // lower-cased, as RHDH's file adapter does
	Role   string
}

// LineError is one bad row or document, naming its file and line.
type LineError struct {
	File string
	Line int
	Msg  string
}

func (e *LineError) Error() string {
	if e.Line == 0 {
		return e.File + ": " + e.Msg
	}
	return fmt.Sprintf("%s:%d: %s", e.File, e.Line, e.Msg)
}

// LineErrors returns every *LineError joined in err (as Load returns
// them), for a page that lists them one by one.
func LineErrors(err error) []*LineError {
	var out []*LineError
	var walk func(error)
	walk = func(e error) {
		switch t := e.(type) {
		case nil:
		case *LineError:
			out = append(out, t)
		case interface{ Unwrap() []error }:
			for _, sub := range t.Unwrap() {
				walk(sub)
			}
		case interface{ Unwrap() error }:
			walk(t.Unwrap())
		}
	}
	walk(err)
	return out
}

// csvFile is a parsed CSV policy file.
type csvFile struct {
	policies []PolicyRow
	roles    []RoleRow
}

// parseCSV parses RHDH's CSV policy file. Unlike RHDH, which skips an
// invalid row with a warning, every bad row is an error: skipping a deny
// row would silently widen access, so the caller keeps its last good
// policy instead and shows these errors.
func parseCSV(name string, data []byte) (csvFile, error) {
	var out csvFile
	var errs []error
	fail := func(line int, format string, args ...any) {
		errs = append(errs, &LineError{File: name, Line: line, Msg: fmt.Sprintf(format, args...)})
	}
	seenP := map[[4]string]int{}
	seenG := map[[2]string]int{}
	for i, raw := range strings.Split(string(data), "\n") {
		line := i + 1
		text := strings.TrimSpace(strings.TrimSuffix(raw, "\r"))
		// Casbin's loader skips blank lines and lines starting with #.
		if text == "" || strings.HasPrefix(text, "#") {
			continue
		}
		fields, err := splitCSVLine(text)
		if err != nil {
			fail(line, "malformed CSV: %v", err)
			continue
		}
		src := Source{File: name, Line: line, Text: text}
		switch fields[0] {
		case "p":
			row, err := policyRow(src, fields)
			if err != nil {
				fail(line, "%v", err)
				continue
			}
			key := [4]string{row.Subject, row.Object, row.Action, row.Effect}
			if first, ok := seenP[key]; ok {
				fail(line, "duplicate policy: the same row is at line %d", first)
				continue
			}
			flipped := key
			flipped[3] = map[string]string{"allow": "deny", "deny": "allow"}[row.Effect]
			if first, ok := seenP[flipped]; ok {
				fail(line, "policy %s, %s, %s has effect %s here and %s at line %d; keep one", row.Subject, row.Object, row.Action, row.Effect, flipped[3], first)
				continue
			}
			seenP[key] = line
			out.policies = append(out.policies, row)
		case "g":
			row, err := roleRow(src, fields)
			if err != nil {
				fail(line, "%v", err)
				continue
			}
			key := [2]string{row.Member, row.Role}
			if first, ok := seenG[key]; ok {
				fail(line, "duplicate role: %s is given %s at line %d already", row.Member, row.Role, first)
				continue
			}
			seenG[key] = line
			out.roles = append(out.roles, row)
		default:
			fail(line, "row type %q is neither p (a policy) nor g (a role member)", fields[0])
		}
	}
	return out, errors.Join(errs...)
}

// splitCSVLine splits one row as csv-parse does with trim: quoted fields
// allowed, spaces around fields dropped.
func splitCSVLine(text string) ([]string, error) {
	r := csv.NewReader(strings.NewReader(text))
	r.TrimLeadingSpace = true
	r.FieldsPerRecord = -1
	fields, err := r.Read()
	if err != nil {
		var pe *csv.ParseError
		if errors.As(err, &pe) {
			err = pe.Err
		}
		return nil, err
	}
	if _, err := r.Read(); err != io.EOF {
		return nil, fmt.Errorf("a row must fit on one line")
	}
	for i := range fields {
		fields[i] = strings.TrimSpace(fields[i])
	}
	return fields, nil
}

func policyRow(src Source, f []string) (PolicyRow, error) {
	if len(f) != 5 {
		return PolicyRow{}, fmt.Errorf("a p row has 5 fields (p, subject, permission or resource type, action, effect); this one has %d", len(f))
	}
	row := PolicyRow{Source: src, Subject: f[1], Object: f[2], Action: f[3], Effect: f[4]}
	if err := validateRef(row.Subject); err != nil {
		return row, fmt.Errorf("subject: %v", err)
	}
	if row.Object == "" {
		return row, fmt.Errorf("the permission field is empty")
	}
	if strings.Contains(row.Object, `"`) {
		return row, fmt.Errorf("the permission %s contains a double quote, which RHDH does not support", row.Object)
	}
	if !isAction(row.Action) {
		return row, fmt.Errorf("action %q is not one of %s", row.Action, strings.Join(Actions(), ", "))
	}
	if row.Effect != "allow" && row.Effect != "deny" {
		if strings.Contains(row.Effect, "#") {
			return row, fmt.Errorf("effect %q is not allow or deny (a # comment must be on a line of its own)", row.Effect)
		}
		return row, fmt.Errorf("effect %q is not allow or deny", row.Effect)
	}
	return row, nil
}

func roleRow(src Source, f []string) (RoleRow, error) {
	if len(f) != 3 {
		return RoleRow{}, fmt.Errorf("a g row has 3 fields (g, user or group, role); this one has %d", len(f))
	}
	row := RoleRow{Source: src, Member: strings.ToLower(f[1]), Role: f[2]}
	if err := validateRef(row.Member); err != nil {
		return row, fmt.Errorf("member: %v", err)
	}
	if err := validateRef(row.Role); err != nil {
		return row, fmt.Errorf("role: %v", err)
	}
	switch {
	case refKind(row.Member) == "role":
		return row, fmt.Errorf("%s cannot be a member of %s: roles do not inherit roles", row.Member, row.Role)
	case refKind(row.Role) == "group":
		return row, fmt.Errorf("%s cannot be made a member of %s here: group membership comes from the catalog", row.Member, row.Role)
	case refKind(row.Role) != "role":
		return row, fmt.Errorf("%s is not a role (role:<namespace>/<name>)", row.Role)
	}
	return row, nil
}
