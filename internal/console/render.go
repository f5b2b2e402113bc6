package console

import (
	"bytes"
	"embed"
	"encoding/json"
	"errors"
	"html/template"
	"io/fs"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/iotcore/iotcore/internal/iot"
)

//go:embed templates/*.html
var templateFS embed.FS

//go:embed static
var staticFS embed.FS

// views are the parsed page templates: each page's file with the layout.
type views struct {
	pages map[string]*template.Template
}

var funcs = template.FuncMap{
	"when": func(t time.Time) string {
		if t.IsZero() {
			return "—"
		}
		return t.UTC().Format("2006-01-02 15:04:05 UTC")
	},
	"iso":    func(t time.Time) string { return t.UTC().Format(time.RFC3339Nano) },
	"ago":    func(t time.Time) string { return ago(time.Since(t)) },
	"pretty": prettyJSON,
	"short": func(id string) string {
		if len(id) > 12 {
			return id[:12] + "…"
		}
		return id
	},
	"join":  strings.Join,
	"lower": strings.ToLower,
	"pager": pager,
}

// pagerLinks are the links of a listing's pager.
type pagerLinks struct {
	First             bool
	FirstURL, NextURL string
}

// pager links the first page and the next of the listing at base with
// the query q (whose "next" or "after" key names the page).
func pager(base string, q url.Values, key, next string, first bool) pagerLinks {
	v := url.Values{}
	for k, vs := range q {
		if k != key && k != "done" {
			v[k] = vs
		}
	}
	p := pagerLinks{First: first, FirstURL: base}
	if len(v) > 0 {
		p.FirstURL += "?" + v.Encode()
	}
	if next != "" {
		v.Set(key, next)
		p.NextURL = base + "?" + v.Encode()
	}
	return p
}

func loadViews() *views {
	layout := template.Must(template.New("layout.html").Funcs(funcs).ParseFS(templateFS, "templates/layout.html", "templates/partials.html"))
	names, err := fs.Glob(templateFS, "templates/*.html")
	if err != nil {
		panic(err)
	}
	v := &views{pages: map[string]*template.Template{}}
	for _, n := range names {
		name := strings.TrimSuffix(strings.TrimPrefix(n, "templates/"), ".html")
		if name == "layout" || name == "partials" {
			continue
		}
		v.pages[name] = template.Must(template.Must(layout.Clone()).ParseFS(templateFS, n))
	}
	return v
}

// pageData is what every page's layout reads.
type pageData struct {
	Title   string
	Nav     string // the navigation entry of the page
	CSRF    string // "" when signed out
	Flash   string
	Data    any
	Query   url.Values
	Request *http.Request
}

// render writes page name with data. The title and navigation entry come
// from data's "Title" and "Nav" when it is a map, else from the page name.
func (c *Console) render(w http.ResponseWriter, r *http.Request, s *session, status int, name string, data any) {
	t := c.view.pages[name]
	pd := pageData{Title: name, Nav: name, Data: data, Query: r.URL.Query(), Request: r, Flash: r.URL.Query().Get("done")}
	if m, ok := data.(map[string]any); ok {
		if t, ok := m["Title"].(string); ok {
			pd.Title = t
		}
		if n, ok := m["Nav"].(string); ok {
			pd.Nav = n
		}
	}
	if s != nil {
		pd.CSRF = s.csrf
	}
	var buf bytes.Buffer
	if err := t.ExecuteTemplate(&buf, "layout.html", pd); err != nil {
		c.cfg.Logger.Error("console page failed to render", "page", name, "error", err)
		http.Error(w, "the page failed to render", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	_, _ = buf.WriteTo(w)
}

// renderFragment writes one template of a page alone (the rows a live
// page refreshes).
func (c *Console) renderFragment(w http.ResponseWriter, r *http.Request, page, fragment string, data any) {
	var buf bytes.Buffer
	if err := c.view.pages[page].ExecuteTemplate(&buf, fragment, pageData{Data: data, Query: r.URL.Query(), Request: r}); err != nil {
		c.cfg.Logger.Error("console fragment failed to render", "page", page, "fragment", fragment, "error", err)
		http.Error(w, "the page failed to render", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	_, _ = buf.WriteTo(w)
}

// fail shows an error page.
func (c *Console) fail(w http.ResponseWriter, r *http.Request, s *session, status int, message string) {
	c.render(w, r, s, status, "error", map[string]any{"Title": http.StatusText(status), "Message": message})
}

// failErr shows the error page for a registry error: 404 for a resource
// that does not exist, 400 for a bad request (a stale page token), else
// 503, logged.
func (c *Console) failErr(w http.ResponseWriter, r *http.Request, s *session, err error) {
	var e *iot.Error
	switch {
	case errors.As(err, &e) && e.Code == iot.ResourceNotFound:
		c.fail(w, r, s, http.StatusNotFound, e.Message)
	case errors.As(err, &e) && e.Code != iot.InternalFailure && e.Code != iot.ServiceUnavailable:
		c.fail(w, r, s, http.StatusBadRequest, e.Message)
	default:
		c.cfg.Logger.Error("console: the registry could not answer", "path", r.URL.Path, "error", err)
		c.fail(w, r, s, http.StatusServiceUnavailable, "The registry could not answer: "+err.Error())
	}
}

func staticHandler() http.Handler {
	sub, err := fs.Sub(staticFS, "static")
	if err != nil {
		panic(err)
	}
	files := http.StripPrefix(Prefix+"static/", http.FileServerFS(sub))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasSuffix(r.URL.Path, "/") || strings.HasSuffix(r.URL.Path, "_test.mjs") {
			http.NotFound(w, r)
			return
		}
		// Embedded, so they change only with the binary.
		w.Header().Set("Cache-Control", "private, max-age=300")
		files.ServeHTTP(w, r)
	})
}

// prettyJSON indents a JSON document, or returns it as it is.
func prettyJSON(doc string) string {
	var out bytes.Buffer
	if err := json.Indent(&out, []byte(doc), "", "  "); err != nil {
		return doc
	}
	return out.String()
}

func ago(d time.Duration) string {
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
	s := strconv.Itoa(n) + " " + unit
	if n != 1 {
		s += "s"
	}
	return s
}
