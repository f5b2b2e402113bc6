package awsapi

import (
	"io"
	"net/http"

	"github.com/iotcore/iotcore/internal/iot"
)

func (s *Server) maxBodyBytes() int64 {
	if s.MaxBodyBytes > 0 {
		return s.MaxBodyBytes
	}
	return DefaultMaxBodyBytes
}

func (s *Server) maxBodyBytesInFlight() int64 {
	if s.MaxBodyBytesInFlight > 0 {
		return s.MaxBodyBytesInFlight
	}
	return DefaultMaxBodyBytesInFlight
}

// readBody reads hr's body, at most MaxBodyBytes, holding its size in the
// MaxBodyBytesInFlight budget; release gives the bytes back, once the answer
// is written. A body announced larger than MaxBodyBytes is refused unread;
// one that does not fit the budget is refused unread with
// ServiceUnavailableException, which SDKs retry.
func (s *Server) readBody(hr *http.Request) (body []byte, release func(), err error) {
	limit := s.maxBodyBytes()
	n := hr.ContentLength
	switch {
	case n == 0:
		return nil, func() {}, nil
	case n > limit:
		return nil, nil, iot.Errorf(iot.InvalidRequest, "the request body is larger than %d bytes", limit)
	case n < 0:
		n = limit // chunked: it may be as large as allowed
	}
	if !s.bodies.TryAcquire(n) {
		return nil, nil, iot.Errorf(iot.ServiceUnavailable,
			"iotcore is reading too many request bodies at once; retry the request")
	}
	release = func() { s.bodies.Release(n) }
	if hr.ContentLength > 0 {
		body = make([]byte, hr.ContentLength)
		_, err = io.ReadFull(hr.Body, body)
	} else {
		body, err = io.ReadAll(io.LimitReader(hr.Body, limit+1))
		if err == nil && int64(len(body)) > limit {
			release()
			return nil, nil, iot.Errorf(iot.InvalidRequest, "the request body is larger than %d bytes", limit)
		}
	}
	if err != nil {
		release()
		return nil, nil, iot.Errorf(iot.InvalidRequest, "reading the request body: %v", err)
	}
	return body, release, nil
}
