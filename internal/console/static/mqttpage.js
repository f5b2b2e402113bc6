// The console's MQTT test client page: connects with a SigV4-presigned
// WebSocket URL from the console, subscribes, publishes and shows what
// arrives. The page's CSP forbids inline script and style: the DOM is built
// with createElement and textContent, and looks change by CSS class.

import { MQTTClient, SubscriptionRefusedError } from "./mqttclient.js";

const MAX_MESSAGES = 500;
const RETRY_MIN_MS = 1000;
const RETRY_MAX_MS = 30_000;
// A connection that lasted this long resets the backoff; one that a server
// ends at once (say, on a resubscription) keeps doubling it.
const STABLE_MS = 30_000;

const $ = (id) => document.getElementById(id);
const status = $("mqtt-status");
const reconnectButton = $("mqtt-connect"); // optional
const errorLine = $("mqtt-error");
const subscribeForm = $("subscribe-form");
const subscribeFilter = $("subscribe-filter");
const subscribeQoS = $("subscribe-qos");
const subscriptionList = $("subscriptions");
const publishForm = $("publish-form");
const publishTopic = $("publish-topic");
const publishQoS = $("publish-qos");
const publishRetain = $("publish-retain");
const publishPayload = $("publish-payload");
const messages = $("messages");
const pauseButton = $("messages-pause");
const clearButton = $("messages-clear");
const messageCount = $("messages-count");

let client = null; // the connected client, or null
let current = null; // the client of the latest attempt, connected or not
let attempt = 0; // counts connect() calls: those of an older one do nothing
let retryMs = RETRY_MIN_MS;
let retryTimer = 0;
const subscriptions = new Map(); // filter → {qos: requested, li}
let paused = false;
let held = []; // messages that arrived while paused, the newest MAX_MESSAGES
let heldCount = 0;

function setStatus(state, text) {
  status.dataset.state = state;
  status.textContent = text;
}

function showError(text) {
  errorLine.textContent = text;
}

// mqttURL asks the console for a fresh presigned URL: it is valid for a few
// minutes only. The URL carries a signature: never logged nor shown.
async function mqttURL() {
  const token = document.querySelector('meta[name="csrf-token"]')?.content ?? "";
  const res = await fetch("/console/api/mqtt-url", {
    method: "POST",
    headers: { "X-CSRF-Token": token },
    credentials: "same-origin",
  });
  if (!res.ok) throw new Error(`the console gave no MQTT URL (HTTP ${res.status})`);
  let body;
  try {
    body = await res.json();
  } catch {
    throw new Error("the console's answer for an MQTT URL is not JSON (signed out?)");
  }
  if (typeof body.url !== "string" || typeof body.clientId !== "string") {
    throw new Error("the console's answer for an MQTT URL lacks url or clientId");
  }
  return body;
}

// connect connects with a fresh URL, giving up any earlier attempt or
// connection.
async function connect() {
  clearTimeout(retryTimer);
  const me = ++attempt;
  const stale = () => me !== attempt;
  current?.close(); // its callbacks are stale now
  client = null;
  setStatus("connecting", "connecting…");
  const c = (current = new MQTTClient());
  let since;
  c.onmessage = receive;
  // Called only once c has connected: a failed connect() rejects instead.
  c.onclose = (reason) => {
    if (stale()) return;
    client = null;
    if (Date.now() - since >= STABLE_MS) retryMs = RETRY_MIN_MS;
    retry(reason);
  };
  let clientId;
  try {
    let url;
    ({ url, clientId } = await mqttURL());
    if (stale()) return;
    since = Date.now();
    await c.connect(url, clientId);
  } catch (err) {
    if (!stale()) retry(err.message);
    return;
  }
  if (stale() || !c.connected) return; // lost already: onclose retries
  client = c;
  setStatus("connected", `connected as ${clientId}`);
  // A clean session: the server has forgotten the subscriptions.
  for (const [filter, { qos }] of subscriptions) {
    subscribe(filter, qos).catch((err) => {
      if (!(err instanceof SubscriptionRefusedError)) return; // lost again: retried
      removeSubscription(filter);
      showError(err.message);
    });
  }
}

function retry(reason) {
  const ms = retryMs;
  retryMs = Math.min(2 * retryMs, RETRY_MAX_MS);
  setStatus("disconnected", `disconnected: ${reason} (retrying in ${ms / 1000}s)`);
  retryTimer = setTimeout(connect, ms);
}

reconnectButton?.addEventListener("click", () => {
  retryMs = RETRY_MIN_MS;
  connect();
});

// subscribe subscribes to filter (again) and lists it with the QoS granted.
// The list holds what is wanted: after a reconnection, it is subscribed again.
async function subscribe(filter, qos) {
  if (!client) throw new Error("not connected");
  const granted = await client.subscribe(filter, qos);
  let sub = subscriptions.get(filter);
  if (!sub) {
    sub = { qos, li: subscriptionItem(filter) };
    subscriptions.set(filter, sub);
    subscriptionList.append(sub.li);
  }
  sub.qos = qos;
  sub.li.querySelector(".subscription-qos").textContent = `QoS ${granted}`;
}

