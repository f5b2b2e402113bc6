package awsapi

import (
	"fmt"

	"github.com/iotcore/iotcore/internal/iot"
	"github.com/iotcore/iotcore/internal/registry"
)

// pagination is one of AWS's two families of paging parameters: the page
// size and the token asked for, in the query, and the member of the answer
// that carries the next page's token.
type pagination struct{ size, token, next string }

var (
	// markers: pageSize and marker in, nextMarker out (the older
	// operations: certificates, CA certificates, policies).
	markers = pagination{size: "pageSize", token: "marker", next: "nextMarker"}
	// tokens: maxResults and nextToken in, nextToken out.
	tokens = pagination{size: "maxResults", token: "nextToken", next: "nextToken"}
)

// listing answers a List operation: it reads the page the client asks for
// (parameters of family p), lists it with list, and answers each row as
// render makes it under member (an empty list, never null), with the next
// page's token when there is one. Every List handler is one call of it.
func listing[T, V any](r *request, p pagination, member string, list func(registry.PageRequest) ([]T, string, error), render func(T) V) (any, error) {
	n, err := r.pageSize(p.size)
	if err != nil {
		return nil, err
	}
	rows, next, err := list(registry.PageRequest{Token: r.query(p.token), Size: n})
	if err != nil {
		return nil, err
	}
	out := make([]V, 0, len(rows))
	for _, row := range rows {
		out = append(out, render(row))
	}
	return withNext(obj{member: out}, p.next, next), nil
}

// same renders a row as itself.
func same[T any](v T) T { return v }

func withNext(o obj, key, next string) obj {
	if next != "" {
		o[key] = next
	}
	return o
}

// pageSize reads a page-size query parameter; 0 when it is absent. The model
// bounds every one iotcore serves to 1..250 (TestPageSizesMatchModel), and
// AWS refuses a value outside with its validation message: maxResults=0 is
// refused, not read as "the default".
func (r *request) pageSize(name string) (int, error) {
	return r.pageSizeUpTo(name, registry.MaxPageSize)
}

// pageSizeUpTo reads a page-size query parameter that the model bounds to
// 1..most; 0 when it is absent.
func (r *request) pageSizeUpTo(name string, most int) (int, error) {
	n, ok, err := r.queryInt(name)
	if err != nil || !ok {
		return 0, err
	}
	const format = "1 validation error detected: Value '%d' at '%s' failed to satisfy constraint: Member must have value %s"
	switch {
	case n < minPageSize:
		return 0, iot.Errorf(iot.InvalidRequest, format, n, name, fmt.Sprintf("greater than or equal to %d", minPageSize))
	case n > int64(most):
		return 0, iot.Errorf(iot.InvalidRequest, format, n, name, fmt.Sprintf("less than or equal to %d", most))
	}
	return int(n), nil
}

// minPageSize is the model's minimum for every maxResults and pageSize.
const minPageSize = 1
