package giteatest

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
)

// Repo is what Gitea answers about a repository (a few of its fields).
type Repo struct {
	Name          string `json:"name"`
	FullName      string `json:"full_name"`
	HTMLURL       string `json:"html_url"`
	CloneURL      string `json:"clone_url"`
	DefaultBranch string `json:"default_branch"`
	Empty         bool   `json:"empty"`
}

// APIError is a non-2xx answer of the Gitea API.
type APIError struct {
	Method, Path string
	Status       int
	Body         string
}

func (e *APIError) Error() string {
	return fmt.Sprintf("gitea %s %s: %d %s", e.Method, e.Path, e.Status, strings.TrimSpace(e.Body))
}

// Do calls the API as the administrator (with Token): path is below
// /api/v1 ("/orgs/acme"), body (if not nil) is sent as JSON and a 2xx
// answer is decoded into out (if not nil). A non-2xx answer is an
// *APIError.
func (s *Server) Do(ctx context.Context, method, path string, body, out any) error {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return err
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, s.URL+"/api/v1"+path, rd)
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "token "+s.Token)
	req.Header.Set("Accept", "application/json")
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := s.http.Do(req)
	if err != nil {
		return fmt.Errorf("gitea %s %s: %w", method, path, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 16<<20))
	if err != nil {
		return fmt.Errorf("gitea %s %s: %w", method, path, err)
	}
	if resp.StatusCode/100 != 2 {
		return &APIError{Method: method, Path: path, Status: resp.StatusCode, Body: string(data)}
	}
	if out != nil && len(data) > 0 {
		if err := json.Unmarshal(data, out); err != nil {
			return fmt.Errorf("gitea %s %s: decode: %w", method, path, err)
		}
	}
	return nil
}

func esc(seg string) string { return url.PathEscape(seg) }

// escPath escapes each segment of a slash-separated file path.
func escPath(p string) string {
	parts := strings.Split(p, "/")
	for i, s := range parts {
		parts[i] = url.PathEscape(s)
	}
	return strings.Join(parts, "/")
}

// CreateOrg creates a public organisation owned by the administrator.
func (s *Server) CreateOrg(name string) error {
	return s.Do(context.Background(), http.MethodPost, "/orgs", map[string]any{
		"username": name, "visibility": "public",
	}, nil)
}

// CreateRepo creates a public repository of org. With autoInit it starts
// with a commit on main (a README); without, it is empty, as Gitea
// creates repositories by default.
func (s *Server) CreateRepo(org, name string, autoInit bool) (*Repo, error) {
	body := map[string]any{"name": name, "private": false, "default_branch": "main"}
	if autoInit {
		body["auto_init"] = true
		body["readme"] = "Default"
	}
	var r Repo
	if err := s.Do(context.Background(), http.MethodPost, "/orgs/"+esc(org)+"/repos", body, &r); err != nil {
		return nil, err
	}
	return &r, nil
}

// GetRepo returns a repository.
func (s *Server) GetRepo(org, name string) (*Repo, error) {
	var r Repo
	if err := s.Do(context.Background(), http.MethodGet, "/repos/"+esc(org)+"/"+esc(name), nil, &r); err != nil {
		return nil, err
	}
	return &r, nil
}

type fileAnswer struct {
	Commit struct {
		SHA string `json:"sha"`
	} `json:"commit"`
}

// PutFile creates or replaces a file on branch ("" for the default) in a
// commit of its own, through the contents API: to Gitea that is a push,
// so it fires push webhooks. It returns the commit's SHA.
func (s *Server) PutFile(org, repo, branch, path, content, message string) (string, error) {
	p := "/repos/" + esc(org) + "/" + esc(repo) + "/contents/" + escPath(path)
	body := map[string]any{
		"content": base64.StdEncoding.EncodeToString([]byte(content)),
		"message": message,
	}
	if branch != "" {
		body["branch"] = branch
	}
	sha, err := s.fileSHA(org, repo, branch, path)
	if err != nil {
		return "", err
	}
	method := http.MethodPost
	if sha != "" {
		method = http.MethodPut
		body["sha"] = sha
	}
	var a fileAnswer
	if err := s.Do(context.Background(), method, p, body, &a); err != nil {
		return "", err
	}
	return a.Commit.SHA, nil
}

