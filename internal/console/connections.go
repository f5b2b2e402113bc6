package console

import (
	"net/http"
	"net/url"
	"strings"

	"github.com/iotcore/iotcore/internal/broker"
)

// connections lists the connected devices (and IAM sessions), by client
// id, one page at a time.
func (c *Console) connections(w http.ResponseWriter, r *http.Request, s *session) {
	q := r.URL.Query()
	p := broker.ConnectionPage{Prefix: strings.TrimSpace(q.Get("prefix")), After: q.Get("after"), Limit: listPageSize}
	var rows []broker.Connection
	var more bool
	var total int
	if c.cfg.Connections != nil {
		rows, more = c.cfg.Connections.Connections(p)
		total = c.cfg.Connections.ConnectionCount()
	}
	next := ""
	if more {
		next = rows[len(rows)-1].ClientID
	}
	c.render(w, r, s, http.StatusOK, "connections", map[string]any{"Title": "Connected devices", "Rows": rows, "Next": next,
		"First": p.After == "", "Prefix": p.Prefix, "Total": total})
}

// disconnect disconnects a client id's connections; a device may reconnect.
func (c *Console) disconnect(w http.ResponseWriter, r *http.Request, s *session) {
	id := r.PostFormValue("client_id")
	if id == "" || c.cfg.Connections == nil {
		c.fail(w, r, s, http.StatusBadRequest, "Name the client id to disconnect.")
		return
	}
	n := c.cfg.Connections.Disconnect(id, "disconnected from the console")
	c.cfg.Audit.Info("control-plane change", "op", "Disconnect", "via", "console", "principal", c.cfg.Credentials.AccessKeyID,
		"clientId", id, "connections", n, "remote", r.RemoteAddr)
	msg := "Disconnected " + id + "."
	if n == 0 {
		msg = id + " was not connected."
	}
	http.Redirect(w, r, Prefix+"connections?done="+url.QueryEscape(msg), http.StatusSeeOther)
}
