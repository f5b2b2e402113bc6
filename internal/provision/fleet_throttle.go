package provision

import (
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// AWS throttles the fleet-provisioning operations account-wide. Its current
// figures for the MQTT API are not published; these are the control-plane
// operations' rates from AWS's older throttling table (reference 9), which
// the MQTT API is documented to consume: RegisterThing 10/s,
// CreateCertificateFromCsr 15/s, CreateKeysAndCertificate 10/s. The reading
// is listed in docs/aws-differences.md.
const (
	DefaultCreateKeysAndCertificateRate = 10
	DefaultCreateCertificateFromCsrRate = 15
	DefaultRegisterThingRate            = 10
)

// FleetRates are the requests per second the whole server serves of each
// fleet-provisioning operation, whichever devices ask; more are rejected
// with statusCode 429, errorCode Throttling, as AWS rejects them. 0 means
// AWS's rate (the Default...Rate constants), a negative value no limit. A
// second's worth may come at once.
type FleetRates struct {
	CreateKeysAndCertificate int
	CreateCertificateFromCsr int
	RegisterThing            int
}

// UnlimitedFleetRates lifts every limit, as benchmarks and tests that
// provision many devices at once want.
var UnlimitedFleetRates = FleetRates{CreateKeysAndCertificate: -1, CreateCertificateFromCsr: -1, RegisterThing: -1}

// fleetThrottle holds one token bucket per operation.
type fleetThrottle struct {
	once     sync.Once
	limiters map[fleetOp]*rate.Limiter // nil entry: no limit
}

// allow takes a token of op's bucket at now.
func (t *fleetThrottle) allow(rates FleetRates, op fleetOp, now time.Time) bool {
	t.once.Do(func() {
		t.limiters = map[fleetOp]*rate.Limiter{
			opCreateKeysAndCertificate: newOpLimiter(rates.CreateKeysAndCertificate, DefaultCreateKeysAndCertificateRate),
			opCreateCertificateFromCsr: newOpLimiter(rates.CreateCertificateFromCsr, DefaultCreateCertificateFromCsrRate),
			opRegisterThing:            newOpLimiter(rates.RegisterThing, DefaultRegisterThingRate),
		}
	})
	l := t.limiters[op]
	return l == nil || l.AllowN(now, 1)
}

func newOpLimiter(perSecond, def int) *rate.Limiter {
	switch {
	case perSecond < 0:
		return nil
	case perSecond == 0:
		perSecond = def
	}
	return rate.NewLimiter(rate.Limit(perSecond), perSecond)
}
