package policy

import (
	"strings"
	"testing"
)

// conditionCases pin the IAM semantics of each operator; req nil means the
// key is absent from the request.
var conditionCases = []struct {
	name   string
	op     string
	values []string
	req    []string
	want   bool
}{
	{"StringEquals match", "StringEquals", []string{"a", "b"}, []string{"b"}, true},
	{"StringEquals case", "StringEquals", []string{"a"}, []string{"A"}, false},
	{"StringEquals absent", "StringEquals", []string{"a"}, nil, false},
	{"StringEquals star literal", "StringEquals", []string{"a*"}, []string{"abc"}, false},
	{"StringEquals multi-valued key any", "StringEquals", []string{"a"}, []string{"x", "a"}, true},
	{"StringNotEquals match", "StringNotEquals", []string{"a", "b"}, []string{"c"}, true},
	{"StringNotEquals listed", "StringNotEquals", []string{"a", "b"}, []string{"b"}, false},
	{"StringNotEquals absent is true", "StringNotEquals", []string{"a"}, nil, true},
	{"StringNotEquals multi-valued key none listed", "StringNotEquals", []string{"a"}, []string{"x", "y"}, true},
	{"StringNotEquals multi-valued key one listed", "StringNotEquals", []string{"a"}, []string{"x", "a"}, false},
	{"StringEqualsIgnoreCase", "StringEqualsIgnoreCase", []string{"Sensor"}, []string{"SENSOR"}, true},
	{"StringNotEqualsIgnoreCase", "StringNotEqualsIgnoreCase", []string{"Sensor"}, []string{"sensor"}, false},
	{"StringLike", "StringLike", []string{"dev-*", "x?"}, []string{"dev-1/2"}, true},
	{"StringLike question", "StringLike", []string{"x?"}, []string{"xy"}, true},
	{"StringLike mismatch", "StringLike", []string{"dev-*"}, []string{"prod-1"}, false},
	{"StringLike escaped star", "StringLike", []string{"a${*}"}, []string{"ab"}, false},
	{"StringLike escaped star literal", "StringLike", []string{"a${*}"}, []string{"a*"}, true},
	{"StringNotLike", "StringNotLike", []string{"dev-*"}, []string{"prod-1"}, true},
	{"StringNotLike absent", "StringNotLike", []string{"dev-*"}, nil, true},
	{"IfExists absent", "StringEqualsIfExists", []string{"a"}, nil, true},
	{"IfExists present", "StringEqualsIfExists", []string{"a"}, []string{"b"}, false},
	{"ForAllValues all listed", "ForAllValues:StringEquals", []string{"PersistentConnect", "LastWill"}, []string{"LastWill", "PersistentConnect"}, true},
	{"ForAllValues one unlisted", "ForAllValues:StringEquals", []string{"PersistentConnect"}, []string{"LastWill", "PersistentConnect"}, false},
	{"ForAllValues absent", "ForAllValues:StringEquals", []string{"a"}, nil, true},
	{"ForAllValues empty list", "ForAllValues:StringEquals", []string{"a"}, []string{}, true},
	{"ForAllValues StringNotEquals", "ForAllValues:StringNotEquals", []string{"LastWill"}, []string{"CleanSession", "PersistentConnect"}, true},
	{"ForAllValues StringNotEquals listed", "ForAllValues:StringNotEquals", []string{"LastWill"}, []string{"LastWill", "PersistentConnect"}, false},
	{"ForAnyValue one listed", "ForAnyValue:StringEquals", []string{"LastWill"}, []string{"LastWill", "PersistentConnect"}, true},
	{"ForAnyValue none listed", "ForAnyValue:StringEquals", []string{"LastWill"}, []string{"PersistentConnect"}, false},
	{"ForAnyValue absent", "ForAnyValue:StringEquals", []string{"a"}, nil, false},
	{"ForAnyValue StringNotEquals", "ForAnyValue:StringNotEquals", []string{"a"}, []string{"a", "b"}, true},
	{"ForAnyValue StringLike", "ForAnyValue:StringLike", []string{"U?"}, []string{"DE", "US"}, true},
	{"ForAnyValue IfExists absent is false", "ForAnyValue:StringEqualsIfExists", []string{"a"}, nil, false},
	{"Bool true", "Bool", []string{"true"}, []string{"true"}, true},
	{"Bool case", "Bool", []string{"true"}, []string{"TRUE"}, true},
	{"Bool false", "Bool", []string{"true"}, []string{"false"}, false},
	{"Bool not a bool", "Bool", []string{"true"}, []string{"yes"}, false},
	{"Bool absent", "Bool", []string{"false"}, nil, false},
	{"NumericEquals", "NumericEquals", []string{"3"}, []string{"3.0"}, true},
	{"NumericNotEquals", "NumericNotEquals", []string{"3"}, []string{"4"}, true},
	{"NumericNotEquals same", "NumericNotEquals", []string{"3"}, []string{"3"}, false},
	{"NumericNotEquals not a number", "NumericNotEquals", []string{"3"}, []string{"x"}, false},
	{"NumericLessThan", "NumericLessThan", []string{"3"}, []string{"2.5"}, true},
	{"NumericLessThan equal", "NumericLessThan", []string{"3"}, []string{"3"}, false},
	{"NumericLessThanEquals", "NumericLessThanEquals", []string{"3"}, []string{"3"}, true},
	{"NumericGreaterThan", "NumericGreaterThan", []string{"3"}, []string{"10"}, true},
	{"NumericGreaterThanEquals", "NumericGreaterThanEquals", []string{"3"}, []string{"2"}, false},
	{"NumericLessThan not a number", "NumericLessThan", []string{"3"}, []string{"two"}, false},
	{"IpAddress in CIDR", "IpAddress", []string{"10.0.0.0/8"}, []string{"10.20.30.40"}, true},
	{"IpAddress outside", "IpAddress", []string{"10.0.0.0/8"}, []string{"11.0.0.1"}, false},
	{"IpAddress single", "IpAddress", []string{"192.168.1.1"}, []string{"192.168.1.1"}, true},
	{"IpAddress unmasked CIDR", "IpAddress", []string{"10.1.2.3/8"}, []string{"10.9.9.9"}, true},
	{"IpAddress v6", "IpAddress", []string{"2001:db8::/32"}, []string{"2001:db8::1"}, true},
	{"IpAddress v4-mapped request", "IpAddress", []string{"10.0.0.0/8"}, []string{"::ffff:10.0.0.1"}, true},
	{"IpAddress v4-mapped policy", "IpAddress", []string{"::ffff:10.0.0.0/104"}, []string{"10.0.0.1"}, true},
	{"IpAddress not an address", "IpAddress", []string{"10.0.0.0/8"}, []string{"host"}, false},
	{"NotIpAddress", "NotIpAddress", []string{"10.0.0.0/8"}, []string{"11.0.0.1"}, true},
	{"NotIpAddress inside", "NotIpAddress", []string{"10.0.0.0/8"}, []string{"10.0.0.1"}, false},
	{"NotIpAddress absent", "NotIpAddress", []string{"10.0.0.0/8"}, nil, true},
	{"Null true absent", "Null", []string{"true"}, nil, true},
	{"Null true present", "Null", []string{"true"}, []string{"x"}, false},
	{"Null false present", "Null", []string{"false"}, []string{"x"}, true},
	{"Null false absent", "Null", []string{"false"}, nil, false},
	{"Null empty list is absent", "Null", []string{"true"}, []string{}, true},
}

