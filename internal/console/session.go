package console

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/binary"
	"net/http"
	"strings"
	"sync"
	"time"
)

// Session and link lifetimes.
const (
	// SessionLifetime is how long a sign-in lasts.
	SessionLifetime = 12 * time.Hour
	// LinkLifetime is how long a one-time sign-in link stays valid (once).
	LinkLifetime = time.Hour
	cookieName   = "iotcore_console"
)

// session is a signed-in browser.
type session struct {
	id      string
	csrf    string // the token every state-changing request carries
	expires time.Time
}

func randomToken() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// newSession signs the browser in: a fresh session id in an HttpOnly,
// SameSite=Strict cookie scoped to the console, Secure over TLS.
func (c *Console) newSession(w http.ResponseWriter, r *http.Request) {
	now := c.cfg.Now()
	s := &session{id: randomToken(), csrf: randomToken(), expires: now.Add(SessionLifetime)}
	c.mu.Lock()
	for id, old := range c.sessions {
		if now.After(old.expires) {
			delete(c.sessions, id)
		}
	}
	c.sessions[s.id] = s
	c.mu.Unlock()
	http.SetCookie(w, &http.Cookie{Name: cookieName, Value: s.id, Path: Prefix, Expires: s.expires,
		HttpOnly: true, Secure: r.TLS != nil, SameSite: http.SameSiteStrictMode})
}

// session returns the request's live session, or nil.
func (c *Console) session(r *http.Request) *session {
	ck, err := r.Cookie(cookieName)
	if err != nil {
		return nil
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	s := c.sessions[ck.Value]
	if s == nil || c.cfg.Now().After(s.expires) {
		delete(c.sessions, ck.Value)
		return nil
	}
	return s
}

// authenticated serves h to a signed-in browser; a page request without a
// session goes to the sign-in page, anything else gets 401. A POST must
// come from the console's own pages (sameOrigin) and carry the session's
// CSRF token.
func (c *Console) authenticated(h func(http.ResponseWriter, *http.Request, *session)) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s := c.session(r)
		if s == nil {
			if r.Method == http.MethodGet && !strings.HasPrefix(r.URL.Path, Prefix+"api/") {
				http.Redirect(w, r, Prefix+"signin?next="+urlQueryEscape(r.URL.RequestURI()), http.StatusSeeOther)
				return
			}
			http.Error(w, "sign in first", http.StatusUnauthorized)
			return
		}
		if r.Method != http.MethodGet && !validCSRF(r, s) {
			c.cfg.Logger.Warn("console request refused: cross-site or without its CSRF token", "path", r.URL.Path, "remote", r.RemoteAddr)
			http.Error(w, "this request did not come from the console's own page", http.StatusForbidden)
			return
		}
		h(w, r, s)
	})
}

// signinPage shows the sign-in form.
func (c *Console) signinPage(w http.ResponseWriter, r *http.Request) {
	c.render(w, r, nil, http.StatusOK, "signin", map[string]any{"Next": safeNext(r.URL.Query().Get("next"))})
}

// signin checks the admin access key id and secret.
func (c *Console) signin(w http.ResponseWriter, r *http.Request) {
	if !sameOrigin(r) {
		http.Error(w, "this request did not come from the console's own page", http.StatusForbidden)
		return
	}
	next := safeNext(r.PostFormValue("next"))
	if !c.signins.allow(c.cfg.Now()) {
		c.render(w, r, nil, http.StatusTooManyRequests, "signin", map[string]any{"Next": next, "Error": "Too many failed sign-ins: wait a minute."})
		return
	}
	id, secret := strings.TrimSpace(r.PostFormValue("access_key_id")), strings.TrimSpace(r.PostFormValue("secret_access_key"))
	want := c.cfg.Credentials
	okID := subtle.ConstantTimeCompare([]byte(id), []byte(want.AccessKeyID)) == 1
	okSecret := subtle.ConstantTimeCompare([]byte(secret), []byte(want.SecretAccessKey)) == 1
	if !okID || !okSecret || want.AccessKeyID == "" {
		c.signins.failed(c.cfg.Now())
		c.cfg.Logger.Warn("console sign-in refused", "access_key_id", id, "remote", r.RemoteAddr)
		c.render(w, r, nil, http.StatusUnauthorized, "signin", map[string]any{"Next": next,
			"Error": "That access key id and secret are not the admin credentials (the data directory's credentials file)."})
		return
	}
	c.newSession(w, r)
	c.cfg.Audit.Info("console sign-in", "principal", id, "remote", r.RemoteAddr)
	http.Redirect(w, r, next, http.StatusSeeOther)
}

