// Package repocard is the repository card that the git-host plugins
// (GitHub, GitLab, Gitea) show on entity pages: one view of a repository,
// whichever host answers for it.
package repocard

import "time"

// Summary is what a host's API says about a repository.
type Summary struct {
	Host          string // "github.com", "gitea.example.com:3000"
	FullName      string // owner/repo or group/subgroup/project
	URL           string // the repository's web page
	Description   string
	DefaultBranch string
	LastCommit    *Commit // nil: an empty repository
	// OpenChanges is the number of open pull (merge) requests;
	// ChangesLabel names them as the host does ("pull requests",
	// "merge requests"); ChangesURL lists them.
	OpenChanges  int
	ChangesLabel string
	ChangesURL   string
}

// Commit is a repository's last commit on its default branch.
type Commit struct {
	SHA     string
	Message string // first line
	Author  string
	When    time.Time
	URL     string
}

// ShortSHA is the first 7 characters of the SHA.
func (c *Commit) ShortSHA() string {
	if len(c.SHA) > 7 {
		return c.SHA[:7]
	}
	return c.SHA
}

func ago(t time.Time, now time.Time) string {
	if t.IsZero() {
		return ""
	}
	d := now.Sub(t)
	switch {
	case d < time.Minute:
		return "just now"
	case d < time.Hour:
		return plural(int(d/time.Minute), "minute") + " ago"
	case d < 48*time.Hour:
		return plural(int(d/time.Hour), "hour") + " ago"
	default:
		return plural(int(d/(24*time.Hour)), "day") + " ago"
	}
}

func plural(n int, unit string) string {
	if n == 1 {
		return "1 " + unit
	}
	return itoa(n) + " " + unit + "s"
}

func itoa(n int) string {
	if n == 0 {
		return "0"
	}
	var b []byte
	for n > 0 {
		b = append([]byte{byte('0' + n%10)}, b...)
		n /= 10
	}
	return string(b)
}
