package rbac

import (
	"errors"
	"fmt"

	"github.com/greenroom-dev/greenroom/plugins"
)

// Settings are the permission section of app-config, with RHDH's keys
// (rbac-backend config.d.ts).
type Settings struct {
	// Enabled is permission.enabled: off, every permission is allowed,
	// as in Backstage.
	Enabled bool         `yaml:"enabled"`
	RBAC    RBACSettings `yaml:"rbac"`
}

// RBACSettings are permission.rbac.
type RBACSettings struct {
	PoliciesCSVFile         string `yaml:"policies-csv-file"`
	ConditionalPoliciesFile string `yaml:"conditionalPoliciesFile"`
	// PolicyFileReload asks for both files to be watched and reloaded.
	PolicyFileReload bool `yaml:"policyFileReload"`
	Admin            struct {
		Users      []NamedRef `yaml:"users"`
		SuperUsers []NamedRef `yaml:"superUsers"`
	} `yaml:"admin"`
	// PluginsWithPermission are the plugin ids whose permissions the
	// policy page lists.
	PluginsWithPermission []string `yaml:"pluginsWithPermission"`
	// MaxDepth bounds the group hierarchy walked for a user's groups
	// (nil: unbounded, 0: direct groups only); the caller building an
	// Identity applies it.
	MaxDepth *int `yaml:"maxDepth"`
	// PolicyDecisionPrecedence is conditional (default) or basic.
	PolicyDecisionPrecedence string `yaml:"policyDecisionPrecedence"`
	// UseOwnershipEntityRefs binds roles from the token's ownership refs
	// too; the caller building an Identity applies it.
	UseOwnershipEntityRefs bool `yaml:"useOwnershipEntityRefs"`
	DefaultPermissions     struct {
		DefaultRole      string `yaml:"defaultRole"`
		BasicPermissions []struct {
			Permission string `yaml:"permission"`
			Action     string `yaml:"action"`
		} `yaml:"basicPermissions"`
	} `yaml:"defaultPermissions"`
	// DefaultUserAccess is an older RHDH form, refused with a pointer to
	// defaultPermissions.
	DefaultUserAccess any `yaml:"defaultUserAccess"`
	// ConditionalMetadataRetry is accepted for RHDH configs; Greenroom
	// knows its plugins' permissions without asking them.
	ConditionalMetadataRetry struct {
		MaxAttempts int `yaml:"maxAttempts"`
		BaseDelayMs int `yaml:"baseDelayMs"`
		MaxDelayMs  int `yaml:"maxDelayMs"`
	} `yaml:"conditionalMetadataRetry"`
	Validation struct {
		ConditionalPolicies struct {
			MaxConditionDepth     int `yaml:"maxConditionDepth"`
			MaxConditionNodeCount int `yaml:"maxConditionNodeCount"`
			MaxCriteriaItems      int `yaml:"maxCriteriaItems"`
		} `yaml:"conditionalPolicies"`
		ConditionalPoliciesFile struct {
			MaxBytes     int `yaml:"maxBytes"`
			MaxDocuments int `yaml:"maxDocuments"`
		} `yaml:"conditionalPoliciesFile"`
	} `yaml:"validation"`
}

// NamedRef is an entry of admin.users / admin.superUsers.
type NamedRef struct {
	Name string `yaml:"name"`
}

// ReadSettings decodes the permission section strictly. Without one the
// settings are zero: permissions disabled.
func ReadSettings(cfg *plugins.Config) (Settings, error) {
	var s Settings
	if err := cfg.Decode("permission", &s); err != nil {
		if errors.Is(err, plugins.ErrNotConfigured) {
			return Settings{}, nil
		}
		return Settings{}, err
	}
	if s.RBAC.DefaultUserAccess != nil {
		return Settings{}, fmt.Errorf("config permission.rbac.defaultUserAccess: this older form is not supported; use permission.rbac.defaultPermissions.{defaultRole, basicPermissions}")
	}
	if s.RBAC.MaxDepth != nil && *s.RBAC.MaxDepth < 0 {
		return Settings{}, fmt.Errorf("config permission.rbac.maxDepth: must be 0 or more")
	}
	return s, nil
}

// Config is what Load needs from the settings; the file names are the
// configured paths, so messages name them.
func (s Settings) Config() Config {
	r := s.RBAC
	c := Config{
		CSVFile:         r.PoliciesCSVFile,
		ConditionalFile: r.ConditionalPoliciesFile,
		Precedence:      r.PolicyDecisionPrecedence,
		DefaultRole:     r.DefaultPermissions.DefaultRole,
		Limits: Limits{
			MaxBytes:              r.Validation.ConditionalPoliciesFile.MaxBytes,
			MaxDocuments:          r.Validation.ConditionalPoliciesFile.MaxDocuments,
			MaxConditionDepth:     r.Validation.ConditionalPolicies.MaxConditionDepth,
			MaxConditionNodeCount: r.Validation.ConditionalPolicies.MaxConditionNodeCount,
			MaxCriteriaItems:      r.Validation.ConditionalPolicies.MaxCriteriaItems,
		},
	}
	for _, u := range r.Admin.Users {
		c.AdminUsers = append(c.AdminUsers, u.Name)
	}
	for _, u := range r.Admin.SuperUsers {
		c.SuperUsers = append(c.SuperUsers, u.Name)
	}
	for _, p := range r.DefaultPermissions.BasicPermissions {
		c.DefaultPermissions = append(c.DefaultPermissions, DefaultPermission{Permission: p.Permission, Action: p.Action})
	}
	return c
}
