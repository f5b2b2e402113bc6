package shadows

import (
	"context"
	"errors"

	"github.com/iotcore/iotcore/internal/iot"
	"github.com/iotcore/iotcore/internal/registry"
	"github.com/iotcore/iotcore/internal/shadow"
)

// The operations, shared by MQTT and the REST API. Each returns the
// accepted payload, or an error: a *shadow.Error for a rejection, another
// for the registry failing.

func (s *Service) load(ctx context.Context, req shadow.Request) (*shadow.Shadow, error) {
	st, err := s.cfg.Registry.Shadow(ctx, req.Thing, req.Name)
	if err != nil || st == nil {
		return nil, err
	}
	return shadow.Parse(st.Document)
}

func (s *Service) get(ctx context.Context, req shadow.Request, payload []byte) ([]byte, error) {
	cur, err := s.load(ctx, req)
	if err != nil {
		return nil, err
	}
	doc, serr := shadow.Get(req, cur, payload, s.cfg.Now())
	if serr != nil {
		return nil, serr
	}
	return doc, nil
}

func (s *Service) update(ctx context.Context, req shadow.Request, payload []byte) (*shadow.UpdateResult, error) {
	var res *shadow.UpdateResult
	var rejected *shadow.Error
	err := s.cfg.Registry.ChangeShadow(ctx, req.Thing, req.Name, func(st *registry.StoredShadow) (*registry.StoredShadow, bool, error) {
		res, rejected = nil, nil
		var cur *shadow.Shadow
		if st != nil {
			var err error
			if cur, err = shadow.Parse(st.Document); err != nil {
				return nil, false, err
			}
		}
		r, serr := shadow.Update(cur, payload, s.cfg.Now())
		if serr != nil {
			rejected = serr
			return nil, false, nil // nothing written
		}
		res = r
		return &registry.StoredShadow{Document: r.Shadow.Marshal(), Version: r.Shadow.Version()}, false, nil
	})
	switch {
	case err != nil:
		return nil, err
	case rejected != nil:
		return nil, rejected
	}
	return res, nil
}

func (s *Service) delete(ctx context.Context, req shadow.Request, payload []byte) ([]byte, error) {
	var doc []byte
	var rejected *shadow.Error
	err := s.cfg.Registry.ChangeShadow(ctx, req.Thing, req.Name, func(st *registry.StoredShadow) (*registry.StoredShadow, bool, error) {
		doc, rejected = nil, nil
		var cur *shadow.Shadow
		if st != nil {
			var err error
			if cur, err = shadow.Parse(st.Document); err != nil {
				return nil, false, err
			}
		}
		d, serr := shadow.Delete(req, cur, payload, s.cfg.Now())
		if serr != nil {
			rejected = serr
			return nil, false, nil
		}
		doc = d
		return nil, true, nil
	})
	switch {
	case err != nil:
		return nil, err
	case rejected != nil:
		return nil, rejected
	}
	return doc, nil
}

// request names a shadow for the REST API, checking the names as the MQTT
// topics' are.
func request(thing, name string, op shadow.Op) (shadow.Request, error) {
	if err := shadow.CheckThingName(thing); err != nil {
		return shadow.Request{}, iot.Errorf(iot.InvalidRequest, "%v", err)
	}
	if name != "" {
		if err := shadow.CheckShadowName(name); err != nil {
			return shadow.Request{}, iot.Errorf(iot.InvalidRequest, "%v", err)
		}
	}
	return shadow.Request{Thing: thing, Name: name, Op: op}, nil
}

// GetThingShadow is iot-data GetThingShadow.
func (s *Service) GetThingShadow(ctx context.Context, thing, name string) ([]byte, error) {
	req, err := request(thing, name, shadow.OpGet)
	if err != nil {
		return nil, err
	}
	doc, err := s.get(ctx, req, nil)
	return doc, restError(err)
}

// UpdateThingShadow is iot-data UpdateThingShadow: it publishes what an
// MQTT update does, too.
func (s *Service) UpdateThingShadow(ctx context.Context, thing, name string, payload []byte) ([]byte, error) {
	req, err := request(thing, name, shadow.OpUpdate)
	if err != nil {
		return nil, err
	}
	res, err := s.update(ctx, req, payload)
	if err != nil {
		return nil, restError(err)
	}
	s.published(req, res)
	return res.Accepted, nil
}

// DeleteThingShadow is iot-data DeleteThingShadow: it publishes
// delete/accepted, as an MQTT delete does.
func (s *Service) DeleteThingShadow(ctx context.Context, thing, name string) ([]byte, error) {
	req, err := request(thing, name, shadow.OpDelete)
	if err != nil {
		return nil, err
	}
	doc, err := s.delete(ctx, req, nil)
	if err != nil {
		return nil, restError(err)
	}
	s.publish(req.Topic("delete/accepted"), doc)
	return doc, nil
}

// ListNamedShadows is iot-data ListNamedShadowsForThing.
func (s *Service) ListNamedShadows(ctx context.Context, thing, token string, size int) ([]string, string, error) {
	if err := shadow.CheckThingName(thing); err != nil {
		return nil, "", iot.Errorf(iot.InvalidRequest, "%v", err)
	}
	return s.cfg.Registry.ListNamedShadows(ctx, thing, registry.PageRequest{Token: token, Size: size})
}

// restCodes are the data plane's exceptions of the shadow service's codes.
var restCodes = map[int]string{
	400: iot.InvalidRequest, 401: iot.Unauthorized, 403: "ForbiddenException", 404: iot.ResourceNotFound,
	409: "ConflictException", 413: "RequestEntityTooLargeException", 415: "UnsupportedDocumentEncodingException",
	429: iot.Throttling, 500: iot.InternalFailure,
}

// restError is a rejection as the REST API answers it: the exception of
// its code, with the data plane's status and the same message.
func restError(err error) error {
	var se *shadow.Error
	if !errors.As(err, &se) {
		return err
	}
	code, ok := restCodes[se.Code]
	if !ok {
		code = iot.InternalFailure
	}
	return &iot.Error{Code: code, Message: se.Message, HTTPStatus: se.Code}
}
