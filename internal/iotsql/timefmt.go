package iotsql

import (
	"math"
	"strconv"
	"strings"
	"time"
)

// parseTime formats a Unix-millisecond timestamp with a Joda-Time pattern
// [DOC iot-sql-functions, parse_time]. The pattern letters G y M d E a H h
// m s S z Z are supported; any other letter makes the result Undefined.
func parseTime(e *env, c *callExpr) value {
	pattern, ok := stringArg(e, c.args[0])
	if !ok {
		return undef
	}
	msv, ok := toNumber(c.args[1].eval(e))
	if !ok {
		return undef
	}
	ms := msv.i
	if msv.k == kDecimal {
		if ms, ok = floatToInt(math.Floor(msv.f)); !ok {
			return undef
		}
	}
	loc := time.UTC
	if len(c.args) == 3 {
		name, ok := stringArg(e, c.args[2])
		if !ok {
			return undef
		}
		if loc, ok = location(&e.in, name); !ok {
			return undef
		}
	}
	s, ok := formatJoda(time.UnixMilli(ms).In(loc), pattern)
	if !ok {
		return undef
	}
	return strV(s)
}

// location resolves UTC, GMT, Z and fixed offsets ("+05:30", "UTC-03:00")
// itself and other names through in.LoadLocation.
func location(in *Input, name string) (*time.Location, bool) {
	n := strings.TrimPrefix(strings.TrimPrefix(name, "UTC"), "GMT")
	if n == "" || n == "Z" {
		return time.UTC, true
	}
	if n[0] == '+' || n[0] == '-' {
		h, m, found := strings.Cut(n[1:], ":")
		hh, err1 := strconv.Atoi(h)
		mm := 0
		var err2 error
		if found {
			mm, err2 = strconv.Atoi(m)
		}
		if err1 != nil || err2 != nil || hh > 18 || mm > 59 {
			return nil, false
		}
		off := hh*3600 + mm*60
		if n[0] == '-' {
			off = -off
		}
		return time.FixedZone(name, off), true
	}
	if in.LoadLocation == nil {
		return nil, false
	}
	loc, err := in.LoadLocation(name)
	return loc, err == nil && loc != nil
}

// formatJoda writes t with a Joda-Time pattern: runs of a letter are one
// field, 'quoted' text is literal and ” is a quote.
func formatJoda(t time.Time, pattern string) (string, bool) {
	var b strings.Builder
	for i := 0; i < len(pattern); {
		c := pattern[i]
		if c == '\'' {
			j := i + 1
			if j < len(pattern) && pattern[j] == '\'' {
				b.WriteByte('\'')
				i += 2
				continue
			}
			for j < len(pattern) {
				if pattern[j] == '\'' {
					if j+1 < len(pattern) && pattern[j+1] == '\'' {
						b.WriteByte('\'')
						j += 2
						continue
					}
					break
				}
				b.WriteByte(pattern[j])
				j++
			}
			i = j + 1
			continue
		}
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z') {
			b.WriteByte(c)
			i++
			continue
		}
		n := 1
		for i+n < len(pattern) && pattern[i+n] == c {
			n++
		}
		i += n
		pad := func(v int) {
			s := strconv.Itoa(v)
			b.WriteString(strings.Repeat("0", max(0, n-len(s))))
			b.WriteString(s)
		}
		switch c {
		case 'G':
			if t.Year() > 0 {
				b.WriteString("AD")
			} else {
				b.WriteString("BC")
			}
		case 'y', 'Y':
			if n == 2 {
				pad(t.Year() % 100)
			} else {
				pad(t.Year())
			}
		case 'M':
			switch {
			case n >= 4:
				b.WriteString(t.Month().String())
			case n == 3:
				b.WriteString(t.Month().String()[:3])
			default:
				pad(int(t.Month()))
			}
		case 'd':
			pad(t.Day())
		case 'D':
			pad(t.YearDay())
		case 'E':
			if n >= 4 {
				b.WriteString(t.Weekday().String())
			} else {
				b.WriteString(t.Weekday().String()[:3])
			}
		case 'a':
			if t.Hour() < 12 {
				b.WriteString("AM")
			} else {
				b.WriteString("PM")
			}
		case 'H':
			pad(t.Hour())
		case 'k':
			h := t.Hour()
			if h == 0 {
				h = 24
			}
			pad(h)
		case 'h':
			h := t.Hour() % 12
			if h == 0 {
				h = 12
			}
			pad(h)
		case 'K':
			pad(t.Hour() % 12)
		case 'm':
			pad(t.Minute())
		case 's':
			pad(t.Second())
		case 'S':
			ms := strconv.Itoa(t.Nanosecond()/1e6 + 1000)[1:] // three digits
			for len(ms) < n {
				ms += "0"
			}
			b.WriteString(ms[:n])
		case 'z':
			name, _ := t.Zone()
			b.WriteString(name)
		case 'Z':
			_, off := t.Zone()
			sign := byte('+')
			if off < 0 {
				sign, off = '-', -off
			}
			b.WriteByte(sign)
			hh, mm := strconv.Itoa(off/3600 + 100)[1:], strconv.Itoa(off%3600/60 + 100)[1:]
			b.WriteString(hh)
			if n >= 2 {
				b.WriteByte(':')
			}
			b.WriteString(mm)
		default:
			return "", false
		}
	}
	return b.String(), true
}

