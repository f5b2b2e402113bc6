// Package rules is iotcore's rules engine: AWS IoT's topic rules, run on
// every message that reaches the broker. A rule's SQL statement (package
// iotsql) selects the messages of its FROM topic filter, shapes them, and
// hands the result to its actions: republish to another topic, an HTTP
// request, or a function run as AWS Lambda would run it (the fleet of
// functions lives behind the Invoker it is given). An action that fails
// runs the rule's errorAction, if it has one, and is always logged, counted
// and published as an event.
//
// The engine never holds a device back: the broker hands it a message
// (Engine.Message) without waiting, the engine queues it and its workers
// evaluate the rules; a message that finds the queue full is dropped and
// counted. Messages a republish action sends are evaluated again, up to
// MaxHops rules deep, so that a rule republishing to its own topic cannot
// loop for ever.
package rules
