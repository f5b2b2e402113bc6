package iotsql

import "fmt"

// Versions accepted for awsIotSqlVersion [DOC iot-rule-sql-version].
const (
	Version20151008 = "2015-10-08"
	Version20160323 = "2016-03-23" // default when empty
	VersionBeta     = "beta"
)

// checkVersion resolves "" to the default and rejects unknown versions.
// beta behaves as 2016-03-23: AWS documents no beta-only feature.
func checkVersion(v string) (string, error) {
	switch v {
	case "":
		return Version20160323, nil
	case Version20151008, Version20160323, VersionBeta:
		return v, nil
	}
	return "", fmt.Errorf("iotsql: unsupported awsIotSqlVersion %q: use %s, %s or %s", v, Version20151008, Version20160323, VersionBeta)
}