// timeToEpoch parses a timestamp with a java.time pattern and returns Unix
// milliseconds [DOC iot-sql-functions, time_to_epoch]. The pattern is
// translated to a Go layout; patterns with letters or literal text Go
// cannot represent make the result Undefined.
func timeToEpoch(e *env, c *callExpr) value {
	ts, ok1 := stringArg(e, c.args[0])
	pattern, ok2 := stringArg(e, c.args[1])
	if !ok1 || !ok2 {
		return undef
	}
	layout, ok := goLayout(pattern)
	if !ok {
		return undef
	}
	t, err := time.Parse(layout, ts)
	if err != nil {
		return undef
	}
	return intV(t.UnixMilli())
}

var layoutFields = map[string]string{
	"yyyy": "2006", "uuuu": "2006", "yy": "06", "MMMM": "January", "MMM": "Jan", "MM": "01", "M": "1",
	"dd": "02", "d": "2", "HH": "15", "hh": "03", "h": "3", "mm": "04", "m": "4", "ss": "05", "s": "5",
	"a": "PM", "EEEE": "Monday", "EEE": "Mon", "z": "MST", "Z": "-0700", "ZZ": "-07:00", "XXX": "Z07:00",
	"S": "0", "SS": "00", "SSS": "000", "SSSSSS": "000000", "SSSSSSSSS": "000000000",
}

func goLayout(pattern string) (string, bool) {
	var b strings.Builder
	for i := 0; i < len(pattern); {
		c := pattern[i]
		if c == '\'' {
			j := strings.IndexByte(pattern[i+1:], '\'')
			if j < 0 {
				return "", false
			}
			lit := pattern[i+1 : i+1+j]
			if strings.ContainsAny(lit, "0123456789JFMASONDjanuryebmhlgsptovcMTWTFSPZ_") {
				return "", false // Go would read it as a layout element
			}
			b.WriteString(lit)
			i += j + 2
			continue
		}
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z') {
			if c >= '0' && c <= '9' || c == '_' {
				return "", false
			}
			b.WriteByte(c)
			i++
			continue
		}
		n := 1
		for i+n < len(pattern) && pattern[i+n] == c {
			n++
		}
		f, ok := layoutFields[pattern[i:i+n]]
		if !ok {
			return "", false
		}
		b.WriteString(f)
		i += n
	}
	return b.String(), true
}
