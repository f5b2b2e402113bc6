package awsapi

import (
	"encoding/json"
	"strconv"
	"time"
)

// epoch is a timestamp as restJson1 sends it: a JSON number of seconds since
// the Unix epoch, with milliseconds as the fraction.
type epoch time.Time

func (t epoch) IsZero() bool { return time.Time(t).IsZero() }

func (t epoch) MarshalJSON() ([]byte, error) {
	ms := time.Time(t).UnixMilli()
	return strconv.AppendFloat(nil, float64(ms)/1000, 'f', -1, 64), nil
}

func (t *epoch) UnmarshalJSON(b []byte) error {
	var f float64
	if err := json.Unmarshal(b, &f); err != nil {
		return err
	}
	*t = epoch(time.UnixMilli(int64(f * 1000)).UTC())
	return nil
}

// obj is a JSON object for small responses.
type obj = map[string]any
