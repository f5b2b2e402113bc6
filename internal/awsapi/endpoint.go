package awsapi

import "github.com/iotcore/iotcore/internal/iot"

// describeEndpoint returns the configured host name for every endpoint type:
// one iotcore server is the data, credentials and jobs endpoint at once.
func describeEndpoint(s *Server, r *request) (any, error) {
	switch t := r.query("endpointType"); t {
	case "", "iot:Data", "iot:Data-ATS", "iot:CredentialProvider", "iot:Jobs":
		return obj{"endpointAddress": s.Endpoint}, nil
	default:
		return nil, iot.Errorf(iot.InvalidRequest, "endpointType %q is not one of iot:Data, iot:Data-ATS, iot:CredentialProvider, iot:Jobs", t)
	}
}
