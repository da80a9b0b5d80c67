package plugins

import (
	"bytes"
	"fmt"
	"strings"

	"gopkg.in/yaml.v3"
)

// Config is the whole app-config document, read-only. Paths are dotted
// ("integrations.gitea"); a plugin's own section is plugins.<ID>, whose ID
// itself holds dots, so it is read with Plugin(id).
type Config struct {
	raw map[string]any
}

// NewConfig wraps a decoded app-config document.
func NewConfig(raw map[string]any) *Config {
	if raw == nil {
		raw = map[string]any{}
	}
	return &Config{raw: raw}
}

// Raw returns the whole document (not to be modified).
func (c *Config) Raw() map[string]any { return c.raw }

// Get returns the value at a dotted path, or nil.
func (c *Config) Get(path string) any {
	if c == nil {
		return nil
	}
	return lookup(c.raw, strings.Split(path, "."))
}

// Has reports whether the path is present.
func (c *Config) Has(path string) bool { return c.Get(path) != nil }

// Plugin returns the plugins.<id> section, or nil.
func (c *Config) Plugin(id string) any {
	if c == nil {
		return nil
	}
	ps, _ := c.raw["plugins"].(map[string]any)
	return ps[id]
}

func lookup(v any, path []string) any {
	for _, p := range path {
		m, ok := v.(map[string]any)
		if !ok {
			return nil
		}
		v = m[p]
	}
	return v
}

// Decode decodes the value at path into out strictly: a key out does not
// declare is an error naming the path, as Caddy decodes its modules. An
// absent path returns ErrNotConfigured and leaves out alone.
func (c *Config) Decode(path string, out any) error {
	v := c.Get(path)
	if v == nil {
		return fmt.Errorf("%s: %w", path, ErrNotConfigured)
	}
	return DecodeValue(path, v, out)
}

// DecodeValue decodes one configuration value into out strictly, naming
// path in errors.
func DecodeValue(path string, v any, out any) error {
	data, err := yaml.Marshal(v)
	if err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(out); err != nil {
		return fmt.Errorf("config %s: %s", path, strings.TrimPrefix(err.Error(), "yaml: "))
	}
	return nil
}

func lowerHost(h string) string { return strings.ToLower(strings.TrimSpace(h)) }

// DecodeIntegrations decodes the list at path (integrations.<type>)
// strictly and turns each entry into an integration with read, which also
// returns the entry's host; a host configured twice is an error naming
// the entry. An absent path is an empty list.
func DecodeIntegrations[C, I any](cfg *Config, path string, read func(i int, c C) (I, string, error)) ([]I, error) {
	v := cfg.Get(path)
	if v == nil {
		return nil, nil
	}
	var list []C
	if err := DecodeValue(path, v, &list); err != nil {
		return nil, err
	}
	seen := map[string]bool{}
	out := make([]I, 0, len(list))
	for i, c := range list {
		in, host, err := read(i, c)
		if err != nil {
			return nil, err
		}
		k := lowerHost(host)
		if seen[k] {
			return nil, fmt.Errorf("config %s[%d]: host %s is configured twice", path, i, host)
		}
		seen[k] = true
		out = append(out, in)
	}
	return out, nil
}