function subscriptionItem(filter) {
  const li = document.createElement("li");
  li.className = "subscription";
  li.dataset.filter = filter;
  const name = document.createElement("span");
  name.className = "subscription-filter";
  name.textContent = filter;
  const qos = document.createElement("span");
  qos.className = "subscription-qos";
  const button = document.createElement("button");
  button.type = "button";
  button.className = "unsubscribe";
  button.textContent = "Unsubscribe";
  button.addEventListener("click", () => unsubscribe(filter));
  li.append(name, " ", qos, " ", button);
  return li;
}

function removeSubscription(filter) {
  subscriptions.get(filter)?.li.remove();
  subscriptions.delete(filter);
}

// unsubscribe forgets filter at once; the server is told if connected.
async function unsubscribe(filter) {
  removeSubscription(filter);
  if (!client) return;
  try {
    await client.unsubscribe(filter);
    showError("");
  } catch (err) {
    if (client) showError(err.message); // else the reconnection subscribes without it
  }
}

subscribeForm.addEventListener("submit", async (ev) => {
  ev.preventDefault();
  const filter = subscribeFilter.value;
  if (filter === "") {
    showError("enter a topic filter to subscribe to");
    return;
  }
  try {
    await subscribe(filter, Number(subscribeQoS.value));
    showError("");
  } catch (err) {
    showError(err.message);
  }
});

publishForm.addEventListener("submit", async (ev) => {
  ev.preventDefault();
  try {
    if (!client) throw new Error("not connected");
    const payload = new TextEncoder().encode(publishPayload.value);
    await client.publish(publishTopic.value, payload, Number(publishQoS.value), publishRetain.checked);
    showError("");
  } catch (err) {
    showError(err.message);
  }
});

function receive(msg) {
  if (paused) {
    held.push(msg);
    if (held.length > MAX_MESSAGES) held.shift();
    heldCount++;
    pauseButton.textContent = `Resume (${heldCount} new)`;
    return;
  }
  show(msg);
}

function show(msg) {
  messages.prepend(messageArticle(msg));
  while (messages.childElementCount > MAX_MESSAGES) messages.lastElementChild.remove();
  countMessages();
}

function countMessages() {
  messageCount.textContent = String(messages.childElementCount);
}

function messageArticle({ topic, payload, qos, retain, receivedAt }) {
  const article = document.createElement("article");
  article.className = "message";
  const header = document.createElement("header");
  const topicSpan = element("span", "message-topic", topic);
  const time = element("time", "message-time", localTime(receivedAt));
  time.dateTime = receivedAt.toISOString();
  const qosSpan = element("span", "message-qos", `QoS ${qos}`);
  header.append(topicSpan, " ", time, " ", qosSpan);
  if (retain) header.append(" ", element("span", "message-retained", "retained"));
  article.append(header, element("pre", "message-payload", payloadText(payload)));
  return article;
}

function element(tag, className, text) {
  const el = document.createElement(tag);
  el.className = className;
  el.textContent = text;
  return el;
}

// localTime is HH:MM:SS.mmm in the browser's time zone.
function localTime(d) {
  const two = (n) => String(n).padStart(2, "0");
  return `${two(d.getHours())}:${two(d.getMinutes())}:${two(d.getSeconds())}.${String(d.getMilliseconds()).padStart(3, "0")}`;
}

const utf8 = new TextDecoder("utf-8", { fatal: true });

// payloadText is JSON indented, else UTF-8 text, else hex.
function payloadText(payload) {
  let text;
  try {
    text = utf8.decode(payload);
  } catch {
    const hex = Array.from(payload, (b) => b.toString(16).padStart(2, "0"));
    const lines = [];
    for (let i = 0; i < hex.length; i += 16) lines.push(hex.slice(i, i + 16).join(" "));
    return `binary, ${payload.length} bytes\n${lines.join("\n")}`;
  }
  try {
    JSON.parse(text);
  } catch {
    return text;
  }
  return indentJSON(text);
}

const isSpace = (ch) => ch === " " || ch === "\t" || ch === "\n" || ch === "\r";

// indentJSON lays out valid JSON text as JSON.stringify(value, null, 2)
// would, but keeps its literals as written: parsing would round 64-bit
// integers and turn 1.0 into 1.
function indentJSON(text) {
  let out = "";
  let depth = 0;
  const newline = () => "\n" + "  ".repeat(depth);
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (ch === '"') {
      let j = i + 1;
      while (text[j] !== '"') j += text[j] === "\\" ? 2 : 1;
      out += text.slice(i, j + 1);
      i = j;
    } else if (ch === "{" || ch === "[") {
      let j = i + 1;
      while (isSpace(text[j])) j++;
      if (text[j] === "}" || text[j] === "]") {
        out += ch + text[j]; // empty: {} or []
        i = j;
      } else {
        depth++;
        out += ch + newline();
      }
    } else if (ch === "}" || ch === "]") {
      depth--;
      out += newline() + ch;
    } else if (ch === ",") {
      out += "," + newline();
    } else if (ch === ":") {
      out += ": ";
    } else if (!isSpace(ch)) {
      out += ch;
    }
  }
  return out;
}

pauseButton.addEventListener("click", () => {
  paused = !paused;
  messages.classList.toggle("paused", paused);
  if (paused) {
    pauseButton.textContent = "Resume (0 new)";
    return;
  }
  pauseButton.textContent = "Pause";
  const shown = held;
  held = [];
  heldCount = 0;
  for (const msg of shown) show(msg);
});

clearButton.addEventListener("click", () => {
  messages.replaceChildren();
  countMessages();
});

countMessages();
showError("");
connect();
