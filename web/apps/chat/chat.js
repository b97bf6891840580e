// @ts-check
// The chat: join a room (the app sets a short-lived token cookie for it: a Mercure 1.0 access
// token by default, never seen by this script), follow its messages and who is online (1.0
// subscription events, `event: mercure`; 0.x ones arrive as messages) on ONE hub connection, shared by every tab open on the room (a leader tab holds it
// and relays to the others: browsers allow six connections per host on HTTP/1.1), post through the
// app. Every user string goes through textContent, never innerHTML: a message is text, whatever it
// contains.
import { SharedSseClient } from '/client.js'

const HUB = '/.well-known/mercure'
const $ = (/** @type {string} */ id) => /** @type {HTMLElement} */ (document.getElementById(id))
const joinForm = /** @type {HTMLFormElement} */ ($('join'))
const sendForm = /** @type {HTMLFormElement} */ ($('send'))
const state = $('state')
const messages = $('messages')
const members = $('members')

/** @type {SharedSseClient | null} */
let client = null
/**
 * The room joined, as the chat API answered: `subscribe` holds the client's selector options
 * (`match` and `matchUrlPattern` in Mercure 1.0, `topics` in 0.x), `presenceList` the path
 * listing who follows the room.
 * @type {{ room: string, topic: string, nickname: string, protocol: string, subscribe: Record<string, string[]>, presenceList: string } | null}
 */
let membership = null
/** Online members of the room: subscriber IRI → nickname. */
const online = new Map()
/** Message ids already shown: history replays after a gap must not show one twice. */
const shown = new Set()

/** @param {'idle' | 'connecting' | 'live' | 'reconnecting' | 'recovered' | 'closed'} value @param {string} [label] */
function showState(value, label = value) {
  state.textContent = label
  state.dataset.state = value
}

/** @param {Response} res */
async function failure(res) {
  return (await res.text()).trim() || `HTTP ${res.status}`
}

/** @param {string} path @param {unknown} body */
function post(path, body) {
  return fetch(`/apps/chat/api/${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  })
}

function renderMembers() {
  members.replaceChildren()
  const names = [...new Set(online.values())].sort((a, b) => a.localeCompare(b))
  for (const name of names) {
    const item = document.createElement('li')
    item.textContent = name
    members.append(item)
  }
  $('count').textContent = String(names.length)
}

/** @param {string} text */
function notice(text) {
  const item = document.createElement('li')
  item.className = 'notice'
  item.textContent = text
  messages.append(item)
  messages.scrollTop = messages.scrollHeight
}

/** @param {string} id @param {{ nickname: string, text: string, at: string }} message */
function renderMessage(id, message) {
  if (shown.has(id)) return
  shown.add(id)
  const item = document.createElement('li')
  item.dataset.id = id
  const who = document.createElement('span')
  who.className = 'who'
  who.textContent = message.nickname
  const text = document.createElement('span')
  text.className = 'text'
  text.textContent = message.text
  const at = document.createElement('time')
  at.className = 'at'
  at.dateTime = message.at
  at.textContent = new Date(message.at).toLocaleTimeString()
  item.append(who, text, at)
  messages.append(item)
  messages.scrollTop = messages.scrollHeight
}

/** The subscriptions already active when we joined (the events only tell what changes next). */
async function loadMembers() {
  if (!membership) return
  const res = await fetch(membership.presenceList)
  if (!res.ok) return
  const list = await res.json()
  for (const subscription of list.subscriptions) {
    const name = subscription.payload?.nickname
    if (subscription.active && typeof name === 'string') online.set(subscription.subscriber, name)
  }
  renderMembers()
}

/**
 * A subscription event: someone started or stopped following the room.
 * @param {{ subscriber: string, active: boolean, payload?: { nickname?: unknown } }} data
 */
function onPresence(data) {
  const name = data.payload?.nickname
  if (data.active && typeof name === 'string') online.set(data.subscriber, name)
  else online.delete(data.subscriber)
  renderMembers()
}

/** @param {string} text */
function parse(text) {
  try {
    return JSON.parse(text)
  } catch {
    return null
  }
}

/** A Mercure 1.0 subscription event (`event: mercure`). @param {MessageEvent<string>} event */
function onMercure(event) {
  const data = parse(event.data)
  const room = data?.type === 'subscription' && data.match_type === 'exact'
  if (room && data.match === membership?.topic) onPresence(data)
}

/** A message, or a Mercure 0.x subscription event. @param {MessageEvent<string>} event */
function onUpdate(event) {
  const data = parse(event.data)
  if (data?.type === 'Subscription') {
    if (data.topic === membership?.topic) onPresence(data)
  } else if (typeof data?.nickname === 'string' && typeof data?.text === 'string') {
    renderMessage(event.lastEventId, data)
  }
}

/** @param {string} from Where the history starts: 'earliest' for all the room's recent messages. */
function connect(from) {
  if (!membership) return
  client?.close()
  // Named after the room: tabs on the same room share a connection. A tab joining a room another
  // tab already follows gets the history all the same: the shared client replays it from `from`
  // on a short connection of its own, up to where the leader tab is, then goes on with the relay.
  const current = new SharedSseClient(HUB, {
    name: `${membership.protocol}:${membership.topic}`,
    ...membership.subscribe,
    lastEventId: from,
    // ssehub says in the stream when it could not resume (the `gap` below), even where a proxy
    // strips the response header that also tells it.
    gapSignal: true,
  })
  client = current
  let recovering = from === 'earliest' && shown.size > 0
  showState('connecting')
  current.addEventListener('open', () => {
    showState(
      recovering ? 'recovered' : 'live',
      recovering ? 'live (missed updates recovered)' : 'live',
    )
    recovering = false
  })
  current.addEventListener('message', onUpdate)
  current.addEventListener('mercure', onMercure)
  current.addEventListener('error', () => {
    showState(current.readyState === SharedSseClient.CLOSED ? 'closed' : 'reconnecting')
  })
  // The hub could not resume from our last id: replay the room's history, skipping what is shown.
  current.addEventListener('gap', () => {
    notice('Some updates were missed while offline; reloading the conversation.')
    connect('earliest')
    online.clear()
    void loadMembers()
  })
}

joinForm.addEventListener('submit', async (event) => {
  event.preventDefault()
  const form = new FormData(joinForm)
  const res = await post('join', { nickname: form.get('nickname'), room: form.get('room') })
  if (!res.ok) {
    $('join-error').textContent = await failure(res)
    return
  }
  $('join-error').textContent = ''
  const joined = await res.json()
  membership = {
    room: joined.room,
    topic: joined.topic,
    nickname: joined.nickname,
    protocol: joined.protocol,
    subscribe: joined.subscribe,
    presenceList: joined.presenceList,
  }
  $('room-name').textContent = `# ${joined.room}`
  $('room').hidden = false
  messages.replaceChildren()
  shown.clear()
  online.clear()
  connect('earliest')
  await loadMembers()
  const input = /** @type {HTMLInputElement} */ (sendForm.elements.namedItem('text'))
  input.focus()
})

sendForm.addEventListener('submit', async (event) => {
  event.preventDefault()
  if (!membership) return
  const input = /** @type {HTMLInputElement} */ (sendForm.elements.namedItem('text'))
  const res = await post('messages', { room: membership.room, text: input.value })
  if (!res.ok) {
    $('send-error').textContent = await failure(res)
    return
  }
  $('send-error').textContent = ''
  input.value = ''
})
