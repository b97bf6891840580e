// @ts-check
// Subscribes to one topic (?topic= overrides it) and lists every update as text, newest first.
const params = new URLSearchParams(location.search)
const topic = params.get('topic') ?? 'https://example.com/demo'
const state = /** @type {HTMLElement} */ (document.getElementById('state'))
const list = /** @type {HTMLOListElement} */ (document.getElementById('updates'))
const empty = /** @type {HTMLElement} */ (document.getElementById('empty'))
const shownTopic = /** @type {HTMLElement} */ (document.getElementById('topic'))
shownTopic.textContent = topic

const url = new URL('/.well-known/mercure', location.origin)
url.searchParams.append('topic', topic)
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
