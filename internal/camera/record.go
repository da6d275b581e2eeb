package camera

import (
	"net/url"
	"slices"
)

// Record is one camera in an export or import file. Credentials are never
// exported; an import may carry username and password, which are accepted.
type Record struct {
	Name      string   `json:"name"`
	Site      string   `json:"site"`
	Location  string   `json:"location"`
	URL       string   `json:"url"`
	Direction string   `json:"direction"`
	FPS       float64  `json:"fps"`
	Timezone  string   `json:"timezone"`
	Tags      []string `json:"tags"`
	State     string   `json:"state"`
	Username  string   `json:"username,omitempty"` // import only
	Password  string   `json:"password,omitempty"` // import only
}

// Spec returns r as a Spec, credentials included, not yet normalized.
func (r Record) Spec() Spec {
	return Spec{
		Name:      r.Name,
		Site:      r.Site,
		Location:  r.Location,
		URL:       r.URL,
		Username:  r.Username,
		Password:  r.Password,
		Direction: r.Direction,
		FPS:       r.FPS,
		Timezone:  r.Timezone,
		Tags:      slices.Clone(r.Tags),
		State:     r.State,
	}
}

// exported returns r as written to a file: no credentials (the empty
// fields are omitted), not even ones a caller left embedded in the URL,
// and tags as a list rather than null.
func (r Record) exported() Record {
	r.Username, r.Password = "", ""
	r.URL = withoutUserinfo(r.URL)
	if r.Tags == nil {
		r.Tags = []string{}
	}
	return r
}

func withoutUserinfo(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.User == nil {
		return raw
	}
	u.User = nil
	return u.String()
}
