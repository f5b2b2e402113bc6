package iotsql

import (
	"testing"
	"time"
)

// exprCase evaluates SELECT VALUE <expr> against payload; want is the JSON
// output, "" for Undefined.
type exprCase struct {
	name, expr, payload, want string
	version                   string
}

// exprCases come mostly from the examples of AWS's "Functions" and
// "Operators" pages.
var exprCases = []exprCase{
	// Arithmetic and the + operator [DOC iot-sql-operators].
	{"int add", "1 + 2", "", "3", ""},
	{"decimal add", "1 + 2.5", "", "3.5", ""},
	{"string concat", "'a' + 1", "", `"a1"`, ""},
	{"concat left", "1 + 'a'", "", `"1a"`, ""},
	{"numeric string minus", "'5' - 2", "", "3", ""},
	{"int divide truncates", "7 / 2", "", "3", ""},
	{"decimal divide", "7.0 / 2", "", "3.5", Version20151008},
	{"divide by zero", "1 / 0", "", "", ""},
	{"mod", "8 % 3", "", "2", ""},
	{"unary minus", "-a", `{"a":4}`, "-4", ""},
	{"bool plus int", "true + 1", "", "", ""},
	{"precedence", "1 + 2 * 3", "", "7", ""},
	{"overflow to decimal", "9223372036854775807 + 1", "", "9223372036854776000", ""},
	// Comparison.
	{"eq int decimal", "1 = 1.0", "", "true", ""},
	{"eq mismatched", "1 = '1'", "", "false", ""},
	{"neq mismatched", "1 <> '1'", "", "true", ""},
	{"eq undefined", "missing = 1", "{}", "", ""},
	{"eq arrays", "[1,2] = [1,2]", "", "true", ""},
	{"eq arrays order", "[1,2] = [2,1]", "", "false", ""},
	{"eq objects order", "a = {'y':2,'x':1}", `{"a":{"x":1,"y":2}}`, "true", ""},
	{"null eq null", "a = null", `{"a":null}`, "true", ""},
	{"gt string number", "'10' > 9", "", "true", ""},
	{"gt bad string", "'abc' > 9", "", "", ""},
	{"lt", "1 < 2", "", "true", ""},
	{"le", "2 <= 2", "", "true", ""},
	{"ge", "1.5 >= 2", "", "false", ""},
	{"bang equals", "1 != 2", "", "true", ""},
	// Logic.
	{"and strings", "'TRUE' AND true", "", "true", ""},
	{"or", "false OR true", "", "true", ""},
	{"and non bool", "1 AND true", "", "", ""},
	{"not", "NOT false", "", "true", ""},
	{"not string", "NOT 'false'", "", "true", ""},
	{"not number", "NOT 1", "", "", ""},
	{"is null", "a IS NULL", `{"a":null}`, "true", ""},
	{"is not undefined", "a IS NOT UNDEFINED", `{}`, "false", ""},
	{"in array", "2 IN [1,2,3]", "", "true", ""},
	{"in list", "'b' IN ('a','b')", "", "true", ""},
	{"not in", "4 NOT IN [1,2,3]", "", "true", ""},
	{"searched case", "CASE WHEN a > 1 THEN 'big' ELSE 'small' END", `{"a":2}`, `"big"`, ""},
	{"case undefined operand", "CASE a WHEN 1 THEN 2 ELSE 3 END", `{}`, "", ""},
	// Paths.
	{"dot", "a.b.c", `{"a":{"b":{"c":true}}}`, "true", ""},
	{"index", "a[1]", `{"a":[1,2]}`, "2", ""},
	{"index out of range", "a[5]", `{"a":[1,2]}`, "", ""},
	{"index object", "a['k']", `{"a":{"k":1}}`, "1", ""},
	{"path on scalar", "a.b", `{"a":1}`, "", ""},
	// Functions [DOC iot-sql-functions].
	{"abs", "abs(-5)", "", "5", ""},
	{"abs string", `abs("-5.123")`, "", "5.123", ""},
	{"abs bool", "abs(true)", "", "", ""},
	{"bitand", "bitand(13, 5)", "", "5", ""},
	{"bitor", "bitor(8, 5)", "", "13", ""},
	{"bitxor", "bitxor(13, 5)", "", "8", ""},
	{"bitnot", "bitnot(13)", "", "-14", ""},
	{"cast bool int", "cast(true as Int)", "", "1", ""},
	{"cast decimal int", "cast(2.7 as Int)", "", "2", ""},
	{"cast string decimal", "cast('1.5' as Decimal)", "", "1.5", ""},
	{"cast int string", "cast(12 as String)", "", `"12"`, ""},
	{"cast int bool", "cast(0 as Boolean)", "", "false", ""},
	{"cast null string", "cast(null as String)", "", "", ""},
	{"cast array string", "cast([1,'a'] as varchar)", "", `"[1,\"a\"]"`, ""},
	{"ceil", "ceil(1.2)", "", "2", ""},
	{"ceil negative", "ceil(-1.2)", "", "-1", ""},
	{"floor", "floor(-1.2)", "", "-2", ""},
	{"round half up", "round(1.5)", "", "2", ""},
	{"round negative", "round(-1.5)", "", "-2", ""},
	{"round string", "round('1.7')", "", "2", ""},
	{"chr", "chr(65)", "", `"A"`, ""},
	{"clientid", "clientid()", "", `"client-1"`, ""},
	{"concat none", "concat()", "", "", ""},
	{"concat one", "concat(1)", "", "1", ""},
	{"concat array", "concat([1, 2, 3], 4)", "", "[1,2,3,4]", ""},
	{"concat array string", `concat([1, 2, 3], "hello")`, "", `[1,2,3,"hello"]`, ""},
	{"concat strings", `concat("con", "cat")`, "", `"concat"`, ""},
	{"concat int string", `concat(1, "hello")`, "", `"1hello"`, ""},
	{"concat three", `concat("he","is","man")`, "", `"heisman"`, ""},
	{"concat arrays", `concat([1, 2, 3], "hello", [4, 5, 6])`, "", `[1,2,3,"hello",4,5,6]`, ""},
	{"cos", "cos(0)", "", "1", ""},
	{"cosh", "cosh(2.3)", "", "5.037220649268761", ""},
	{"encode", "encode('hi', 'base64')", "", `"aGk="`, ""},
	{"decode string", "decode('aGk=', 'base64')", "", `"hi"`, ""},
	{"decode bad", "decode('!!', 'base64')", "", "null", ""},
	{"endswith", `endswith("cat","at")`, "", "true", ""},
	{"endswith null", `endswith(null,"at")`, "", "", ""},
	{"startswith", `startswith("ranger","ran")`, "", "true", ""},
	{"exp", "exp(0)", "", "1", ""},
	{"get array", `get(["a", "b", "c"], 1)`, "", `"b"`, ""},
	{"get object", `get({"a":"b"}, "a")`, "", `"b"`, ""},
	{"get string", `get("abc", 1)`, "", `"b"`, ""},
	{"md5", `md5("hello")`, "", `"5d41402abc4b2a76b9719d911017c592"`, ""},
	{"sha256", `sha256("")`, "", `"e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"`, ""},
	{"indexof", `indexof("abcd", "bc")`, "", "1", ""},
	{"isNull", "isNull(5)", "", "false", ""},
	{"isNull null", "isNull(Null)", "", "true", ""},
	{"isUndefined", "isUndefined(floor([1,2,3]))", "", "true", ""},
	{"isString", "isString('a')", "", "true", ""},
	{"isNumber", "isNumber(1.5)", "", "true", ""},
	{"isBoolean", "isBoolean(1)", "", "false", ""},
	{"isArray", "isArray([1])", "", "true", ""},
	{"isObject", "isObject({})", "", "true", ""},
	{"length", `length("hi")`, "", "2", ""},
	{"length bool", "length(false)", "", "5", ""},
	{"ln", "ln(1)", "", "0", ""},
	{"log", "log(100)", "", "2", ""},
	{"lower", `lower("HELLO")`, "", `"hello"`, ""},
	{"lower array", `lower(["HELLO"])`, "", `"[\"hello\"]"`, ""},
	{"upper array", `upper(["hello"])`, "", `"[\"HELLO\"]"`, ""},
	{"lpad", `lpad("hello", 2)`, "", `"  hello"`, ""},
	{"lpad int", `lpad(1, 3)`, "", `"   1"`, ""},
	{"rpad", `rpad("hello", 2)`, "", `"hello  "`, ""},
	{"ltrim", `Ltrim(" h i ")`, "", `"h i "`, ""},
	{"rtrim", `rtrim(" h i ")`, "", `" h i"`, ""},
	{"trim", `Trim(" hi ")`, "", `"hi"`, ""},
	{"trim null", `trim(null)`, "", "", ""},
	{"mod", "mod(8, 3)", "", "2", ""},
	{"remainder", "remainder(8, 3)", "", "2", ""},
	{"nanvl", "Nanvl(8, 3)", "", "8", ""},
	{"newuuid", "newuuid()", "", `"123e4567-e89b-12d3-a456-426614174000"`, ""},
	{"numbytes", `numbytes("€")`, "", "3", ""},
	{"power", "power(2, 5)", "", "32", ""},
	{"power v1", "power(2, 5)", "", "32.0", Version20151008},
	{"principal", "principal()", "", `"thumbprint"`, ""},
	{"regexp_matches", `regexp_matches("aaaa", "a{2,}")`, "", "true", ""},
	{"regexp_matches false", `regexp_matches("aaaa", "b")`, "", "false", ""},
	{"regexp bad pattern", `regexp_matches("aaaa", "(")`, "", "", ""},
	{"regexp_replace", `regexp_replace("abcd", "bc", "x")`, "", `"axd"`, ""},
	{"regexp_replace group", `regexp_replace("abcd", "b(.*)d", "$1")`, "", `"ac"`, ""},
	{"regexp_substr", `regexp_substr("hihihello", "hi")`, "", `"hi"`, ""},
	{"regexp_substr star", `regexp_substr("hihihello", "(hi)*")`, "", `"hihi"`, ""},
	{"regexp dynamic pattern", `regexp_matches("abc", p)`, `{"p":"^a"}`, "true", ""},
	{"replace", `replace("abcd", "bc", "x")`, "", `"axd"`, ""},
	{"replace all", `replace("abcdabcd", "b", "x")`, "", `"axcdaxcd"`, ""},
	{"sign", "sign(-7)", "", "-1", ""},
	{"sign zero", "sign(0)", "", "0", ""},
	{"sin", "sin(0)", "", "0", ""},
	{"sinh", "sinh(2.3)", "", "4.936961805545957", ""},
	{"sqrt", "sqrt(9)", "", "3", ""},
	{"sqrt negative", "sqrt(-1)", "", "", ""},
	{"tan", "tan(3)", "", "-0.1425465430742778", ""},
	{"tanh", "tanh(2.3)", "", "0.9800963962661914", ""},
	{"substring 0", `substring("012345", 0)`, "", `"012345"`, ""},
	{"substring 2", `substring("012345", 2)`, "", `"2345"`, ""},
	{"substring decimal", `substring("012345", 2.745)`, "", `"2345"`, ""},
	{"substring int", `substring(123, 2)`, "", `"3"`, ""},
	{"substring negative", `substring("012345", -1)`, "", `"012345"`, ""},
	{"substring bool", `substring(true, 1.2)`, "", `"rue"`, ""},
	{"substring huge", `substring(false, -2.411E247)`, "", `"false"`, ""},
	{"substring range", `substring("012345", 1, 3)`, "", `"12"`, ""},
	{"substring clamp", `substring("012345", -50, 50)`, "", `"012345"`, ""},
	{"substring empty", `substring("012345", 3, 1)`, "", `""`, ""},
	{"sql_version", "sql_version()", "", `"2016-03-23"`, ""},
	{"sql_version v1", "sql_version()", "", `"2015-10-08"`, Version20151008},
	{"timestamp", "timestamp()", "", "1481825251155", ""},
	{"topic", "topic()", "", `"things/myThings/thingOne"`, ""},
	{"topic 1", "topic(1)", "", `"things"`, ""},
	{"topic 3", "topic(3)", "", `"thingOne"`, ""},
	{"topic 4", "topic(4)", "", "", ""},
	{"trunc 0", "trunc(2.3, 0)", "", "2", ""},
	{"trunc 2", "trunc(2.3123, 2)", "", "2.31", ""},
	{"trunc 2 down", "trunc(2.888, 2)", "", "2.88", ""},
	{"trunc zeros", "trunc(2.00, 5)", "", "2", ""},
	{"upper", `upper("hello")`, "", `"HELLO"`, ""},
	{"parse_time", `parse_time("yyyy.MM.dd G 'at' HH:mm:ss z", 100000000, '-06:00')`, "", `"1970.01.01 AD at 21:46:40 -06:00"`, ""},
	{"parse_time utc", `parse_time("yyyy-MM-dd'T'HH:mm:ss.SSSZ", 1481825251155)`, "", `"2016-12-15T18:07:31.155+0000"`, ""},
	{"parse_time zone", `parse_time("HH:mm z", 0, 'America/Belize')`, "", `"18:00 CST"`, ""},
	{"time_to_epoch", `time_to_epoch("18 December 2015", "dd MMMM yyyy")`, "", "1450396800000", ""},
	// Data types [DOC iot-sql-data-types].
	{"whole decimal is int v2", "a", `{"a":10.0}`, "10", ""},
	{"whole decimal kept v1", "a", `{"a":10.0}`, "10.0", Version20151008},
	{"literal whole decimal v1", "10.0 + 1", "", "11.0", Version20151008},
	{"big decimal", "a", `{"a":1e300}`, "1E+300", ""},
	{"undefined in array dropped", "[1, missing, 2]", `{}`, "[1,2]", ""},
	{"undefined in object dropped", "{'a': missing, 'b': 1}", `{}`, `{"b":1}`, ""},
	{"string escapes", `'it''s' + "\n"`, "", `"it's\n"`, ""},
	{"unicode payload", "a", `{"a":"caf\u00e9 \ud83d\ude00"}`, `"café 😀"`, ""},
}

func exprInput(payload string) Input {
	return Input{
		Topic:     "things/myThings/thingOne",
		Payload:   []byte(payload),
		ClientID:  "client-1",
		Principal: "thumbprint",
		Timestamp: time.UnixMilli(1481825251155),
		NewUUID:   func() string { return "123e4567-e89b-12d3-a456-426614174000" },
		LoadLocation: func(name string) (*time.Location, error) {
			return time.FixedZone("CST", -6*3600), nil
		},
	}
}

func TestExpressions(t *testing.T) {
	for _, c := range exprCases {
		t.Run(c.name, func(t *testing.T) {
			st, err := Parse("SELECT VALUE "+c.expr+" FROM 't'", c.version)
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			out, matched, err := st.Evaluate(exprInput(c.payload))
			if err != nil || !matched {
				t.Fatalf("Evaluate: matched %v, err %v", matched, err)
			}
			if got := string(out); got != c.want {
				t.Errorf("%s = %s, want %s", c.expr, got, c.want)
			}
		})
	}
}
