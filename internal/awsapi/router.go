package awsapi

import (
	"net/url"
	"strings"
)

// route binds an AWS operation to its HTTP method and request URI (as in the model).
type route struct {
	Op      string
	Method  string
	Pattern string // e.g. /things/{thingName}
	handle  handlerFunc
	// Extension marks an iotcore operation that AWS does not have; its path
	// is under /iotcore/ so that it can never shadow an AWS route.
	Extension bool
	// rest makes the last label take the rest of the path, slashes
	// included, decoded once (iot-data's {topic}); it may be empty.
	rest bool
	// dataPlane marks an operation of the AWS IoT data plane (iot-data),
	// signed for DataPlaneSigningName.
	dataPlane bool

	segments []string
	literals int
}

// router matches requests to routes. Labels match one path segment, decoded
// after splitting so that an encoded ARN (with %2F) stays one label. A route
// with more literal segments wins over one with labels in their place.
type router struct {
	routes []*route
}

func newRouter(routes []route) *router {
	r := &router{}
	for i := range routes {
		rt := &routes[i]
		path, _, _ := strings.Cut(rt.Pattern, "?")
		rt.segments = strings.Split(strings.Trim(path, "/"), "/")
		for _, s := range rt.segments {
			if !strings.HasPrefix(s, "{") {
				rt.literals++
			}
		}
		r.routes = append(r.routes, rt)
	}
	return r
}

// match finds the route for method and the raw (escaped) path. It reports
// whether the path is a served route's, with another method, for a
// 405-style answer.
func (r *router) match(method, rawPath string) (*route, map[string]string, bool) {
	raw := strings.Split(strings.Trim(rawPath, "/"), "/")
	segs := make([]string, len(raw))
	for i, s := range raw {
		u, err := url.PathUnescape(s)
		if err != nil {
			segs = nil // only a rest label, decoded whole, may still match
			break
		}
		segs[i] = u
	}
	var best *route
	var bestLabels map[string]string
	pathKnown := false
	for _, rt := range r.routes {
		var labels map[string]string
		var ok bool
		switch {
		case rt.rest:
			labels, ok = rt.matchRest(rawPath)
		case segs != nil:
			labels, ok = rt.matchSegments(segs)
		}
		if !ok {
			continue
		}
		if rt.handle != nil {
			pathKnown = true // an unserved operation's path says nothing of methods
		}
		if rt.Method != method {
			continue
		}
		if best == nil || rt.literals > best.literals {
			best, bestLabels = rt, labels
		}
	}
	return best, bestLabels, pathKnown
}

func (rt *route) matchSegments(segs []string) (map[string]string, bool) {
	if len(segs) != len(rt.segments) {
		return nil, false
	}
	var labels map[string]string
	for i, p := range rt.segments {
		if strings.HasPrefix(p, "{") {
			if segs[i] == "" {
				return nil, false
			}
			if labels == nil {
				labels = map[string]string{}
			}
			labels[strings.Trim(p, "{}+")] = segs[i]
			continue
		}
		if p != segs[i] {
			return nil, false
		}
	}
	return labels, true
}

// matchRest matches a route whose last label takes the rest of the path:
// the literal segments before it, then the rest of rawPath after their
// slash, decoded once, so that a%2Fb and a/b are both the label a/b.
func (rt *route) matchRest(rawPath string) (map[string]string, bool) {
	n := len(rt.segments) - 1
	prefix := "/" + strings.Join(rt.segments[:n], "/") + "/"
	rest, ok := strings.CutPrefix(rawPath, prefix)
	if !ok {
		return nil, false
	}
	v, err := url.PathUnescape(rest)
	if err != nil {
		return nil, false
	}
	return map[string]string{strings.Trim(rt.segments[n], "{}+"): v}, true
}

// awsOperation is an operation of AWS IoT's control plane
// (awsoperations.go).
type awsOperation struct{ Op, Method, Pattern string }

// withUnserved adds to served the operations of AWS IoT that iotcore does
// not serve, without a handler: a request for one reaches it as on AWS, so
// that it is answered as an unknown operation naming it, and never reaches
// a served operation whose path merely looks the same.
func withUnserved(served []route) []route {
	have := map[string]bool{}
	for _, rt := range served {
		have[rt.Op] = true
	}
	out := served
	for _, op := range awsOperations {
		if !have[op.Op] {
			out = append(out, route{Op: op.Op, Method: op.Method, Pattern: op.Pattern})
		}
	}
	return out
}
