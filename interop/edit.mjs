// A stock Yjs client for the interop tests: connects with y-websocket, makes `count` random
// edits (emoji, CJK, combining marks) to the Y.Text "body", then waits until the text has been
// quiet for `quietMs` and prints {"text": …} as one JSON line. Positions never split a
// surrogate pair, as an editor would not.
//
//   node edit.mjs <ws-base-url> <doc> <token> <seed> <count> [quietMs]
import * as Y from 'yjs'
import { WebsocketProvider } from 'y-websocket'
import WebSocket from 'ws'

const [url, room, token, seedArg, countArg, quietArg] = process.argv.slice(2)
let seed = Number(seedArg) >>> 0 || 1
const count = Number(countArg)
const quietMs = Number(quietArg ?? 2000)
const random = () => {
  // xorshift32: repeatable per seed.
  seed ^= seed << 13; seed >>>= 0
  seed ^= seed >>> 17
  seed ^= seed << 5; seed >>>= 0
  return seed / 4294967296
}
const pieces = ['héllo ', '🌳', '世界', 'e\u0301', ' ', 'abc', '👩‍💻', 'ünï ', '\n']

const doc = new Y.Doc()
const text = doc.getText('body')
let lastChange = Date.now()
text.observe(() => { lastChange = Date.now() })
const provider = new WebsocketProvider(url, room, doc, {
  WebSocketPolyfill: WebSocket,
  disableBc: true,
  params: token ? { token } : {},
})
provider.on('connection-close', (event) => {
  if (event && event.code >= 4400 && event.code < 4500) {
    console.error(`closed: ${event.code} ${event.reason}`)
    process.exit(3)
  }
})
const timeout = setTimeout(() => { console.error('timed out'); process.exit(2) }, 60000)

await new Promise((resolve) => {
  if (provider.synced) resolve()
  provider.on('sync', (synced) => synced && resolve())
})

// A position at a code point boundary.
const boundary = (s, at) => {
  const code = s.charCodeAt(at - 1)
  return at > 0 && code >= 0xd800 && code <= 0xdbff ? at - 1 : at
}
for (let i = 0; i < count; i++) {
  const s = text.toString()
  const at = boundary(s, Math.floor(random() * (s.length + 1)))
  if (s.length > 20 && random() < 0.25) {
    let end = Math.min(s.length, at + 1 + Math.floor(random() * 3))
    end = boundary(s, end)
    if (end > at) text.delete(at, end - at)
  } else {
    text.insert(at, pieces[Math.floor(random() * pieces.length)])
  }
  await new Promise((r) => setTimeout(r, Math.floor(random() * 8)))
}
lastChange = Date.now()
while (Date.now() - lastChange < quietMs) {
  await new Promise((r) => setTimeout(r, 100))
}
console.log(JSON.stringify({ text: text.toString() }))
clearTimeout(timeout)
provider.destroy()
process.exit(0)
