package web

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/a-h/templ"
	"github.com/go-chi/chi/v5"

	"github.com/greenroom-dev/greenroom/catalog"
	"github.com/greenroom-dev/greenroom/scaffolder/task"
	"github.com/greenroom-dev/greenroom/techdocs/markdown"
)

// taskView is a task page's data: the task, its log so far and its
// rendered output.
type taskView struct {
	Task  *task.Task
	Title string // the template's title
	Log   []logLine
	Last  int64 // the last event shown; the live stream continues after it
	Texts []outputText
	Links []outputLink
}

type logLine struct {
	ID     int64
	Time   time.Time
	StepID string
	Text   string
}

type outputLink struct {
	Title, Href, Text string // Href "" when the URL is not a web link
	Entity            bool
}

type outputText struct {
	Title string
	HTML  string // sanitized Markdown
}

// Running reports whether the task may still change.
func (v taskView) Running() bool {
	return v.Task.Status == task.StatusOpen || v.Task.Status == task.StatusProcessing
}

// Retryable reports whether the task can be started over.
func (v taskView) Retryable() bool {
	return v.Task.Status == task.StatusFailed || v.Task.Status == task.StatusCancelled
}

func (v taskView) href(suffix string) string {
	return "/create/tasks/" + url.PathEscape(v.Task.ID) + suffix
}

func (v taskView) streamURL() string {
	return v.href("/stream?after=" + strconv.FormatInt(v.Last, 10))
}

func (s *Server) loadTask(w http.ResponseWriter, r *http.Request) (*task.Task, bool) {
	id := chi.URLParam(r, "id")
	t, err := s.Scaffolder.Task(r.Context(), id)
	if errors.Is(err, task.ErrNotFound) {
		s.notFound(w, r, "There is no task "+id+".")
		return nil, false
	}
	if err != nil {
		s.fail(w, r, err)
		return nil, false
	}
	return t, true
}

func (s *Server) taskView(ctx context.Context, t *task.Task) (taskView, error) {
	v := taskView{Task: t, Title: t.Spec.TemplateRef}
	if tp := t.Spec.Template; tp != nil {
		v.Title = tp.Title
		if v.Title == "" {
			v.Title = tp.Name
		}
	}
	events, err := s.Scaffolder.Events(ctx, t.ID, 0)
	if err != nil {
		return v, fmt.Errorf("task events: %w", err)
	}
	for _, e := range events {
		if l, ok := toLogLine(e); ok {
			v.Log = append(v.Log, l)
		}
		v.Last = e.ID
	}
	v.Links, v.Texts = taskOutput(t)
	return v, nil
}

// toLogLine is an event as a line of the log: log events, and the
// cancelled/recovered/completion notes.
func toLogLine(e task.Event) (logLine, bool) {
	msg, _ := e.Body["message"].(string)
	if msg == "" {
		return logLine{}, false
	}
	step, _ := e.Body["stepId"].(string)
	return logLine{ID: e.ID, Time: e.CreatedAt, StepID: step, Text: msg}, true
}

// taskOutput renders the task's output: links (web links linked, an
// entity ref to its page, anything else shown as text) and Markdown texts
// through the docs' sanitizing renderer.
func taskOutput(t *task.Task) ([]outputLink, []outputText) {
	if t.Output == nil {
		return nil, nil
	}
	var links []outputLink
	for _, l := range t.Output.Links {
		ol := outputLink{Title: l.Title}
		switch {
		case l.EntityRef != "":
			ref, err := catalog.ParseRef(l.EntityRef, catalog.RefDefaults{Namespace: catalog.DefaultNamespace})
			if err != nil {
				ol.Text = l.EntityRef
			} else {
				ol.Href, ol.Entity = entityHref(ref), true
			}
			if ol.Title == "" {
				ol.Title = l.EntityRef
			}
		case l.URL != "":
			ol.Href = safeLink(l.URL)
			if ol.Href == "" {
				ol.Text = l.URL
			}
			if ol.Title == "" {
				ol.Title = l.URL
			}
		default:
			continue
		}
		links = append(links, ol)
	}
	var texts []outputText
	for _, tx := range t.Output.Text {
		res, err := markdown.Render([]byte(tx.Content), markdown.Options{})
		html := ""
		if err == nil {
			html = res.HTML
		}
		texts = append(texts, outputText{Title: tx.Title, HTML: html})
	}
	return links, texts
}

// taskPage shows a task: its steps, log and output. While it runs, the
// page follows it over server-sent events.
func (s *Server) taskPage(w http.ResponseWriter, r *http.Request) {
	t, ok := s.loadTask(w, r)
	if !ok {
		return
	}
	v, err := s.taskView(r.Context(), t)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	p := s.page(r, "Task · "+v.Title, "/create")
	p.Scripts = []string{"vendor/htmx-ext-sse.js"}
	s.render(w, r, http.StatusOK, taskPage(p, v))
}

// taskList shows the newest tasks.
func (s *Server) taskList(w http.ResponseWriter, r *http.Request) {
	tasks, total, err := s.Scaffolder.Tasks(r.Context(), task.ListOptions{Limit: 50})
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.render(w, r, http.StatusOK, taskListPage(s.page(r, "Tasks", "/create"), tasks, total))
}

