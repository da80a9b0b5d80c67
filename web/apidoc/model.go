package apidoc

// The view model: what the templ components render. Everything here comes
// from an untrusted definition and is plain text; the components escape it.

// Info is a definition's info object.
type Info struct {
	Title       string
	Version     string
	Description string
	// Format names the specification and its version, e.g. "OpenAPI 3.0.3".
	Format string
	Links  []Link
}

// Link is an http(s) link from the definition (contact, license, docs).
type Link struct {
	Label string
	Href  string // always http or https; empty when the URL was unsafe
	Text  string // shown when Href is empty (a mail address, say)
}

// Server is where an API is served.
type Server struct {
	Name        string
	URL         string
	Protocol    string
	Description string
}

// OpenAPI is an OpenAPI 3.x or Swagger 2.0 definition, ready to render.
type OpenAPI struct {
	Info    Info
	Servers []Server
	Groups  []OpGroup
	// Operations is the number of operations in the definition;
	// OmittedOps how many of them are not listed (over maxOperations).
	Operations int
	OmittedOps int
	// Brief counts operations listed without their details.
	Brief   int
	Schemas []NamedSchema
	// OmittedSchemas counts component schemas not listed (over maxSchemas).
	OmittedSchemas int
	// Linked is set when the definition is too big for referenced schemas
	// to be expanded in every operation: they link to Schemas instead.
	Linked bool
	// Abbreviated is set when schema trees were cut short to keep the
	// page small.
	Abbreviated bool
}

// OpGroup is the operations of one tag ("default" for untagged ones).
type OpGroup struct {
	Name        string
	Description string
	ID          string // element id
	Ops         []*Operation
}

// Operation is one method on one path.
type Operation struct {
	ID          string // element id
	Method      string // upper case
	Path        string
	Summary     string
	OperationID string
	Description string
	Deprecated  bool
	// Brief is set when the definition is too big for this operation's
	// details to be shown.
	Brief bool
	// SeeID and SeeTag point a brief copy of an operation listed under
	// several tags to the entry with its details.
	SeeID     string
	SeeTag    string
	Params    []Param
	Body      *Body
	Responses []Response
}

// Param is a parameter of an operation.
type Param struct {
	Name        string
	In          string
	Required    bool
	Deprecated  bool
	Description string
	Schema      *Schema
}

// Body is a request body.
type Body struct {
	Description string
	Required    bool
	Content     []Media
}

// Media is a media type with its schema.
type Media struct {
	Type   string
	Schema *Schema
}

// Response is one response of an operation.
type Response struct {
	Status      string
	Description string
	Headers     []Param
	Content     []Media
}

// NamedSchema is an entry of components/schemas (or definitions).
type NamedSchema struct {
	Name   string
	ID     string // element id
	Schema *Schema
}

// Schema is a node of a schema tree.
type Schema struct {
	Name     string // property name; empty at the root
	Title    string
	Type     string // "string", "object", "array of Order", "one of"...
	Format   string
	Ref      string // name of the referenced schema, if any
	RefID    string // element id of that schema in the Schemas list
	Required bool
	// Flags are short markers: "nullable", "read-only", "deprecated"...
	Flags       []string
	Description string
	Enum        []string
	MoreEnum    int      // enum values not listed
	Notes       []string // constraints: "default: 20", "max length 280"...
	// Children are the properties of an object (or of an array's items).
	Children     []*Schema
	MoreChildren int
	// Variants are the alternatives of oneOf/anyOf; VariantKind says which.
	Variants    []*Schema
	VariantKind string
	// Recursive marks a reference to a schema that is already being shown
	// further up; Cut marks a subtree left out (depth or size limit);
	// External a reference to another document.
	Recursive bool
	Cut       bool
	External  bool
}

// AsyncAPI is an AsyncAPI 2.x or 3.x definition, ready to render.
type AsyncAPI struct {
	Info               Info
	DefaultContentType string
	Servers            []Server
	Channels           []*Channel
	OmittedChannels    int
	OmittedMessages    int
	Abbreviated        bool
}

// Channel is an AsyncAPI channel with what happens on it.
type Channel struct {
	ID          string // element id
	Name        string // key in channels
	Address     string // 3.x address (2.x: the name)
	Description string
	Params      []Param
	Ops         []*AsyncOp
	// Messages are the channel's own (3.x); see ShowMessages.
	Messages []*Message
}

// ShowMessages reports whether the channel's messages are listed with it:
// when no operation uses the channel, or one uses all of its messages.
func (c *Channel) ShowMessages() bool {
	if len(c.Ops) == 0 {
		return true
	}
	for _, op := range c.Ops {
		if op.AllMessages {
			return true
		}
	}
	return false
}

// AsyncOp is a publish/subscribe (2.x) or send/receive (3.x) operation.
type AsyncOp struct {
	ID          string // element id
	Action      string
	OperationID string
	Summary     string
	Description string
	Messages    []*Message
	// AllMessages is set when the operation names no messages: it uses
	// all of its channel's (3.x), which are listed with the channel.
	AllMessages bool
}

// Message is an AsyncAPI message.
type Message struct {
	Name        string
	Title       string
	Summary     string
	Description string
	ContentType string
	Headers     *Schema
	Payload     *Schema
}

// Outline lists the named things of a GraphQL schema or a protobuf file.
type Outline struct {
	Sections []OutlineSection
}

// OutlineSection is one kind of thing ("Types", "Enums", "Services").
type OutlineSection struct {
	Title string
	Items []OutlineItem
}

// OutlineItem is one named thing, with its members (rpc methods, say).
type OutlineItem struct {
	Name    string
	ID      string // element id
	Kind    string
	Members []string
}
