package catalog

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"strconv"
	"strings"
)

// Backstage's FieldFormatEntityPolicy validators (makeValidator defaults),
// with the wording of its messages.
var (
	objectNameRe = regexp.MustCompile(`^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$`)
	dnsLabelRe   = regexp.MustCompile(`^[a-z0-9]+(?:-+[a-z0-9]+)*$`)
	kindRe       = regexp.MustCompile(`^[a-zA-Z][a-z0-9A-Z]*$`)
	versionRe    = regexp.MustCompile(`^[a-z0-9A-Z]+$`)
	tagRe        = regexp.MustCompile(`^[a-z0-9:+#]+(\-[a-z0-9:+#]+)*$`)
	schemeRe     = regexp.MustCompile(`^[a-zA-Z][a-zA-Z0-9+.\-]*:`)
)

func jsLen(s string) int {
	// JavaScript measures strings in UTF-16 code units.
	n := 0
	for _, r := range s {
		if r > 0xFFFF {
			n += 2
		} else {
			n++
		}
	}
	return n
}

// IsValidEntityName reports whether s is a valid metadata.name.
func IsValidEntityName(s string) bool {
	return jsLen(s) >= 1 && jsLen(s) <= 63 && objectNameRe.MatchString(s)
}

// IsValidNamespace reports whether s is a valid metadata.namespace.
func IsValidNamespace(s string) bool { return isDNSLabel(s) }

func isDNSLabel(s string) bool { return len(s) >= 1 && len(s) <= 63 && dnsLabelRe.MatchString(s) }

func isDNSSubdomain(s string) bool {
	if len(s) < 1 || len(s) > 253 {
		return false
	}
	for _, part := range strings.Split(s, ".") {
		if !isDNSLabel(part) {
			return false
		}
	}
	return true
}

func prefixAndOrSuffix(s string, prefix, suffix func(string) bool) bool {
	parts := strings.Split(s, "/")
	switch len(parts) {
	case 1:
		return suffix(parts[0])
	case 2:
		return prefix(parts[0]) && suffix(parts[1])
	}
	return false
}

// IsValidKind reports whether s is a valid kind.
func IsValidKind(s string) bool { return len(s) >= 1 && len(s) <= 63 && kindRe.MatchString(s) }

// IsValidAPIVersion reports whether s is a valid apiVersion.
func IsValidAPIVersion(s string) bool {
	return prefixAndOrSuffix(s, isDNSSubdomain, func(n string) bool {
		return len(n) >= 1 && len(n) <= 63 && versionRe.MatchString(n)
	})
}

// IsValidLabelKey reports whether s is a valid label or annotation key.
func IsValidLabelKey(s string) bool { return prefixAndOrSuffix(s, isDNSSubdomain, IsValidEntityName) }

// IsValidTag reports whether s is a valid tag.
func IsValidTag(s string) bool { return jsLen(s) >= 1 && jsLen(s) <= 63 && tagRe.MatchString(s) }

// isValidURL approximates JavaScript's `new URL(s)`: an absolute URL with a
// scheme, and a well-formed host for the schemes that require one.
func isValidURL(s string) bool {
	s = strings.Trim(s, "\x00\x01\x02\x03\x04\x05\x06\x07\x08\x09\x0a\x0b\x0c\x0d\x0e\x0f\x10\x11\x12\x13\x14\x15\x16\x17\x18\x19\x1a\x1b\x1c\x1d\x1e\x1f ")
	if !schemeRe.MatchString(s) {
		return false
	}
	scheme := strings.ToLower(s[:strings.IndexByte(s, ':')])
	switch scheme {
	case "http", "https", "ws", "wss", "ftp":
		rest := strings.TrimLeft(s[len(scheme)+1:], "/\\")
		end := strings.IndexAny(rest, "/\\?#")
		host := rest
		if end >= 0 {
			host = rest[:end]
		}
		if at := strings.LastIndexByte(host, '@'); at >= 0 {
			host = host[at+1:]
		}
		if h, port, ok := strings.Cut(host, ":"); ok && !strings.HasPrefix(host, "[") {
			if port != "" {
				if n, err := strconv.Atoi(port); err != nil || n > 65535 {
					return false
				}
			}
			host = h
		}
		if host == "" || strings.ContainsAny(host, " <>^|%\"`{}") {
			return false
		}
		u, err := url.Parse("http://" + strings.ReplaceAll(rest, " ", "%20"))
		return err == nil && u.Host != ""
	}
	return true
}

const formatDocs = " To learn more about catalog file format, visit: https://github.com/backstage/backstage/blob/master/docs/architecture-decisions/adr002-default-catalog-file-format.md"

// fieldFormatError builds FieldFormatEntityPolicy's message.
func fieldFormatError(field, expectation string, value any) error {
	return fmt.Errorf("%q is not valid; expected %s but found \"%s\".%s", field, expectation, jsString(value), formatDocs)
}

