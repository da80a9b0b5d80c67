// Package techdocs will render mkdocs documentation (mkdocs.yml + Markdown)
// with goldmark and serve Backstage's TechDocs API.
package techdocs
