// @ts-check
// Subscribes to one topic (?topic= overrides it) and lists every update as text, newest first.
// Mercure 1.0 by default: the topic is matched exactly with `match=`, anonymously (public updates
// only, no token). `?protocol=0.x` subscribes the Mercure 0.x way, with `topic=`.
const params = new URLSearchParams(location.search)
const topic = params.get('topic') ?? 'https://example.com/demo'
const protocol = params.get('protocol') === '0.x' ? '0.x' : '1.0'
const state = /** @type {HTMLElement} */ (document.getElementById('state'))
const list = /** @type {HTMLOListElement} */ (document.getElementById('updates'))
const empty = /** @type {HTMLElement} */ (document.getElementById('empty'))
const shownTopic = /** @type {HTMLElement} */ (document.getElementById('topic'))
const shownProtocol = /** @type {HTMLElement} */ (document.getElementById('protocol'))
shownTopic.textContent = topic
shownProtocol.textContent = protocol === '1.0' ? 'Mercure 1.0 (match)' : 'Mercure 0.x (topic)'

const url = new URL('/.well-known/mercure', location.origin)
url.searchParams.append(protocol === '1.0' ? 'match' : 'topic', topic)
const source = new EventSource(url)

/** @param {'connecting' | 'open' | 'closed'} value */
function show(value) {
  state.textContent = value
  state.dataset.state = value
}

source.onopen = () => show('open')
source.onerror = () => show(source.readyState === EventSource.CLOSED ? 'closed' : 'connecting')
source.onmessage = (event) => {
  empty.hidden = true
  const item = document.createElement('li')
  const data = document.createElement('pre')
  data.className = 'data'
  // textContent: update data is text, never HTML.
  data.textContent = event.data
  const id = document.createElement('small')
  id.textContent = event.lastEventId
  item.append(data, id)
  list.prepend(item)
}