func (s *Server) taskCancel(w http.ResponseWriter, r *http.Request) {
	t, ok := s.loadTask(w, r)
	if !ok {
		return
	}
	if err := s.Scaffolder.Cancel(r.Context(), t.ID); err != nil {
		s.fail(w, r, err)
		return
	}
	http.Redirect(w, r, "/create/tasks/"+url.PathEscape(t.ID), http.StatusSeeOther)
}

func (s *Server) taskRetry(w http.ResponseWriter, r *http.Request) {
	t, ok := s.loadTask(w, r)
	if !ok {
		return
	}
	if err := s.Scaffolder.Retry(r.Context(), t.ID); err != nil {
		s.render(w, r, http.StatusConflict, errorPage(s.page(r, "Cannot retry", "/create"), "The task cannot be retried", err.Error()))
		return
	}
	http.Redirect(w, r, "/create/tasks/"+url.PathEscape(t.ID), http.StatusSeeOther)
}

// streamPoll is how often the stream looks for new events; streamMax
// bounds one connection (htmx reconnects, resuming after Last-Event-ID).
const (
	streamPoll = 200 * time.Millisecond
	streamMax  = 10 * time.Minute
)

// taskStream sends a task's progress as server-sent events for htmx's SSE
// extension: "log" events carry new log lines (appended), "state" the
// steps, status, actions and output (swapped), and "done" ends the stream
// once the task has finished.
func (s *Server) taskStream(w http.ResponseWriter, r *http.Request) {
	id := chi.URLParam(r, "id")
	after, _ := strconv.ParseInt(r.URL.Query().Get("after"), 10, 64)
	if le, err := strconv.ParseInt(r.Header.Get("Last-Event-ID"), 10, 64); err == nil && le > after {
		after = le
	}
	if _, err := s.Scaffolder.Task(r.Context(), id); err != nil {
		http.Error(w, "no such task", http.StatusNotFound)
		return
	}
	rc := http.NewResponseController(w)
	_ = rc.SetWriteDeadline(time.Time{}) // the server's write timeout does not apply to a stream
	h := w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-cache")
	h.Set("X-Accel-Buffering", "no")
	w.WriteHeader(http.StatusOK)
	ctx, cancel := context.WithTimeout(r.Context(), streamMax)
	defer cancel()
	tick := time.NewTicker(streamPoll)
	defer tick.Stop()
	first := true
	for {
		events, err := s.Scaffolder.Events(ctx, id, after)
		if err != nil {
			return
		}
		if len(events) > 0 || first {
			t, err := s.Scaffolder.Task(ctx, id)
			if err != nil {
				return
			}
			for _, e := range events {
				if l, ok := toLogLine(e); ok {
					if err := sendEvent(ctx, w, "log", strconv.FormatInt(e.ID, 10), logLineView(l)); err != nil {
						return
					}
				}
				after = e.ID
			}
			v := taskView{Task: t, Last: after}
			v.Links, v.Texts = taskOutput(t)
			if err := sendEvent(ctx, w, "state", "", taskState(v)); err != nil {
				return
			}
			if !v.Running() {
				sendEvent(ctx, w, "done", "", templ.Raw(""))
				rc.Flush()
				return
			}
			if err := rc.Flush(); err != nil {
				return
			}
			first = false
		}
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}

// sendEvent writes one server-sent event whose data is a rendered
// component (each line of it a data: line).
func sendEvent(ctx context.Context, w http.ResponseWriter, name, id string, c templ.Component) error {
	var b strings.Builder
	if err := c.Render(ctx, &b); err != nil {
		return err
	}
	var out strings.Builder
	out.WriteString("event: " + name + "\n")
	if id != "" {
		out.WriteString("id: " + id + "\n")
	}
	for _, line := range strings.Split(b.String(), "\n") {
		out.WriteString("data: " + strings.TrimSuffix(line, "\r") + "\n")
	}
	out.WriteString("\n")
	_, err := w.Write([]byte(out.String()))
	return err
}

// withCSS adds a page's own stylesheet.
func withCSS(p page, css string) page {
	p.CSS = append(append([]string(nil), p.CSS...), css)
	return p
}

func statusLabel(s string) string {
	switch s {
	case task.StatusOpen:
		return "Waiting"
	case task.StatusProcessing:
		return "Running"
	case task.StatusCompleted:
		return "Completed"
	case task.StatusFailed:
		return "Failed"
	case task.StatusCancelled:
		return "Cancelled"
	case task.StatusSkipped:
		return "Skipped"
	}
	return s
}

// statusIcon is the mark beside a step: ✓ done, ✗ failed, … running.
func statusIcon(s string) string {
	switch s {
	case task.StatusCompleted:
		return "✓"
	case task.StatusFailed:
		return "✗"
	case task.StatusProcessing:
		return "…"
	case task.StatusSkipped:
		return "–"
	case task.StatusCancelled:
		return "⊘"
	}
	return "○"
}

func stepDuration(st task.StepState) string {
	if st.StartedAt == nil || st.EndedAt == nil {
		return ""
	}
	d := st.EndedAt.Sub(*st.StartedAt)
	if d < time.Second {
		return strconv.FormatInt(d.Milliseconds(), 10) + " ms"
	}
	return d.Round(100 * time.Millisecond).String()
}

func taskTemplateTitle(t *task.Task) string {
	if tp := t.Spec.Template; tp != nil {
		if tp.Title != "" {
			return tp.Title
		}
		return tp.Name
	}
	return t.Spec.TemplateRef
}
