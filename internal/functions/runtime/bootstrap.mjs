// iotcore's Lambda runtime for Node.js.
//
// iotcore starts this script with the working directory and
// LAMBDA_TASK_ROOT set to the function's directory and _HANDLER to its
// handler. It loads the handler once (require for CommonJS, import for ES
// modules), then serves invocations one at a time for as long as iotcore
// keeps the process warm: it reads a request, a line of JSON, from fd 3,
// calls the handler with the event, a context and a callback, and writes
// the response, a line of JSON, to fd 4. Standard output and error are the
// function's log. Before it calls the handler, it writes a line of
// "\0iotcore-request:" and the request's id to both, so that iotcore knows
// which invocation the lines after it belong to.
//
// Lines it writes to fd 4: {"ready":true} once the handler is loaded;
// {"id":ID,"result":JSON} or {"id":ID,"error":{...}} per invocation;
// {"error":{...}} when loading fails, after which it exits; and
// {"id":ID,"error":{...},"fatal":true} for an uncaught exception or an
// unhandled rejection, after which it exits too.

import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import readline from 'node:readline';
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';

const env = process.env;
const taskRoot = env.LAMBDA_TASK_ROOT || process.cwd();
if (!env.AWS_EXECUTION_ENV) {
  env.AWS_EXECUTION_ENV = `AWS_Lambda_nodejs${process.versions.node.split('.')[0]}.x`;
}

function sendLine(line) {
  const buf = Buffer.from(line + '\n');
  for (let off = 0; off < buf.length;) {
    off += fs.writeSync(4, buf, off);
  }
}

function send(obj) {
  sendLine(JSON.stringify(obj));
}

function errorOf(err) {
  if (err instanceof Error) {
    return {
      errorType: err.name || 'Error',
      errorMessage: err.message,
      trace: typeof err.stack === 'string' ? err.stack.split('\n') : [],
    };
  }
  // As Lambda: a thrown string or object is its own message.
  let message;
  try {
    message = typeof err === 'string' ? err : JSON.stringify(err);
  } catch {
    message = String(err);
  }
  return { errorType: typeof err, errorMessage: message, trace: [] };
}

function runtimeError(errorType, err) {
  const e = errorOf(err);
  const message = err instanceof Error ? `${err.name}: ${err.message}` : e.errorMessage;
  return { errorType, errorMessage: message, trace: e.trace };
}

// isModule reports whether a .js file is an ES module: its nearest
// package.json says "type": "module".
function isModule(file) {
  for (let dir = path.dirname(file); ; dir = path.dirname(dir)) {
    try {
      return JSON.parse(fs.readFileSync(path.join(dir, 'package.json'), 'utf8')).type === 'module';
    } catch {
      // None here, or not JSON: look further up.
    }
    if (path.dirname(dir) === dir) return false;
  }
}

async function load(handlerString) {
  const slash = handlerString.lastIndexOf('/') + 1;
  const rest = handlerString.slice(slash);
  const dot = rest.indexOf('.');
  if (dot <= 0 || dot === rest.length - 1) {
    return { error: { errorType: 'Runtime.MalformedHandlerName', errorMessage: `Bad handler ${handlerString}`, trace: [] } };
  }
  const modulePath = handlerString.slice(0, slash) + rest.slice(0, dot);
  const fnPath = rest.slice(dot + 1).split('.');
  const base = path.resolve(taskRoot, modulePath);
  const file = ['.js', '.mjs', '.cjs'].map((ext) => base + ext).find((f) => fs.existsSync(f));
  let mod;
  try {
    if (!file) {
      const err = new Error(`Cannot find module '${modulePath}'`);
      err.code = 'MODULE_NOT_FOUND';
      throw err;
    }
    if (file.endsWith('.mjs') || (file.endsWith('.js') && isModule(file))) {
      mod = await import(pathToFileURL(file).href);
    } else {
      mod = createRequire(file)(file);
    }
  } catch (err) {
    if (err instanceof SyntaxError) {
      return { error: runtimeError('Runtime.UserCodeSyntaxError', err) };
    }
    if (err && (err.code === 'MODULE_NOT_FOUND' || err.code === 'ERR_MODULE_NOT_FOUND')) {
      return { error: runtimeError('Runtime.ImportModuleError', err) };
    }
    return { error: errorOf(err) };
  }
  let fn = mod;
  for (const p of fnPath) {
    fn = fn == null ? undefined : fn[p];
  }
  if (typeof fn !== 'function' && mod && mod.default != null) {
    // A CommonJS module imported as ESM: its exports are the default.
    fn = mod.default;
    for (const p of fnPath) {
      fn = fn == null ? undefined : fn[p];
    }
  }
  if (typeof fn !== 'function') {
    return { error: { errorType: 'Runtime.HandlerNotFound', errorMessage: `${modulePath}.${fnPath.join('.')} is undefined or not exported`, trace: [] } };
  }
  return { handler: fn };
}

