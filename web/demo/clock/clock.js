// @ts-check
// The seed's index.html, kept as close as the standard allows: one EventSource, and onmessage
// replaces the result with the latest message. textContent, not innerHTML: data is text.
const result = /** @type {HTMLElement} */ (document.getElementById('result'))
const state = /** @type {HTMLElement} */ (document.getElementById('state'))

const source = new EventSource('stream')

/** @param {'connecting' | 'open' | 'closed'} value */
function show(value) {
  state.textContent = value
  state.dataset.state = value
}

source.onopen = () => show('open')
source.onerror = () => show(source.readyState === EventSource.CLOSED ? 'closed' : 'connecting')
source.onmessage = (event) => {
  console.log('Event!', event)
  result.textContent = event.data
}