const (
	expectName      = "a string that is sequences of [a-zA-Z0-9] separated by any of [-_.], at most 63 characters in total"
	expectPrefix    = "a valid prefix and/or suffix"
	expectNamespace = "a string that is sequences of [a-z0-9] separated by [-], at most 63 characters in total"
	expectTag       = "a string that is sequences of [a-z0-9+#] separated by [-], at most 63 characters in total"
	expectKind      = "a string that is a sequence of [a-zA-Z][a-z0-9A-Z], at most 63 characters in total"
	expectURL       = "a string that is a valid url"
	expectNonEmpty  = "a non empty string"
)

// checkFieldFormats is FieldFormatEntityPolicy.enforce.
func checkFieldFormats(e map[string]any) error {
	md, _ := e["metadata"].(map[string]any)
	check := func(field string, v any, ok func(string) bool, expect string) error {
		if v == nil {
			return fmt.Errorf("%s must have a value", field)
		}
		s, isString := v.(string)
		if !isString || !ok(s) {
			return fieldFormatError(field, expect, v)
		}
		return nil
	}
	if err := check("apiVersion", e["apiVersion"], IsValidAPIVersion, expectPrefix); err != nil {
		return err
	}
	if err := check("kind", e["kind"], IsValidKind, expectKind); err != nil {
		return err
	}
	if err := check("metadata.name", md["name"], IsValidEntityName, expectName); err != nil {
		return err
	}
	if ns, ok := md["namespace"]; ok {
		if err := check("metadata.namespace", ns, IsValidNamespace, expectNamespace); err != nil {
			return err
		}
	}
	if labels, ok := md["labels"].(map[string]any); ok {
		for _, k := range sortedKeys(labels) {
			if err := check("labels."+k, k, IsValidLabelKey, expectPrefix); err != nil {
				return err
			}
			if err := check("labels."+k, labels[k], func(s string) bool { return s == "" || IsValidEntityName(s) }, expectName); err != nil {
				return err
			}
		}
	}
	if ann, ok := md["annotations"].(map[string]any); ok {
		for _, k := range sortedKeys(ann) {
			if err := check("annotations."+k, k, IsValidLabelKey, expectPrefix); err != nil {
				return err
			}
			if err := check("annotations."+k, ann[k], func(string) bool { return true }, "a string"); err != nil {
				return err
			}
		}
	}
	if tags, ok := md["tags"].([]any); ok {
		for i, t := range tags {
			if err := check("tags."+strconv.Itoa(i), t, IsValidTag, expectTag); err != nil {
				return err
			}
		}
	}
	if links, ok := md["links"].([]any); ok {
		for i, l := range links {
			lm, _ := l.(map[string]any)
			field := "links." + strconv.Itoa(i)
			if err := check(field+".url", lm["url"], isValidURL, expectURL); err != nil {
				return err
			}
			nonEmpty := func(s string) bool { return strings.TrimSpace(s) != "" }
			for _, k := range []string{"title", "icon"} {
				if v, ok := lm[k]; ok {
					if err := check(field+"."+k, v, nonEmpty, expectNonEmpty); err != nil {
						return err
					}
				}
			}
		}
	}
	return nil
}

// jsString renders a value as JavaScript's template literals would.
func jsString(v any) string {
	switch t := v.(type) {
	case nil:
		return "null"
	case string:
		return t
	case bool:
		return strconv.FormatBool(t)
	case float64:
		return FormatNumber(t)
	case []any:
		parts := make([]string, len(t))
		for i, x := range t {
			if x != nil {
				parts[i] = jsString(x)
			}
		}
		return strings.Join(parts, ",")
	case map[string]any:
		return "[object Object]"
	}
	return fmt.Sprint(v)
}

// jsonText renders a value as JSON.stringify would (keys sorted).
func jsonText(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	return string(b)
}

// Error is a Backstage-style error: a name (InputError, TypeError, …), a
// message and an optional cause, printed "Name: message; caused by Cause".
type Error struct {
	Name    string
	Message string
	Cause   error
}

func (e *Error) Error() string {
	s := e.Name + ": " + e.Message
	if e.Cause != nil {
		s += "; caused by " + e.Cause.Error()
	}
	return s
}

func (e *Error) Unwrap() error { return e.Cause }

func errorf(format string, args ...any) error {
	return &Error{Name: "Error", Message: fmt.Sprintf(format, args...)}
}

func inputError(cause error, format string, args ...any) error {
	return &Error{Name: "InputError", Message: fmt.Sprintf(format, args...), Cause: cause}
}

func typeError(msg string) error { return &Error{Name: "TypeError", Message: msg} }

// asBackstageError presents a plain Go error as Backstage's generic Error.
func asBackstageError(err error) error {
	var be *Error
	if errors.As(err, &be) {
		return err
	}
	return &Error{Name: "Error", Message: err.Error()}
}

func mustRe(s string) *regexp.Regexp { return regexp.MustCompile(s) }
