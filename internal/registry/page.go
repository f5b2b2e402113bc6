package registry

import (
	"context"
	"encoding/base64"

	"github.com/iotcore/iotcore/internal/iot"
)

// Paging defaults and limits from the AWS IoT model.
const (
	DefaultPageSize = 25
	MaxPageSize     = 250
)

// PageRequest is a client's request for one page: the opaque token (AWS's
// marker or nextToken) and the page size (pageSize or maxResults; 0 = default).
type PageRequest struct {
	Token string
	Size  int
}

func (r PageRequest) page() (Page, error) {
	size := r.Size
	switch {
	case size == 0:
		size = DefaultPageSize
	case size < 1 || size > MaxPageSize:
		return Page{}, iot.Errorf(iot.InvalidRequest, "page size must be between 1 and %d, got %d", MaxPageSize, size)
	}
	p := Page{Limit: size + 1} // one more, to learn whether another page follows
	if r.Token != "" {
		key, err := base64.StdEncoding.DecodeString(r.Token)
		if err != nil || len(key) == 0 {
			return Page{}, iot.Errorf(iot.InvalidRequest, "the pagination token %q is not valid", r.Token)
		}
		p.After = string(key)
	}
	return p, nil
}

// trim cuts the extra row fetched by PageRequest.page and returns the token of
// the next page, or "" when this is the last one.
func trim[T any](rows []T, p Page, key func(T) string) ([]T, string) {
	if len(rows) < p.Limit {
		return rows, ""
	}
	rows = rows[:p.Limit-1]
	return rows, base64.StdEncoding.EncodeToString([]byte(key(rows[len(rows)-1])))
}

func ident(s string) string { return s }

// listPage answers one page of a listing: it checks the client's page
// request, runs read in one snapshot for the page it names (read returns, as
// the store's List methods do, at most one row past the page), and turns
// that extra row into the next page's token. Every List method of the
// Service is one call of it.
func listPage[T any](ctx context.Context, s *Service, pr PageRequest, key func(T) string, read func(tx Tx, p Page) ([]T, error)) ([]T, string, error) {
	p, err := pr.page()
	if err != nil {
		return nil, "", err
	}
	var rows []T
	err = s.view(ctx, func(tx Tx) error {
		rows, err = read(tx, p)
		return err
	})
	if err != nil {
		return nil, "", err
	}
	rows, next := trim(rows, p, key)
	return rows, next, nil
}
