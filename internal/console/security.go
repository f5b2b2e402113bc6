package console

import (
	"crypto/subtle"
	"net/http"
	"net/url"
	"regexp"
)

// setSecurityHeaders sets the headers of every console response: a
// Content-Security-Policy that allows the console's own scripts, styles
// and WebSocket only (no inline script or style, no framing, forms posting
// only to the console), no MIME sniffing, no referrer, no caching.
func setSecurityHeaders(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	connect := "'self'"
	if plainHost.MatchString(r.Host) { // nothing that could end the directive
		connect += " ws://" + r.Host + " wss://" + r.Host
	}
	h.Set("Content-Security-Policy", "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; "+
		"connect-src "+connect+"; form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
	h.Set("X-Frame-Options", "DENY")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("Cross-Origin-Opener-Policy", "same-origin")
	h.Set("Cache-Control", "no-store")
	if r.TLS != nil {
		h.Set("Strict-Transport-Security", "max-age=31536000")
	}
}

// sameOrigin reports whether a state-changing request came from a page of
// this origin: the browser's Sec-Fetch-Site says so, or, from browsers that
// do not send it, the Origin header names this host. A request with
// neither (not a browser) passes: it still needs the session cookie and
// the CSRF token, which a cross-site page cannot read.
func sameOrigin(r *http.Request) bool {
	if site := r.Header.Get("Sec-Fetch-Site"); site != "" {
		return site == "same-origin" || site == "none"
	}
	if origin := r.Header.Get("Origin"); origin != "" {
		u, err := url.Parse(origin)
		return err == nil && u.Host == r.Host
	}
	return true
}

// validCSRF checks a state-changing request: same origin, and the session's
// token in the form field csrf_token or the X-CSRF-Token header.
func validCSRF(r *http.Request, s *session) bool {
	if !sameOrigin(r) {
		return false
	}
	token := r.Header.Get("X-CSRF-Token")
	if token == "" {
		token = r.PostFormValue("csrf_token")
	}
	return token != "" && subtle.ConstantTimeCompare([]byte(token), []byte(s.csrf)) == 1
}

// plainHost matches a Host header safe to write into the CSP.
var plainHost = regexp.MustCompile(`^[A-Za-z0-9.\-]+(:[0-9]+)?$|^\[[0-9A-Fa-f:.]+\](:[0-9]+)?$`)

func urlQueryEscape(s string) string { return url.QueryEscape(s) }