// DeleteFile deletes a file on branch ("" for the default) in a commit of
// its own, which fires push webhooks. It returns the commit's SHA.
func (s *Server) DeleteFile(org, repo, branch, path, message string) (string, error) {
	sha, err := s.fileSHA(org, repo, branch, path)
	if err != nil {
		return "", err
	}
	if sha == "" {
		return "", fmt.Errorf("gitea: %s/%s has no file %s", org, repo, path)
	}
	body := map[string]any{"sha": sha, "message": message}
	if branch != "" {
		body["branch"] = branch
	}
	var a fileAnswer
	p := "/repos/" + esc(org) + "/" + esc(repo) + "/contents/" + escPath(path)
	if err := s.Do(context.Background(), http.MethodDelete, p, body, &a); err != nil {
		return "", err
	}
	return a.Commit.SHA, nil
}

// fileSHA is the blob SHA of a file, "" when it does not exist (or the
// repository is empty).
func (s *Server) fileSHA(org, repo, branch, path string) (string, error) {
	p := "/repos/" + esc(org) + "/" + esc(repo) + "/contents/" + escPath(path)
	if branch != "" {
		p += "?ref=" + url.QueryEscape(branch)
	}
	var c struct {
		SHA string `json:"sha"`
	}
	err := s.Do(context.Background(), http.MethodGet, p, nil, &c)
	if ae, ok := err.(*APIError); ok && ae.Status == http.StatusNotFound {
		return "", nil
	}
	return c.SHA, err
}

// CreateWebhook adds an active webhook of Gitea's own type to a
// repository, posting JSON to target for events ("push", "repository",
// …; nil: push), signed with secret. It returns the hook's ID.
func (s *Server) CreateWebhook(org, repo, target, secret string, events []string) (int64, error) {
	return s.createHook("/repos/"+esc(org)+"/"+esc(repo)+"/hooks", target, secret, events)
}

// CreateOrgWebhook adds an active webhook to an organisation: it fires
// for every repository of it, and is the only kind that sees a
// repository being created.
func (s *Server) CreateOrgWebhook(org, target, secret string, events []string) (int64, error) {
	return s.createHook("/orgs/"+esc(org)+"/hooks", target, secret, events)
}

func (s *Server) createHook(path, target, secret string, events []string) (int64, error) {
	if len(events) == 0 {
		events = []string{"push"}
	}
	cfg := map[string]string{"url": target, "content_type": "json"}
	if secret != "" {
		cfg["secret"] = secret
	}
	var h struct {
		ID int64 `json:"id"`
	}
	err := s.Do(context.Background(), http.MethodPost, path, map[string]any{
		"type": "gitea", "config": cfg, "events": events, "active": true,
	}, &h)
	return h.ID, err
}

// DeleteRepo deletes a repository (which fires repository webhooks of its
// organisation).
func (s *Server) DeleteRepo(org, repo string) error {
	return s.Do(context.Background(), http.MethodDelete, "/repos/"+esc(org)+"/"+esc(repo), nil, nil)
}

// RenameRepo renames a repository. Gitea 1.26 sends no webhook for it.
func (s *Server) RenameRepo(org, repo, newName string) error {
	return s.Do(context.Background(), http.MethodPatch, "/repos/"+esc(org)+"/"+esc(repo), map[string]any{"name": newName}, nil)
}

// IntegrationConfig is an integrations.gitea entry for this server,
// authenticating as the administrator with its password (publish:gitea
// needs a username and password).
func (s *Server) IntegrationConfig() map[string]any {
	return map[string]any{"host": s.Host, "baseUrl": s.URL, "username": s.AdminUser, "password": s.AdminPassword}
}
