package form

import "net/url"

// Submission returns what a browser submits for fields (from Build) when
// the user changes nothing: the successful controls with their current
// values. Decode(schema, Submission(Build(schema, v, nil, opts))) gives v
// back for values the page can represent.
func Submission(fields []Field) url.Values {
	out := url.Values{}
	submit(fields, out)
	return out
}

func submit(fields []Field, out url.Values) {
	for _, f := range fields {
		if f.Attrs["disabled"] == true {
			continue
		}
		switch f.Kind {
		case "object", "objects":
			submit(f.Children, out)
		case "checkbox":
			out.Add(f.Name, "false")
			if f.Attrs["checked"] == true {
				out.Add(f.Name, "true")
			}
		case "select", "radio", "checkboxes":
			n := 0
			for _, c := range f.Choices {
				if c.Selected {
					out.Add(f.Name, c.Value)
					n++
				}
			}
			// A single select with nothing selected submits its first option.
			if n == 0 && f.Kind == "select" && f.Attrs["multiple"] != true && len(f.Choices) > 0 {
				out.Add(f.Name, f.Choices[0].Value)
			}
		case "repourl":
			for _, c := range f.Repo.Hosts {
				if c.Selected {
					out.Set(f.Name+":host", c.Value)
				}
			}
			if len(f.Repo.OwnerChoices) > 0 {
				out.Set(f.Name+":owner", "")
				for _, c := range f.Repo.OwnerChoices {
					if c.Selected {
						out.Set(f.Name+":owner", c.Value)
					}
				}
			} else {
				out.Set(f.Name+":owner", f.Repo.Owner)
			}
			out.Set(f.Name+":repo", f.Repo.Repo)
			if f.Repo.ShowAzure {
				out.Set(f.Name+":organization", f.Repo.Organization)
			}
			if f.Repo.ShowBitbucket {
				out.Set(f.Name+":workspace", f.Repo.Workspace)
				out.Set(f.Name+":project", f.Repo.Project)
			}
		default:
			out.Add(f.Name, f.Value)
		}
	}
}