function makeContext(req) {
  return {
    functionName: env.AWS_LAMBDA_FUNCTION_NAME,
    functionVersion: env.AWS_LAMBDA_FUNCTION_VERSION,
    invokedFunctionArn: req.arn,
    memoryLimitInMB: env.AWS_LAMBDA_FUNCTION_MEMORY_SIZE,
    awsRequestId: req.id,
    logGroupName: env.AWS_LAMBDA_LOG_GROUP_NAME,
    logStreamName: env.AWS_LAMBDA_LOG_STREAM_NAME,
    identity: undefined,
    clientContext: undefined,
    callbackWaitsForEmptyEventLoop: true,
    getRemainingTimeInMillis: () => Math.max(0, req.deadlineMs - Date.now()),
  };
}

let current = null; // the request id of the invocation in flight

function fatal(err, kind) {
  const error = kind ? runtimeError(kind, err) : errorOf(err);
  console.error(`${kind || 'Uncaught Exception'}\t${JSON.stringify(error)}`);
  send({ id: current, error, fatal: true });
  process.exit(128);
}
process.on('uncaughtException', (err) => fatal(err));
process.on('unhandledRejection', (reason) => fatal(reason, 'Runtime.UnhandledPromiseRejection'));

// invoke calls the handler: its result is what the promise it returns
// resolves to, or what it passes to the callback (or context.succeed,
// fail, done), whichever comes first.
function invoke(handler, event, context) {
  return new Promise((resolve, reject) => {
    let settled = false;
    const done = (err, result) => {
      if (settled) return;
      settled = true;
      if (err != null) reject(err);
      else resolve(result);
    };
    context.done = done;
    context.succeed = (result) => done(null, result);
    context.fail = (err) => done(err ?? 'handled');
    const result = handler(event, context, done);
    if (result && typeof result.then === 'function') {
      result.then((r) => done(null, r), (e) => done(e ?? 'rejected'));
    } else if (handler.length < 3) {
      // Neither a promise nor a callback: Lambda answers null.
      done(null, undefined);
    }
  });
}

async function main() {
  const { handler, error } = await load(env._HANDLER || 'index.handler');
  if (error) {
    send({ error });
    process.exit(0);
  }
  const requests = readline.createInterface({ input: new net.Socket({ fd: 3, readable: true, writable: false }), crlfDelay: Infinity });
  requests.on('close', () => process.exit(0));
  send({ ready: true });
  for await (const line of requests) {
    const req = JSON.parse(line);
    current = req.id;
    // Tells iotcore that the log lines from here on are this request's.
    process.stdout.write(`\0iotcore-request:${req.id}\n`);
    process.stderr.write(`\0iotcore-request:${req.id}\n`);
    let result;
    try {
      result = await invoke(handler, req.event, makeContext(req));
    } catch (err) {
      send({ id: req.id, error: errorOf(err) });
      continue;
    }
    let payload;
    try {
      payload = JSON.stringify(result === undefined ? null : result);
      if (payload === undefined) payload = 'null'; // a function or a symbol
    } catch (err) {
      send({ id: req.id, error: runtimeError('Runtime.MarshalError', err) });
      continue;
    }
    sendLine(`{"id":${JSON.stringify(req.id)},"result":${payload}}`);
  }
}

main();
