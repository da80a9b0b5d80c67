package apidoc

import (
	"strconv"
	"strings"
)

// kindClass is the class of the outer element, by what is shown.
func kindClass(d *Doc) string {
	switch {
	case d.OpenAPI != nil:
		return "apidoc-openapi"
	case d.AsyncAPI != nil:
		return "apidoc-asyncapi"
	case d.Outline != nil && d.Type == "graphql":
		return "apidoc-graphql"
	case d.Outline != nil:
		return "apidoc-grpc"
	}
	return "apidoc-text"
}

// methodClass colours a method badge; methods come from a fixed list.
func methodClass(m string) string {
	switch m {
	case "GET", "PUT", "POST", "DELETE", "PATCH", "HEAD", "OPTIONS", "TRACE":
		return "apidoc-method-" + strings.ToLower(m)
	}
	return "apidoc-method-other"
}

// actionClass colours an AsyncAPI operation's badge.
func actionClass(a string) string {
	switch strings.ToLower(a) {
	case "send", "publish":
		return "apidoc-action-send"
	case "receive", "subscribe":
		return "apidoc-action-receive"
	}
	return "apidoc-method-other"
}

// statusClass colours a response status by its class (2XX, 4XX...).
func statusClass(s string) string {
	if s == "" {
		return "apidoc-status-other"
	}
	switch s[0] {
	case '1', '3':
		return "apidoc-status-info"
	case '2':
		return "apidoc-status-ok"
	case '4':
		return "apidoc-status-client"
	case '5':
		return "apidoc-status-server"
	}
	return "apidoc-status-other"
}

// typeName is a schema's type, or "any" when it has none.
func typeName(s *Schema) string {
	if s.Type == "" {
		return "any"
	}
	return s.Type
}

func kib(n int) string {
	if n < 1024 {
		return strconv.Itoa(n) + " bytes"
	}
	return strconv.Itoa((n+1023)/1024) + " KiB"
}

func languageName(lang string) string {
	switch lang {
	case "graphql":
		return "GraphQL"
	case "protobuf":
		return "Protocol Buffers"
	case "yaml":
		return "YAML"
	case "json":
		return "JSON"
	case "xml":
		return "XML"
	}
	return "plain text"
}
