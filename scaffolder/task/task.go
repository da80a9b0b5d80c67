// Package task runs scaffolder tasks: a Template's steps executed in order
// over a workspace, with Backstage's task statuses (open, processing,
// completed, failed, cancelled) and task events (log, completion,
// cancelled, recovered) kept in a Store.
//
// Secrets are never persisted: Spec.Secrets is excluded from the stored
// spec, kept in memory for the run only, and masked ("***") in every event
// message, error and rendered output the runner stores.
package task

import (
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/greenroom-dev/greenroom/scaffolder/template"
)

// Task statuses (Backstage's TaskStatus). StatusSkipped is a step status.
const (
	StatusOpen       = "open"
	StatusProcessing = "processing"
	StatusCompleted  = "completed"
	StatusFailed     = "failed"
	StatusCancelled  = "cancelled"
	StatusSkipped    = "skipped"
)

// Event types.
const (
	EventLog        = "log"
	EventCompletion = "completion"
	EventCancelled  = "cancelled"
	EventRecovered  = "recovered"
)

// ErrNotFound is returned for an unknown task.
var ErrNotFound = errors.New("task not found")

// User is the user a task runs for (the template context's `user`).
type User struct {
	Ref    string         `json:"ref,omitempty"`
	Entity map[string]any `json:"entity,omitempty"`
}

// Spec is what a task runs: the template, the submitted parameters, the
// user and the secrets. Secrets are never serialised (json:"-").
type Spec struct {
	TemplateRef string             `json:"templateRef,omitempty"`
	Template    *template.Template `json:"-"` // stored as its entity (see MarshalJSON)
	Parameters  map[string]any     `json:"parameters"`
	User        User               `json:"user"`
	Secrets     map[string]string  `json:"-"`
}

type specJSON struct {
	TemplateRef string         `json:"templateRef,omitempty"`
	Template    map[string]any `json:"template"`
	Parameters  map[string]any `json:"parameters"`
	User        User           `json:"user"`
}

// MarshalJSON writes the spec without its secrets; the template is written
// as a v1beta3 entity so that it can be parsed back.
func (s Spec) MarshalJSON() ([]byte, error) {
	j := specJSON{TemplateRef: s.TemplateRef, Parameters: s.Parameters, User: s.User}
	if j.Parameters == nil {
		j.Parameters = map[string]any{}
	}
	if t := s.Template; t != nil {
		meta := map[string]any{"name": t.Name}
		if t.Namespace != "" {
			meta["namespace"] = t.Namespace
		}
		if t.Title != "" {
			meta["title"] = t.Title
		}
		if t.Description != "" {
			meta["description"] = t.Description
		}
		if len(t.Tags) > 0 {
			meta["tags"] = t.Tags
		}
		j.Template = map[string]any{
			"apiVersion": template.APIVersion, "kind": "Template",
			"metadata": meta, "spec": t.Spec,
		}
	}
	return json.Marshal(j)
}

// UnmarshalJSON reads a spec written by MarshalJSON (secrets are empty).
func (s *Spec) UnmarshalJSON(data []byte) error {
	var j specJSON
	if err := json.Unmarshal(data, &j); err != nil {
		return err
	}
	*s = Spec{TemplateRef: j.TemplateRef, Parameters: j.Parameters, User: j.User}
	if j.Template != nil {
		t, err := template.Parse(j.Template)
		if err != nil {
			return fmt.Errorf("stored template: %w", err)
		}
		s.Template = t
	}
	return nil
}

// StepState is the progress of one step.
type StepState struct {
	ID        string     `json:"id"`
	Name      string     `json:"name"`
	Action    string     `json:"action"`
	Status    string     `json:"status"` // open, processing, completed, failed, cancelled, skipped
	StartedAt *time.Time `json:"startedAt,omitempty"`
	EndedAt   *time.Time `json:"endedAt,omitempty"`
}

// Label is what people call the step: its name, else its id, else its
// action.
func (s StepState) Label() string {
	switch {
	case s.Name != "":
		return s.Name
	case s.ID != "":
		return s.ID
	}
	return s.Action
}

// Link is a rendered spec.output.links entry.
type Link struct {
	Title     string `json:"title,omitempty"`
	URL       string `json:"url,omitempty"`
	EntityRef string `json:"entityRef,omitempty"`
	Icon      string `json:"icon,omitempty"`
}

// Text is a rendered spec.output.text entry.
type Text struct {
	Title   string `json:"title,omitempty"`
	Content string `json:"content,omitempty"`
	Icon    string `json:"icon,omitempty"`
	Default bool   `json:"default,omitempty"`
}

// Output is the task's rendered spec.output.
type Output struct {
	Links []Link         `json:"links,omitempty"`
	Text  []Text         `json:"text,omitempty"`
	Extra map[string]any `json:"extra,omitempty"`
}

// Task is one run of a template.
type Task struct {
	ID            string      `json:"id"`
	Spec          Spec        `json:"spec"`
	Status        string      `json:"status"`
	CreatedBy     string      `json:"createdBy,omitempty"` // Spec.User.Ref
	CreatedAt     time.Time   `json:"createdAt"`
	LastHeartbeat *time.Time  `json:"lastHeartbeatAt,omitempty"`
	Steps         []StepState `json:"steps"`
	Output        *Output     `json:"output,omitempty"`
	Error         string      `json:"error,omitempty"`
}

// Event is one task event. Body holds message and, as relevant, stepId,
// status, output and error.
type Event struct {
	ID        int64          `json:"id"`
	TaskID    string         `json:"taskId"`
	Type      string         `json:"type"`
	Body      map[string]any `json:"body"`
	CreatedAt time.Time      `json:"createdAt"`
}