func TestConditionEval(t *testing.T) {
	for _, tc := range conditionCases {
		t.Run(tc.name, func(t *testing.T) {
			c := Condition{Operator: tc.op, Key: "k", Values: tc.values}
			cc, ok := compileCondition(c, nil, true)
			if !ok {
				t.Fatalf("compileCondition(%+v) failed", c)
			}
			if got := cc.eval(tc.req, tc.req != nil); got != tc.want {
				t.Errorf("%s %q against %q = %v, want %v", tc.op, tc.values, tc.req, got, tc.want)
			}
		})
	}
}

func TestParseOperator(t *testing.T) {
	tests := []struct {
		name    string
		want    operator
		wantErr string
	}{
		{"StringEquals", operator{kind: opStringEquals}, ""},
		{"StringNotLikeIfExists", operator{kind: opStringLike, negated: true, ifExists: true}, ""},
		{"ForAllValues:NumericLessThan", operator{kind: opNumericLessThan, set: setForAll}, ""},
		{"ForAnyValue:IpAddressIfExists", operator{kind: opIPAddress, set: setForAny, ifExists: true}, ""},
		{"Null", operator{kind: opNull}, ""},
		{"IfExists", operator{}, `condition operator "IfExists" is not supported`},
		{"NullIfExists", operator{}, "Null takes neither"},
		{"ForAnyValue:Null", operator{}, "Null takes neither"},
		{"ArnLike", operator{}, "not supported by iotcore"},
		{"BinaryEquals", operator{}, "not supported by iotcore"},
		{"numericequals", operator{}, `did you mean "NumericEquals"?`},
		{"ForAllValues:", operator{}, `condition operator "ForAllValues:" is not supported`},
		{"forallvalues:StringEquals", operator{}, "unknown qualifier"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := parseOperator(tc.name)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("parseOperator(%q) error = %v, want one containing %q", tc.name, err, tc.wantErr)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Errorf("parseOperator(%q) = %+v, %v, want %+v", tc.name, got, err, tc.want)
			}
		})
	}
}

// TestCompileConditionVariables checks substitution in condition values:
// an unknown variable, or a substituted value of the wrong type, makes the
// condition (and so its statement) impossible.
func TestCompileConditionVariables(t *testing.T) {
	vars := Vars{"iot:Connection.Thing.ThingName": "t1", "level": "x", "net": "10.0.0.0/8"}
	tests := []struct {
		name   string
		c      Condition
		wantOK bool
	}{
		{"string", Condition{"StringEquals", "iot:ClientId", []string{"${iot:Connection.Thing.ThingName}"}}, true},
		{"unknown", Condition{"StringEquals", "iot:ClientId", []string{"${iot:Nope}"}}, false},
		{"like", Condition{"StringLike", "iot:ClientId", []string{"${iot:Connection.Thing.ThingName}-*"}}, true},
		{"like unknown", Condition{"StringLike", "iot:ClientId", []string{"${iot:Nope}*"}}, false},
		{"numeric not a number", Condition{"NumericEquals", "k", []string{"${level}"}}, false},
		{"ip", Condition{"IpAddress", "aws:SourceIp", []string{"${net}"}}, true},
		{"bad operator", Condition{"Nope", "k", []string{"a"}}, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if _, ok := compileCondition(tc.c, vars, true); ok != tc.wantOK {
				t.Errorf("compileCondition(%+v) ok = %v, want %v", tc.c, ok, tc.wantOK)
			}
		})
	}
}
