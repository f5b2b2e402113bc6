// Package iotsql parses and evaluates the AWS IoT rules engine's SQL
// [DOC iot-sql-reference]: SELECT ... FROM 'topic/filter' [WHERE ...], and
// the ${...} substitution templates of rule actions.
//
// Parse turns a rule's sql and awsIotSqlVersion into a Statement. Topic and
// Matches give the FROM clause's topic filter and match message topics
// against it without allocating; Evaluate runs WHERE and SELECT on one
// message and returns the action payload. ParseTemplate and Template.Expand
// do the same for action fields.
//
// Values follow AWS's data types [DOC iot-sql-data-types]: Int, Decimal,
// Boolean, String, Array, Object, Null and Undefined. Type errors never
// fail a rule: they make the value Undefined, which drops the output field
// and makes a WHERE clause false. docs/rules-sql.md lists what is supported
// and what is not; the [DOC page] citations name pages of the AWS IoT
// developer guide.
//
// The package is pure: it does no I/O, never logs and starts no goroutine.
// Randomness (newuuid, rand) is the only thing it takes from outside its
// Input. A Statement and a Template are immutable and safe for concurrent
// use.
package iotsql