// signout ends the session.
func (c *Console) signout(w http.ResponseWriter, r *http.Request, s *session) {
	c.mu.Lock()
	delete(c.sessions, s.id)
	c.mu.Unlock()
	http.SetCookie(w, &http.Cookie{Name: cookieName, Value: "", Path: Prefix, MaxAge: -1, HttpOnly: true, Secure: r.TLS != nil, SameSite: http.SameSiteStrictMode})
	http.Redirect(w, r, Prefix+"signin", http.StatusSeeOther)
}

// safeNext keeps a redirect after sign-in within the console.
func safeNext(next string) string {
	if !strings.HasPrefix(next, Prefix) || strings.HasPrefix(next, "//") || strings.ContainsAny(next, "\\\r\n") {
		return Prefix
	}
	return next
}

// signinLimiter slows password guessing: after 10 failed sign-ins in a
// minute, sign-ins are refused until the minute is over.
type signinLimiter struct {
	mu       sync.Mutex
	window   time.Time
	failures int
}

const maxFailedSigninsPerMinute = 10

func (l *signinLimiter) allow(now time.Time) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	if now.Sub(l.window) > time.Minute {
		l.window, l.failures = now, 0
	}
	return l.failures < maxFailedSigninsPerMinute
}

func (l *signinLimiter) failed(now time.Time) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if now.Sub(l.window) > time.Minute {
		l.window, l.failures = now, 0
	}
	l.failures++
}

// One-time sign-in links: /console/link?token=<payload>.<mac>, where the
// payload is a random nonce and an expiry, and the MAC is an HMAC-SHA256
// under a key derived from the admin secret. Anyone with the credentials
// file can mint one (serve prints one at start); the server remembers the
// nonces used until they expire, so each link signs in once.

func linkKey(secret string) []byte {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte("iotcore console sign-in link v1"))
	return m.Sum(nil)
}

// SignInLink returns a one-time sign-in link to the console at apiURL (the
// API's base URL), valid for LinkLifetime from now.
func SignInLink(apiURL string, creds Credentials, now time.Time) string {
	payload := make([]byte, 16+8)
	_, _ = rand.Read(payload[:16])
	binary.BigEndian.PutUint64(payload[16:], uint64(now.Add(LinkLifetime).Unix()))
	m := hmac.New(sha256.New, linkKey(creds.SecretAccessKey))
	m.Write(payload)
	token := base64.RawURLEncoding.EncodeToString(payload) + "." + base64.RawURLEncoding.EncodeToString(m.Sum(nil))
	return strings.TrimSuffix(apiURL, "/") + Prefix + "link?token=" + token
}

// checkLink verifies a link's token and uses it up.
func (c *Console) checkLink(token string) bool {
	p, macText, ok := strings.Cut(token, ".")
	payload, err1 := base64.RawURLEncoding.DecodeString(p)
	mac, err2 := base64.RawURLEncoding.DecodeString(macText)
	if !ok || err1 != nil || err2 != nil || len(payload) != 24 || c.cfg.Credentials.SecretAccessKey == "" {
		return false
	}
	m := hmac.New(sha256.New, linkKey(c.cfg.Credentials.SecretAccessKey))
	m.Write(payload)
	if !hmac.Equal(mac, m.Sum(nil)) {
		return false
	}
	now := c.cfg.Now()
	expires := time.Unix(int64(binary.BigEndian.Uint64(payload[16:])), 0)
	if now.After(expires) || expires.Sub(now) > LinkLifetime+time.Minute {
		return false
	}
	nonce := string(payload[:16])
	c.mu.Lock()
	defer c.mu.Unlock()
	for n, exp := range c.used {
		if now.After(exp) {
			delete(c.used, n)
		}
	}
	if _, used := c.used[nonce]; used {
		return false
	}
	c.used[nonce] = expires
	return true
}

// signinWithLink signs in with a one-time link.
func (c *Console) signinWithLink(w http.ResponseWriter, r *http.Request) {
	if !c.checkLink(r.URL.Query().Get("token")) {
		c.cfg.Logger.Warn("console sign-in link refused: unknown, expired or already used", "remote", r.RemoteAddr)
		c.render(w, r, nil, http.StatusUnauthorized, "signin", map[string]any{"Next": Prefix,
			"Error": "That sign-in link is not valid: links work once, for an hour. Sign in with the access key instead."})
		return
	}
	c.newSession(w, r)
	c.cfg.Audit.Info("console sign-in", "principal", "one-time link", "remote", r.RemoteAddr)
	http.Redirect(w, r, Prefix, http.StatusSeeOther)
}
