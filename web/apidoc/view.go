// Package apidoc renders the definition of a Backstage API entity
// (spec.definition) for people: OpenAPI and Swagger as operations grouped
// by tag with their parameters, bodies, responses and schemas; AsyncAPI as
// channels with their operations and messages; GraphQL and protobuf as
// highlighted source with an outline; anything else as highlighted text.
//
// The definition is untrusted. Its text is only ever shown escaped
// (descriptions are plain text, not Markdown or HTML), links are only made
// for http and https URLs, and the only raw HTML written is chroma's
// highlighting, which escapes the source itself. Parsing never panics, and
// big definitions are cut short so that a page stays small.
//
// Parsing (Prepare, ParseOpenAPI, ParseAsyncAPI) is separate from
// rendering (View, Render) so that each can be tested on its own.
package apidoc

import (
	"context"
	"fmt"
	"io"
	"strings"

	"github.com/a-h/templ"
)

// Doc is a definition prepared for rendering. At most one of OpenAPI,
// AsyncAPI and Code is set; Code may come with an Outline.
type Doc struct {
	// Type is the normalised spec.type ("openapi", "grpc", ...).
	Type     string
	OpenAPI  *OpenAPI
	AsyncAPI *AsyncAPI
	Outline  *Outline
	Code     *Code
	// Notice explains why the definition is shown as text (it could not
	// be read as the given type) or that there is nothing to show.
	Notice string
}

// View renders the definition of an API entity of the given spec.type.
// The definition is prepared when the component renders, and kept for a
// while in case it is shown again.
func View(apiType, definition string) templ.Component {
	return templ.ComponentFunc(func(ctx context.Context, w io.Writer) error {
		return docView(cache.prepare(apiType, definition)).Render(ctx, w)
	})
}

// Render renders a prepared definition.
func Render(d *Doc) templ.Component {
	if d == nil {
		d = &Doc{Notice: "This API has no definition."}
	}
	return docView(d)
}

// Prepare parses a definition of the given spec.type into what View shows.
// It never fails: what cannot be read as its type is shown as text, with a
// notice saying why. The result must not be changed once rendered (View
// shares it between requests).
func Prepare(apiType, definition string) (d *Doc) {
	t := strings.ToLower(strings.TrimSpace(apiType))
	d = &Doc{Type: t}
	defer func() {
		if r := recover(); r != nil {
			// Should not happen; show the text rather than fail the page.
			*d = Doc{Type: t, Notice: "The definition could not be rendered; here is its text."}
			d.Code = ptr(highlight(definition, guessLanguage(definition), nil))
		}
	}()
	if strings.TrimSpace(definition) == "" {
		d.Notice = "This API has no definition."
		return d
	}
	switch t {
	case "openapi", "swagger", "asyncapi":
		prepareStructured(d, t, definition)
	case "graphql":
		items := graphqlOutline(definition)
		o, splits := outlineOf(items, []string{"Schema", "Types", "Interfaces", "Unions", "Enums", "Inputs", "Scalars", "Directives"}, "gql")
		d.Code = ptr(highlight(definition, "graphql", splits))
		o.dropMissing(*d.Code)
		d.Outline = &o
	case "grpc", "protobuf", "proto":
		items := protoOutline(definition)
		o, splits := outlineOf(items, []string{"Services", "Messages", "Enums"}, "proto")
		d.Code = ptr(highlight(definition, "protobuf", splits))
		o.dropMissing(*d.Code)
		d.Outline = &o
	default:
		d.Code = ptr(highlight(definition, guessLanguage(definition), nil))
	}
	return d
}

// Sizes above which an OpenAPI or AsyncAPI definition is not parsed (that
// would take too long for a page, about half a second) but shown as text.
// YAML parses several times slower than JSON.
const (
	maxStructuredYAML = 2 << 20
	maxStructuredJSON = 6 << 20
)

func ptr[T any](v T) *T { return &v }

// prepareStructured reads an OpenAPI or AsyncAPI definition. The document
// decides which it is (an "openapi" entity whose definition says
// "asyncapi: 3.0.0" is shown as AsyncAPI); when it is neither, or broken,
// the text is shown with a notice.
func prepareStructured(d *Doc, t, definition string) {
	name := "OpenAPI"
	if t == "asyncapi" {
		name = "AsyncAPI"
	}
	limit := maxStructuredYAML
	if strings.HasPrefix(strings.TrimLeft(definition, " \t\r\n\ufeff"), "{") {
		limit = maxStructuredJSON
	}
	if len(definition) > limit {
		d.Notice = fmt.Sprintf("This definition is too big (%s) to be shown as %s. Here is its text.", kib(len(definition)), name)
		d.Code = ptr(highlight(definition, guessLanguage(definition), nil))
		return
	}
	root, err := parseDocument(definition)
	if err == nil {
		switch {
		case root.has("asyncapi"):
			d.AsyncAPI, err = asyncAPIFromNode(root)
			name = "AsyncAPI"
		case root.has("openapi") || root.has("swagger") || t != "asyncapi":
			d.OpenAPI, err = openAPIFromNode(root)
			name = "OpenAPI"
		default:
			_, err = asyncAPIFromNode(root)
		}
	}
	if err != nil {
		d.OpenAPI, d.AsyncAPI = nil, nil
		d.Notice = fmt.Sprintf("This definition could not be shown as %s: %s. Here is its text.", name, oneLine(err.Error()))
		d.Code = ptr(highlight(definition, guessLanguage(definition), nil))
	}
}

// oneLine shortens an error message for the notice.
func oneLine(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	if len(s) > 300 {
		s = truncate(s, 300) + "…"
	}
	return s
}
