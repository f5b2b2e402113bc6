package console

import (
	"net/http"

	"github.com/iotcore/iotcore/internal/registry"
)

// listPageSize is how many rows a listing page shows.
const listPageSize = 50

// pageRequest is the registry page a listing's ?next= names.
func pageRequest(r *http.Request) registry.PageRequest {
	return registry.PageRequest{Token: r.URL.Query().Get("next"), Size: listPageSize}
}

// listing is one page of a listing and the token of the next.
type listing[T any] struct {
	Rows  []T
	Next  string // "" on the last page
	First bool   // this is the first page
}

func newListing[T any](r *http.Request, rows []T, next string) listing[T] {
	return listing[T]{Rows: rows, Next: next, First: r.URL.Query().Get("next") == ""}
}
