// Package scaffolder will run Backstage Software Templates
// (scaffolder.backstage.io/v1beta3): JSON Schema forms, the ${{ }}
// expression engine, actions and the task runner. The catalog already
// validates Template entities (see catalog.kindSchemas).
package scaffolder
