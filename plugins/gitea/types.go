package gitea

import (
	"regexp"
	"time"
)

// apiRepo is the part of Gitea's Repository the plugin reads.
type apiRepo struct {
	Name          string `json:"name"`
	FullName      string `json:"full_name"`
	HTMLURL       string `json:"html_url"`
	Description   string `json:"description"`
	DefaultBranch string `json:"default_branch"`
	Empty         bool   `json:"empty"`
	OpenPRCounter int    `json:"open_pr_counter"`
	Owner         struct {
		Login string `json:"login"`
	} `json:"owner"`
}

// apiCommit is the part of Gitea's Commit the plugin reads.
type apiCommit struct {
	SHA     string `json:"sha"`
	HTMLURL string `json:"html_url"`
	Commit  struct {
		Message string `json:"message"`
		Author  struct {
			Name string    `json:"name"`
			Date time.Time `json:"date"`
		} `json:"author"`
	} `json:"commit"`
}

// shaRe is a git object name (SHA-1 or SHA-256).
var shaRe = regexp.MustCompile(`^[0-9a-f]{40}([0-9a-f]{24})?$`)
