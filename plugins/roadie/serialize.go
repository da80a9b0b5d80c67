package roadie

import (
	"errors"
	"fmt"
	"math"
	"strings"

	"github.com/greenroom-dev/greenroom/scaffolder/action"
	"github.com/greenroom-dev/greenroom/scaffolder/expr"
)

// dataInput is the data input of the serialize actions.
func dataInput(in map[string]any) (any, error) {
	raw, ok := in["data"]
	if !ok || expr.IsUndefined(raw) {
		return nil, errors.New("input \"data\" is required")
	}
	return normalize(raw), nil
}

// ---- roadiehq:utils:serialize:yaml

type serializeYAMLAction struct{}

func (serializeYAMLAction) ID() string { return "roadiehq:utils:serialize:yaml" }
func (serializeYAMLAction) Description() string {
	return "Allows performing serialization on an object"
}
func (serializeYAMLAction) Schema() (map[string]any, map[string]any) {
	return action.ObjectSchema([]string{"data"}, map[string]any{
			"data":     action.TypeSchema("object", "Data", "Input data to perform serialization on."),
			"replacer": action.StringArraySchema("Replacer", "Replacer array"),
			"options":  yamlOptionsSchema(),
		}), action.ObjectSchema(nil, map[string]any{
			"serialized": action.TypeSchema("string", "Serialized", "Output result from serialization"),
		})
}

// SupportsDryRun: it has no side effects.
func (serializeYAMLAction) SupportsDryRun() bool { return true }

func (serializeYAMLAction) Run(c *action.Context) error {
	data, err := dataInput(c.Input)
	if err != nil {
		return err
	}
	opts, err := readYAMLOptions(c.Input)
	if err != nil {
		return err
	}
	// Roadie passes options, not replacer, to YAML.stringify: replacer is
	// accepted and has no effect there either
	for _, o := range opts.ignored {
		c.Logf("YAML option %q is not supported and was ignored", o)
	}
	s, err := encodeYAML(yamlNode(data), opts)
	if err != nil {
		return err
	}
	c.SetOutput("serialized", s)
	return nil
}

// ---- roadiehq:utils:serialize:json

type serializeJSONAction struct{}

func (serializeJSONAction) ID() string { return "roadiehq:utils:serialize:json" }
func (serializeJSONAction) Description() string {
	return "Allows performing serialization on an object"
}
func (serializeJSONAction) Schema() (map[string]any, map[string]any) {
	return action.ObjectSchema([]string{"data"}, map[string]any{
			"data":     action.TypeSchema("object", "Data", "Input data to perform serialization on."),
			"replacer": action.StringArraySchema("Replacer", "Replacer array"),
			"space":    action.TypeSchema("string", "Space", "Space character"),
		}), action.ObjectSchema(nil, map[string]any{
			"serialized": action.TypeSchema("string", "Serialized", "Output result from serialization"),
		})
}

// SupportsDryRun: it has no side effects.
func (serializeJSONAction) SupportsDryRun() bool { return true }

func (serializeJSONAction) Run(c *action.Context) error {
	data, err := dataInput(c.Input)
	if err != nil {
		return err
	}
	var keep map[string]bool
	if v, ok := c.Input["replacer"]; ok && v != nil && !expr.IsUndefined(v) {
		list, ok := v.([]any)
		if !ok {
			return fmt.Errorf("input \"replacer\" must be an array of strings, got %T", v)
		}
		// JSON.stringify's property list: strings and numbers name
		// properties; anything else is skipped
		keep = map[string]bool{}
		for _, e := range list {
			switch x := e.(type) {
			case string:
				keep[x] = true
			case float64:
				keep[jsNumber(x)] = true
			}
		}
	}
	indent, err := spaceInput(c.Input)
	if err != nil {
		return err
	}
	c.SetOutput("serialized", stringifyJSON(data, indent, keep))
	return nil
}

// spaceInput is JSON.stringify's space: a string (its first ten
// characters) or a number of spaces (at most ten).
func spaceInput(in map[string]any) (string, error) {
	switch x := in["space"].(type) {
	case nil:
		return "", nil
	case string:
		r := []rune(x)
		if len(r) > 10 {
			r = r[:10]
		}
		return string(r), nil
	case float64:
		n := int(math.Min(10, math.Floor(x)))
		if n < 1 {
			return "", nil
		}
		return strings.Repeat(" ", n), nil
	}
	if expr.IsUndefined(in["space"]) {
		return "", nil
	}
	return "", fmt.Errorf("input \"space\" must be a string or a number, got %T", in["space"])
}
