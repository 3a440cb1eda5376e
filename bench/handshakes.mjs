// What anonymous `/collab` handshakes cost a running server (issue 15, item 11).
//
// Signs up, imports `--maps` public subjects of `--topics` topics each and keeps each map's live
// document loaded (one signed-in socket per map), then:
// 1. opens `--handshakes` anonymous sockets, one after another, for `topic:{n}` ids that exist
//    nowhere, and prints the server's CPU time per handshake (from /proc/PID/stat);
// 2. opens up to `--sockets` anonymous sockets at once to one public topic from this one address
//    and prints how many the server accepted (the rest are refused before the upgrade).
//
//   node bench/handshakes.mjs --server http://127.0.0.1:3100 --pid PID
// Uses the `ws` package that `interop/` installs (scripts/setup.sh --test).
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { parseArgs } from "node:util";

const require = createRequire(new URL("../interop/package.json", import.meta.url));
const WebSocket = require("ws");

const { values: args } = parseArgs({
  options: {
    server: { type: "string", default: "http://127.0.0.1:3000" },
    pid: { type: "string" },
    maps: { type: "string", default: "20" },
    topics: { type: "string", default: "999" },
    handshakes: { type: "string", default: "300" },
    sockets: { type: "string", default: "3000" },
  },
});
if (!args.pid) throw new Error("--pid is required");
const server = args.server;
const ws = server.replace(/^http/, "ws");
const ticks = 100; // USER_HZ, the unit of /proc/PID/stat times on Linux

function cpuSeconds(pid) {
  const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1].split(" ");
  return (Number(fields[11]) + Number(fields[12])) / ticks; // utime + stime
}

let cookie = "";
async function api(method, path, body) {
  const r = await fetch(`${server}/api/v1${path}`, {
    method,
    headers: { "content-type": "application/json", origin: server, cookie },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const set = r.headers.get("set-cookie");
  if (set) cookie = set.split(";")[0];
  if (!r.ok) throw new Error(`${method} ${path}: ${r.status} ${await r.text()}`);
  return r.status === 204 ? null : r.json();
}

function outline(n) {
  const lines = [];
  const write = (at, depth) => {
    lines.push(`${"  ".repeat(depth)}- Topic ${at}: handshakes and lookups`);
    for (let c = at * 10 + 1; c <= at * 10 + 10 && c < n; c++) write(c, depth + 1);
  };
  write(0, 0);
  return lines.join("\n");
}

/** Opens a socket; resolves with "open", or with the refusal's HTTP status or close code. */
function attempt(url, headers = {}, keep = false) {
  return new Promise((resolve) => {
    const socket = new WebSocket(url, { headers });
    socket.on("open", () => {
      if (!keep) socket.close();
      resolve({ outcome: "open", socket });
    });
    socket.on("unexpected-response", (_req, res) => {
      res.resume();
      resolve({ outcome: `http ${res.statusCode}` });
    });
    socket.on("close", (code) => resolve({ outcome: `closed ${code}` }));
    socket.on("error", () => resolve({ outcome: "error" }));
  });
}

const name = `hs${Date.now().toString(36)}`;
await api("POST", "/auth/signup", { username: name, password: "mossy granite lantern 42" });
const { token } = await api("POST", "/me/tokens", { name: "bench" });
const held = [];
let publicTopic = null;
for (let i = 0; i < Number(args.maps); i++) {
  const { slug } = await api("POST", "/subjects", { title: `Handshake map ${name} ${i}`, visibility: "public" });
  await api("POST", `/subjects/${slug}/imports`, { format: "markdown", filename: "map.md", content: outline(Number(args.topics)) });
  const detail = await api("GET", `/subjects/${slug}`);
  publicTopic ??= detail.root.id;
  const { socket, outcome } = await attempt(`${ws}/collab/${detail.map_document}`, { authorization: `Bearer ${token}` }, true);
  if (outcome !== "open") throw new Error(`loading ${detail.map_document}: ${outcome}`);
  held.push(socket);
}
await new Promise((r) => setTimeout(r, 1000));

const n = Number(args.handshakes);
const outcomes = {};
const before = cpuSeconds(args.pid);
const started = performance.now();
for (let i = 0; i < n; i++) {
  const id = 2 ** 40 + Math.floor(Math.random() * 2 ** 40);
  const { outcome } = await attempt(`${ws}/collab/topic:${id}`);
  outcomes[outcome] = (outcomes[outcome] ?? 0) + 1;
}
const cpu = cpuSeconds(args.pid) - before;
const wall = performance.now() - started;
console.log(`${args.maps} maps of ${args.topics} topics loaded`);
console.log(
  `${n} anonymous handshakes for unknown topics: server CPU ${((cpu * 1000) / n).toFixed(2)} ms each, ` +
    `wall ${(wall / n).toFixed(2)} ms each; ${JSON.stringify(outcomes)}`,
);

const flood = [];
for (let i = 0; i < Number(args.sockets); i++) flood.push(attempt(`${ws}/collab/topic:${publicTopic}`, {}, true));
const results = await Promise.all(flood);
const counts = {};
for (const r of results) counts[r.outcome] = (counts[r.outcome] ?? 0) + 1;
console.log(`${args.sockets} anonymous sockets at once from one address: ${JSON.stringify(counts)}`);
for (const r of results) r.socket?.terminate();
for (const s of held) s.terminate();
