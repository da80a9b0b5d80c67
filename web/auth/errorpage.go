package auth

import (
	"html/template"
	"net/http"
)

var errorPageTemplate = template.Must(template.New("signin-error").Parse(`<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>{{.Title}} · Greenroom</title>
<meta name="viewport" content="width=device-width, initial-scale=1"></head>
<body>
<main>
<h1>{{.Title}}</h1>
{{if .Who}}<p>You tried to sign in as <strong>{{.Who}}</strong>.</p>{{end}}
<p>{{.Message}}</p>
<p>{{if .Retry}}<a href="{{.Retry}}">Try again</a> · {{end}}<a href="/">Back to the portal</a></p>
</main>
</body>
</html>
`))

// defaultErrorPage is the plain page for a refused sign-in; the lead's
// ErrorPage replaces it with the portal's layout.
func defaultErrorPage(w http.ResponseWriter, r *http.Request) {
	e, ok := SignInErrorFromContext(r.Context())
	if !ok {
		e = &SignInError{Status: http.StatusBadRequest, Title: "Sign-in failed", Message: "Please try again."}
	}
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'")
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(e.Status)
	errorPageTemplate.Execute(w, e)
}
