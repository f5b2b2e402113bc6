// Package pkitool is the logic of `iotcore pki` and `iotcore ca register`:
// the factory's certificate work that the seeds do with pages of openssl
// commands, as functions over files. It creates root and intermediate CAs,
// device keys, CSRs and certificates with the subject attributes JITP
// templates read (CN, C, O, OU, ST, serialNumber, dnQualifier), chain files
// (device then CA, as seed 000's deviceCertAndCACert.crt), the verification
// certificate for a registration code, and runs the whole CA registration
// against the AWS IoT API through the small [Registrar] interface.
//
// Everything it writes is PEM that openssl, mosquitto, the AWS SDKs and Go
// read: certificates mode 0644, private keys PKCS#8 mode 0600. It never
// replaces an existing file unless [Output.Force] is set: every output is
// checked before anything is generated, a command that cannot write all its
// files writes none (what it wrote is removed), and each file is created
// with [pki.CreateFile], which refuses a name that appears meanwhile.
//
// The command line only parses flags into the request types here; the
// issuing itself is [pki]. pkitool never logs: it returns what it wrote
// ([Written]) and notes for the user.
package pkitool
