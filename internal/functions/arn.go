package functions

import "strings"

// functionName returns the name of the function arn selects, as Lambda's
// Invoke reads its FunctionName: a full ARN
// (arn:aws:lambda:REGION:ACCOUNT:function:NAME), a partial one
// (ACCOUNT:function:NAME) or a bare NAME, each with an optional
// :QUALIFIER ($LATEST, a version or an alias), which is accepted and
// ignored. ok is false for anything else, such as another service's ARN.
func functionName(arn string) (name string, ok bool) {
	parts := strings.Split(arn, ":")
	switch {
	case len(parts) >= 7 && len(parts) <= 8 && parts[0] == "arn" && parts[2] == "lambda" && parts[5] == "function":
		name = parts[6]
	case len(parts) >= 3 && len(parts) <= 4 && parts[1] == "function":
		name = parts[2]
	case len(parts) <= 2 && parts[0] != "arn":
		name = parts[0]
	default:
		return "", false
	}
	return name, validName(name)
}

// validName reports whether name is a Lambda function name: 1 to 64
// letters, digits, hyphens and underscores.
func validName(name string) bool {
	if name == "" || len(name) > 64 {
		return false
	}
	for _, r := range name {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_') {
			return false
		}
	}
	return true
}
