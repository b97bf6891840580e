import assert from 'node:assert/strict'
import { request } from 'node:http'
import { after, before, describe, it } from 'node:test'
import { startTestHub, type TestHub } from '../helpers/hub-server.ts'
import { sleep } from '../helpers/raw-sse.ts'

// Issue #11, item 3 ("Budgets for matching work"): subscribers alone could make every publish a
// hundred times slower. 2,000 connections, each with 24 complex URI templates within the
// per-subscription bound, cut publishing from 1,528/s to 14/s (2.5 s latency, 843 MB): every
// publish tests every distinct template, and nothing bounded their sum, nor the connections one
// client or one token may hold. Now the templates one topic is tested against are bounded
// hub-wide (4096 automaton states by default, identical templates counting once), and so are all
// the templates held, the subscriptions open per client address and per token (1000 each); a
// subscription past a bound is answered 429 with Retry-After, and the bound frees as
// subscriptions close.

/**
 * A template of 507 automaton states (cost 1041: 3 fit in the default 4096) with no literal
 * prefix, so that every topic is tested against it: counted prefixes in a row, the costliest kind.
 */
const large = (n: number): string =>
  `{+v${n}:10}${Array.from({ length: 7 }, (_, j) => `{+b${j + 1}:10}`).join('')}~`

const q = (...selectors: string[]): string =>
  selectors.map((s) => `topic=${encodeURIComponent(s)}`).join('&')

interface Answer {
  status: number
  retryAfter: string | undefined
  /** The body so far (all of it, for an answer that is not a stream). */
  text(): string
  /** Resolves once the body holds `part` (a stream's events); rejects after 5 s. */
  waitFor(part: string): Promise<void>
  close(): void
}

/** Subscribes (GET) from `localAddress`; resolves with the answer, its body read as it comes. */
function subscribe(
  url: string,
  options: { localAddress?: string; headers?: Record<string, string> } = {},
): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request(url, {
      agent: false,
      headers: { accept: 'text/event-stream', ...options.headers },
      ...(options.localAddress ? { localAddress: options.localAddress } : {}),
    })
    req.on('error', reject)
    req.on('response', (res) => {
      req.on('error', () => {})
      res.on('error', () => {})
      res.setEncoding('utf8')
      let text = ''
      res.on('data', (chunk: string) => {
        text += chunk
      })
      const answer: Answer = {
        status: res.statusCode ?? 0,
        retryAfter: res.headers['retry-after'],
        text: () => text,
        async waitFor(part) {
          for (let waited = 0; !text.includes(part); waited += 10) {
            if (waited > 5000) throw new Error(`no ${JSON.stringify(part)} in ${text}`)
            await sleep(10)
          }
        },
        close: () => req.destroy(),
      }
      // A refusal's body is short: resolve once it is all in.
      if (answer.status === 200) resolve(answer)
      else res.on('end', () => resolve(answer))
    })
    req.end()
  })
}

/** Subscribes until answered 200 (what a closed subscription gave back takes a moment to free). */
async function subscribeOnceFreed(
  url: string,
  options: Parameters<typeof subscribe>[1] = {},
): Promise<Answer> {
  for (let attempt = 0; attempt < 100; attempt++) {
    const answer = await subscribe(url, options)
    if (answer.status === 200) return answer
    await sleep(20)
  }
  throw new Error('still refused after 100 attempts')
}

