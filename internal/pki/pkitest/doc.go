// Package pkitest helps tests make certificate authorities and device
// certificates, with Go (fast, for most tests) or with the openssl program
// exactly as the seed documents do (for tests that must prove iotcore accepts
// what users make).
//
// Tests that need openssl call [OpenSSL]: it skips the test when the program
// is missing, except when the environment variable CI is true, where a
// missing program fails the test instead.
package pkitest
