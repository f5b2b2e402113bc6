"""iotcore's Lambda runtime for Python.

iotcore starts this script with the working directory and LAMBDA_TASK_ROOT
set to the function's directory and _HANDLER to its handler. It imports the
handler once, then serves invocations one at a time for as long as iotcore
keeps the process warm: it reads a request, a line of JSON, from fd 3,
calls the handler with the event and a context, and writes the response,
a line of JSON, to fd 4. Standard output and error are the function's log.

Before it calls the handler, it writes a line of "\\0iotcore-request:" and
the request's id to its standard output and error, so that iotcore knows
which invocation the lines after it belong to.

Lines it writes to fd 4: {"ready": true} once the handler is imported;
{"id": ID, "result": JSON} or {"id": ID, "error": {...}} per invocation;
{"error": {...}} when the import fails, after which it exits.
"""

import decimal
import importlib
import json
import logging
import os
import sys
import time
import traceback


def _decimal(o):
    # As Lambda's Python runtime: boto3's DynamoDB numbers are Decimals.
    if isinstance(o, decimal.Decimal):
        return int(o) if o == o.to_integral_value() else float(o)
    raise TypeError("Object of type %s is not JSON serializable" % type(o).__name__)


def _error(etype, message, tb=None):
    return {
        "errorType": etype,
        "errorMessage": message,
        "stackTrace": traceback.format_list(traceback.extract_tb(tb)) if tb else [],
    }


def _exception(e, skip=1):
    tb = e.__traceback__
    for _ in range(skip):
        if tb is not None and tb.tb_next is not None:
            tb = tb.tb_next
    return _error(type(e).__name__, str(e), tb)


class LambdaContext:
    """The context object of Lambda's Python runtime."""

    def __init__(self, req):
        env = os.environ
        self.function_name = env.get("AWS_LAMBDA_FUNCTION_NAME", "")
        self.function_version = env.get("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
        self.memory_limit_in_mb = env.get("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "128")
        self.log_group_name = env.get("AWS_LAMBDA_LOG_GROUP_NAME", "")
        self.log_stream_name = env.get("AWS_LAMBDA_LOG_STREAM_NAME", "")
        self.invoked_function_arn = req.get("arn", "")
        self.aws_request_id = req.get("id", "")
        self.identity = None
        self.client_context = None
        self._deadline_ms = req.get("deadlineMs", 0)

    def get_remaining_time_in_millis(self):
        return max(0, int(self._deadline_ms - time.time() * 1000))

    def __repr__(self):
        return "LambdaContext([aws_request_id=%s,log_group_name=%s,log_stream_name=%s,function_name=%s,memory_limit_in_mb=%s,function_version=%s,invoked_function_arn=%s])" % (
            self.aws_request_id, self.log_group_name, self.log_stream_name, self.function_name,
            self.memory_limit_in_mb, self.function_version, self.invoked_function_arn)


def _load(handler):
    """Imports the handler as Lambda does; returns (function, None) or (None, error)."""
    modname, _, fname = handler.rpartition(".")
    if not modname or not fname:
        return None, _error("Runtime.MalformedHandlerName", "Bad handler '%s': not enough values to unpack (expected 2, got 1)" % handler)
    modname = modname.replace("/", ".")
    try:
        module = importlib.import_module(modname)
    except ImportError as e:
        return None, _error("Runtime.ImportModuleError", "Unable to import module '%s': %s" % (modname, e))
    except SyntaxError as e:
        return None, _error("Runtime.UserCodeSyntaxError", "Syntax error in module '%s': %s" % (modname, e), e.__traceback__)
    except Exception as e:
        return None, _exception(e)
    fn = getattr(module, fname, None)
    if not callable(fn):
        return None, _error("Runtime.HandlerNotFound", "Handler '%s' missing on module '%s'" % (fname, modname))
    return fn, None


def main():
    requests = open(3, "rb")
    responses = open(4, "wb")
    # The function's own child processes get neither.
    os.set_inheritable(3, False)
    os.set_inheritable(4, False)

    def send(b):
        responses.write(b + b"\n")
        responses.flush()

    def send_json(obj):
        send(json.dumps(obj).encode())

    # Lines to the log as they are printed; undecodable bytes escaped.
    for stream in (sys.stdout, sys.stderr):
        stream.reconfigure(line_buffering=True, errors="backslashreplace")
    # As on Lambda, the root logger writes (from WARNING, until the
    # function sets a level) to the log.
    log_handler = logging.StreamHandler(sys.stdout)
    log_handler.setFormatter(logging.Formatter("[%(levelname)s]\t%(message)s"))
    logging.getLogger().addHandler(log_handler)

    env = os.environ
    if "AWS_EXECUTION_ENV" not in env:
        env["AWS_EXECUTION_ENV"] = "AWS_Lambda_python%d.%d" % sys.version_info[:2]
    root = env.get("LAMBDA_TASK_ROOT", os.getcwd())
    # The function's directory comes first, not this script's.
    sys.path[0] = root

    handler, err = _load(env.get("_HANDLER", "lambda_function.lambda_handler"))
    if err is not None:
        send_json({"error": err})
        sys.exit(0)
    send_json({"ready": True})

    for line in requests:
        req = json.loads(line)
        rid = req.get("id", "")
        # Tells iotcore that the log lines from here on are this request's.
        for stream in (sys.stdout, sys.stderr):
            stream.write("\0iotcore-request:%s\n" % rid)
            stream.flush()
        try:
            result = handler(req.get("event"), LambdaContext(req))
        except Exception as e:
            send_json({"id": rid, "error": _exception(e, skip=1)})
            continue
        try:
            payload = json.dumps(result, default=_decimal, allow_nan=False)
        except Exception as e:
            send_json({"id": rid, "error": _error("Runtime.MarshalError", "Unable to marshal response: %s" % e)})
            continue
        send(b'{"id":' + json.dumps(rid).encode() + b',"result":' + payload.encode() + b"}")


if __name__ == "__main__":
    main()
