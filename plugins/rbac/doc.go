// Package rbac decides who may do what in Greenroom with Red Hat Developer
// Hub's RBAC files, so a policy needs no code: the CSV policy file
// (permission.rbac.policies-csv-file), the conditional-policies YAML
// (permission.rbac.conditionalPoliciesFile) and the admin settings of
// permission.rbac.admin. It holds Backstage's permission catalogue, the
// parsers of both files, the decision with RHDH's precedence and an
// explanation of every decision (the policy line or condition that made
// it), the conditional rules of the catalog and the scaffolder, their
// in-memory evaluation, their translation into the catalog store's
// predicates (so a conditional read becomes part of the SQL query), and the
// wire form Backstage's POST /api/permission/authorize returns.
//
// The package is a pure library: reading the files, watching them and
// keeping the last good Policy when a new one fails to load are the
// caller's.
package rbac
