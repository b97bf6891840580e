// @ts-check
// The debug console: subscribe to any selectors (Mercure 1.0 matchers or 0.x topics), publish any
// fields, watch raw events with their ids (1.0 subscription events arrive as `mercure` events),
// list active subscriptions. Everything shown goes through textContent. The token goes in the
// Authorization header only: Mercure 1.0 hubs never read one from the URL.
import { SseClient } from '/client.js'

const HUB = '/.well-known/mercure'
const $ = (/** @type {string} */ id) => /** @type {HTMLElement} */ (document.getElementById(id))
const tokenInput = /** @type {HTMLInputElement} */ ($('token'))
const subscribeForm = /** @type {HTMLFormElement} */ ($('subscribe'))
const publishForm = /** @type {HTMLFormElement} */ ($('publish'))
const state = $('state')
const events = $('events')
const closeButton = /** @type {HTMLButtonElement} */ ($('unsubscribe'))

/** @type {SseClient | null} */
let client = null

/** The Authorization header for the current token, if any; read at every (re)connection. */
function authorization() {
  const token = tokenInput.value.trim()
  return token === '' ? {} : { authorization: `Bearer ${token}` }
}

/** @param {string} text */
function lines(text) {
  return text
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line !== '')
}

/** Shows the selector fields of the protocol chosen, hides the other's. */
function showProtocol() {
  const chosen = String(new FormData(subscribeForm).get('protocol'))
  for (const part of subscribeForm.querySelectorAll('[data-protocol]')) {
    const element = /** @type {HTMLElement} */ (part)
    element.hidden = element.dataset.protocol !== chosen
  }
}
subscribeForm.addEventListener('change', showProtocol)
showProtocol()

/**
 * The selector options of the protocol chosen: 1.0 `match`/`matchUrlPattern` or 0.x `topics`.
 * @param {FormData} form
 */
function selectors(form) {
  if (form.get('protocol') === '0.x') return { topics: lines(String(form.get('topics') ?? '')) }
  return {
    match: lines(String(form.get('match') ?? '')),
    matchUrlPattern: lines(String(form.get('matchUrlPattern') ?? '')),
  }
}

/** @param {'open' | 'connecting' | 'closed'} value */
function showState(value) {
  state.textContent = value
  state.dataset.state = value
}

/** @param {string[]} cells */
function addRow(cells) {
  const row = document.createElement('tr')
  for (const cell of cells) {
    const td = document.createElement('td')
    td.textContent = cell
    row.append(td)
  }
  events.prepend(row)
}

subscribeForm.addEventListener('submit', (event) => {
  event.preventDefault()
  client?.close()
  const form = new FormData(subscribeForm)
  const chosen = selectors(form)
  if (Object.values(chosen).every((list) => list.length === 0)) {
    addRow([new Date().toLocaleTimeString(), 'error', '', 'Give at least one selector.'])
    return
  }
  const lastEventId = String(form.get('lastEventId') ?? '').trim()
  /** @type {SseClient} */
  let current
  try {
    current = new SseClient(HUB, {
      ...chosen,
      headers: authorization,
      gapSignal: form.get('gapSignal') !== null,
      ...(lastEventId ? { lastEventId } : {}),
    })
  } catch (error) {
    addRow([new Date().toLocaleTimeString(), 'error', '', String(error)])
    return
  }
  client = current
  showState('connecting')
  closeButton.disabled = false
  current.addEventListener('open', () => showState('open'))
  current.addEventListener('error', (error) => {
    showState(current.readyState === SseClient.CLOSED ? 'closed' : 'connecting')
    addRow([new Date().toLocaleTimeString(), 'error', '', error.message ?? ''])
  })
  current.addEventListener('gap', (gap) => {
    addRow([
      new Date().toLocaleTimeString(),
      'gap',
      gap.requestedId,
      `the hub answered ${gap.hubLastEventId}`,
    ])
  })
  // The iterator yields every event whatever its type (a typed one is dispatched under its own
  // name, so no single listener sees them all: 1.0 subscription events come as `mercure`); it
  // ends when the client is closed.
  void (async () => {
    for await (const message of current) {
      addRow([new Date().toLocaleTimeString(), message.type, message.lastEventId, message.data])
    }
  })()
})

closeButton.addEventListener('click', () => {
  client?.close()
  client = null
  showState('closed')
  closeButton.disabled = true
})

$('clear').addEventListener('click', () => events.replaceChildren())

publishForm.addEventListener('submit', async (event) => {
  event.preventDefault()
  const form = new FormData(publishForm)
  const body = new URLSearchParams()
  for (const topic of lines(String(form.get('topics') ?? ''))) body.append('topic', topic)
  for (const field of ['data', 'id', 'type', 'retry']) {
    const value = String(form.get(field) ?? '')
    if (value !== '' || field === 'data') body.set(field, value)
  }
  if (form.get('private') !== null) body.set('private', 'on')
  const res = await fetch(HUB, { method: 'POST', headers: authorization(), body })
  const text = (await res.text()).trim()
  $('publish-result').textContent = res.ok ? `Published: ${text}` : `${res.status}: ${text}`
})

$('refresh').addEventListener('click', async () => {
  const res = await fetch(`${HUB}/subscriptions`, { headers: authorization() })
  const tbody = $('subscriptions')
  tbody.replaceChildren()
  if (!res.ok) {
    $('subscriptions-note').textContent = `${res.status}: ${(await res.text()).trim()}`
    return
  }
  const list = await res.json()
  // 0.x puts the cursor in the body; 1.0 in the Link header (rel="mercure"; last-event-id="…").
  const link = /last-event-id="((?:[^"\\]|\\.)*)"/.exec(res.headers.get('link') ?? '')
  const cursor = list.lastEventID ?? link?.[1]?.replace(/\\(.)/g, '$1') ?? ''
  $('subscriptions-note').textContent = `last event id: ${cursor}`
  for (const subscription of list.subscriptions) {
    const row = document.createElement('tr')
    for (const cell of [
      subscription.topic ?? `${subscription.match_type}: ${subscription.match}`,
      subscription.subscriber,
      JSON.stringify(subscription.payload ?? null),
    ]) {
      const td = document.createElement('td')
      td.textContent = cell
      row.append(td)
    }
    tbody.append(row)
  }
})