describe('the hub-wide budget of template work', () => {
  let hub: TestHub
  before(async () => {
    hub = await startTestHub()
  })
  after(() => hub.close())

  it('answers 429 with Retry-After to templates that would pass it, serves those within it, and frees it as subscriptions close', async () => {
    const heavy = await subscribe(
      `${hub.hubUrl}?${q(...Array.from({ length: 3 }, (_, n) => large(n)))}`,
    )
    assert.equal(heavy.status, 200)

    // One more distinct template of that kind: 4 × 1041 > 4096.
    const refused = await subscribe(`${hub.hubUrl}?${q('https://example.com/own', large(3))}`)
    assert.equal(refused.status, 429)
    assert.equal(refused.retryAfter, '30')
    assert.match(refused.text(), /bound of template matching work/)
    assert.match(refused.text(), /4164 automaton states, more than 4096/)
    assert.doesNotMatch(refused.text(), /\{\+v3/)

    // Within the budget: exact topics, a template already subscribed to, and a cheap one.
    const exact = await subscribe(`${hub.hubUrl}?${q('https://example.com/books/1')}`)
    const shared = await subscribe(`${hub.hubUrl}?${q(large(2), 'https://example.com/a')}`)
    const books = await subscribe(`${hub.hubUrl}?${q('https://example.com/books/{id}')}`)
    assert.deepEqual([exact.status, shared.status, books.status], [200, 200, 200])
    await hub.publishOk({ topic: 'https://example.com/books/1', data: 'book one' })
    await hub.publishOk({ topic: 'https://example.com/a', data: 'a' })
    await Promise.all([
      exact.waitFor('data: book one'),
      books.waitFor('data: book one'),
      shared.waitFor('data: a'),
    ])
    assert.doesNotMatch(heavy.text(), /data:/)

    // Closed, the heavy subscription gives its templates back (the shared one stays held).
    heavy.close()
    const admitted = await subscribeOnceFreed(
      `${hub.hubUrl}?${q('https://example.com/own', large(3))}`,
    )
    for (const answer of [exact, shared, books, admitted]) answer.close()
  })

  it('bounds the templates held in all, whatever their prefixes, as configured', async () => {
    const small = await startTestHub({ subscriptionLimits: { maxTemplateStates: 2000 } })
    try {
      // Each `https://example.com/users/<n>/{?topic}` costs 53 (21 states and 32): 37 fit in
      // 2000, whatever topics they are tested against.
      const open: Answer[] = []
      let status = 200
      for (let n = 0; n < 40 && status === 200; n++) {
        const answer = await subscribe(
          `${small.hubUrl}?${q(`https://example.com/users/${n}/{?topic}`)}`,
        )
        status = answer.status
        if (status === 200) open.push(answer)
        else {
          assert.equal(status, 429)
          assert.equal(answer.retryAfter, '30')
          assert.match(
            answer.text(),
            /all the URI templates subscribed to would cost \d+ automaton states, more than 2000/,
          )
        }
      }
      assert.equal(open.length, 37)
      for (const answer of open) answer.close()
      const again = await subscribeOnceFreed(
        `${small.hubUrl}?${q('https://example.com/users/99/{?topic}')}`,
      )
      again.close()
    } finally {
      await small.close()
    }
  })
})

describe('the caps on subscriptions open at once', () => {
  it('answers 429 with Retry-After past the cap of one client address, counts each address on its own, and frees as they close', async () => {
    const hub = await startTestHub({ subscriptionLimits: { maxSubscriptionsPerAddress: 3 } })
    try {
      const url = `${hub.hubUrl}?${q('https://example.com/books/1')}`
      const mine = await Promise.all([1, 2, 3].map(() => subscribe(url)))
      assert.deepEqual(
        mine.map((answer) => answer.status),
        [200, 200, 200],
      )
      const fourth = await subscribe(url)
      assert.equal(fourth.status, 429)
      assert.equal(fourth.retryAfter, '30')
      assert.match(fourth.text(), /Too many subscriptions from this address: at most 3/)
      assert.doesNotMatch(fourth.text(), /127\.0\.0\.1/)
      const other = await subscribe(url, { localAddress: '127.0.0.2' })
      assert.equal(other.status, 200)
      await hub.publishOk({ topic: 'https://example.com/books/1', data: 'still served' })
      await Promise.all([...mine, other].map((answer) => answer.waitFor('data: still served')))
      mine[0]?.close()
      const freed = await subscribeOnceFreed(url)
      for (const answer of [...mine, other, freed]) answer.close()
    } finally {
      await hub.close()
    }
  })

  it('answers 429 past the cap of one token, however the token is sent, and never quotes it', async () => {
    const hub = await startTestHub({ subscriptionLimits: { maxSubscriptionsPerToken: 2 } })
    try {
      const alice = await hub.token({ subscribe: ['*'], payload: { user: 'alice' } })
      const bob = await hub.token({ subscribe: ['*'], payload: { user: 'bob' } })
      const url = `${hub.hubUrl}?${q('https://example.com/books/1')}`
      const header = await subscribe(url, { headers: { authorization: `Bearer ${alice}` } })
      const query = await subscribe(`${url}&authorization=${alice}`)
      assert.deepEqual([header.status, query.status], [200, 200])
      const cookie = await subscribe(url, { headers: { cookie: `mercureAuthorization=${alice}` } })
      assert.equal(cookie.status, 429)
      assert.equal(cookie.retryAfter, '30')
      assert.match(cookie.text(), /Too many subscriptions with this token: at most 2/)
      assert.equal(cookie.text().includes(alice), false)
      const other = await subscribe(url, { headers: { authorization: `Bearer ${bob}` } })
      assert.equal(other.status, 200)
      // Anonymous subscribers count against their address only.
      const anonymous = await subscribe(url)
      assert.equal(anonymous.status, 200)
      query.close()
      const freed = await subscribeOnceFreed(url, { headers: { authorization: `Bearer ${alice}` } })
      for (const answer of [header, query, other, anonymous, freed]) answer.close()
    } finally {
      await hub.close()
    }
  })
})
