import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, it } from 'node:test'
import {
  type HubProcess,
  publisherToken,
  publishTo,
  type ResumingSubscriber,
  resumingSubscriber,
  startHubProcess,
} from './helpers/hub-process.ts'
import { sleep } from './helpers/raw-sse.ts'
import {
  deleteKeys,
  freePort,
  REDIS_REQUIRED,
  REDIS_URL,
  redisSkipReason,
  uniquePrefix,
} from './helpers/redis.ts'

/** Debian's nginx, started here by hand in a scratch prefix (its service cannot run here). */
const { NGINX_PATH = '/usr/sbin/nginx' } = process.env
const CONFIG = new URL('../docs/nginx.conf', import.meta.url)

function nginxSkipReason(): string | null {
  if (existsSync(NGINX_PATH)) return null
  const reason = `no nginx at ${NGINX_PATH} (apt-get install nginx, or set NGINX_PATH)`
  if (REDIS_REQUIRED) throw new Error(`REQUIRE_REDIS=1 but ${reason}`)
  process.stderr.write(`nginx test skipped: ${reason}\n`)
  return reason
}

const skip = (await redisSkipReason()) ?? nginxSkipReason() ?? false

/** nginx with docs/nginx.conf, in a temporary prefix; stopped by the pid in its pid file. */
async function startNginx(
  upstreams: readonly string[],
): Promise<{ base: string; stop(): Promise<void> }> {
  const prefix = mkdtempSync(join(tmpdir(), 'ssehub-nginx-'))
  mkdirSync(join(prefix, 'tmp'))
  const port = await freePort()
  // The documented file, with only the addresses replaced: the test runs what users copy.
  let site = readFileSync(CONFIG, 'utf8')
  const servers = site.match(/^\s*server 127\.0\.0\.1:\d+ /gm) ?? []
  assert.equal(servers.length, upstreams.length, 'docs/nginx.conf lists one server per node')
  let i = 0
  site = site.replace(
    /^(\s*server) 127\.0\.0\.1:\d+ /gm,
    (_, head: string) => `${head} ${upstreams[i++]} `,
  )
  assert.match(site, /^\s*listen 80;$/m)
  site = site.replace(/^(\s*)listen 80;$/m, `$1listen 127.0.0.1:${port};`)
  writeFileSync(join(prefix, 'ssehub.conf'), site)
  writeFileSync(
    join(prefix, 'nginx.conf'),
    `${process.getuid?.() === 0 ? 'user root;\n' : ''}worker_processes 1;
pid ${prefix}/nginx.pid;
error_log ${prefix}/error.log warn;
events { worker_connections 1024; }
http {
  access_log off;
  client_body_temp_path ${prefix}/tmp/body;
  proxy_temp_path ${prefix}/tmp/proxy;
  fastcgi_temp_path ${prefix}/tmp/fastcgi;
  uwsgi_temp_path ${prefix}/tmp/uwsgi;
  scgi_temp_path ${prefix}/tmp/scgi;
  include ${prefix}/ssehub.conf;
}
`,
  )
  const child = spawn(
    NGINX_PATH,
    ['-p', `${prefix}/`, '-c', `${prefix}/nginx.conf`, '-e', `${prefix}/error.log`],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  )
  let stderr = ''
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
    stderr += chunk
  })
  // nginx forks its master into the background and exits; the master writes the pid file.
  const [code] = (await once(child, 'exit')) as [number | null]
  assert.equal(code, 0, `nginx did not start: ${stderr}`)
  const pidFile = join(prefix, 'nginx.pid')
  let pid = 0
  for (let waited = 0; pid === 0 && waited < 5000; waited += 20) {
    if (existsSync(pidFile)) pid = Number(readFileSync(pidFile, 'utf8').trim())
    if (pid === 0) await sleep(20)
  }
  assert.ok(pid > 0, 'nginx wrote its pid file')
  return {
    base: `http://127.0.0.1:${port}`,
    async stop() {
      try {
        process.kill(pid, 'SIGQUIT')
      } catch {}
      for (let waited = 0; waited < 10_000 && isAlive(pid); waited += 50) await sleep(50)
      if (isAlive(pid)) process.kill(pid, 'SIGKILL')
      rmSync(prefix, { recursive: true, force: true })
    },
  }
}

function isAlive(pid: number): boolean {
  try {
    // A master that exited but is not reaped yet (its parent is init) counts as gone.
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z'
  } catch {
    return false
  }
}

describe('hub nodes behind nginx', { skip }, () => {
  it('stream through the documented config without buffering, and survive a node being stopped', async () => {
    const prefix = uniquePrefix('nginx')
    const nodes: HubProcess[] = []
    const subscribers: ResumingSubscriber[] = []
    let nginx: Awaited<ReturnType<typeof startNginx>> | undefined
    try {
      const store = `${REDIS_URL}/0?prefix=${encodeURIComponent(prefix)}`
      const starting = [0, 1].map(() => startHubProcess({ SSEHUB_STORE: store }))
      for (const result of await Promise.allSettled(starting)) {
        if (result.status === 'fulfilled') nodes.push(result.value)
        else throw result.reason
      }
      const [first, second] = nodes as [HubProcess, HubProcess]
      nginx = await startNginx(nodes.map((node) => new URL(node.base).host))
      const hubUrl = `${nginx.base}/.well-known/mercure`
      // Round robin: these land on both nodes.
      for (let i = 0; i < 6; i++) {
        subscribers.push(await resumingSubscriber(() => `${hubUrl}?topic=urn:lb`))
      }
      const token = await publisherToken()
      const acknowledged: string[] = []
      const publish = async (n: number): Promise<void> => {
        const id = `urn:lb:${n}`
        // A publisher retries what was not acknowledged, as clients of a 503 should.
        for (let attempt = 0; attempt < 20; attempt++) {
          const { status } = await publishTo(hubUrl, token, { topic: 'urn:lb', id, data: `${n}` })
          if (status === 200) {
            acknowledged.push(id)
            return
          }
          assert.ok([0, 502, 503].includes(status), `publish answered ${status}`)
          await sleep(50)
        }
        throw new Error(`${id} was never acknowledged`)
      }

      // Unbuffered: a single small event reaches every subscriber at once, not at the end.
      const started = Date.now()
      await publish(0)
      for (const sub of subscribers) await sub.waitForEvents(1, 2000)
      assert.ok(Date.now() - started < 2000)

      let stopped: Promise<void> | undefined
      for (let n = 1; n < 300; n++) {
        await publish(n)
        if (n === 100) stopped = first.stop('SIGTERM')
      }
      await stopped
      const last = acknowledged.at(-1)
      for (const [i, sub] of subscribers.entries()) {
        for (
          let waited = 0;
          sub.events.at(-1)?.lastEventId !== last && waited < 20_000;
          waited += 20
        ) {
          await sleep(20)
        }
        const ids = sub.events.map((event) => event.lastEventId)
        assert.deepEqual(ids, acknowledged, `subscriber ${i}: every update once, in order`)
      }
      const moved = subscribers.filter((sub) => sub.connections >= 2)
      assert.ok(moved.length >= 1, 'the subscribers of the stopped node reconnected through nginx')
      for (const sub of moved) assert.ok(sub.resumedFrom.length >= 1, 'with their Last-Event-ID')
      assert.equal((await fetch(`${nginx.base}/readyz`)).status, 200, 'the other node serves')
      assert.ok(second.child.exitCode === null)
    } finally {
      for (const sub of subscribers) sub.close()
      await nginx?.stop()
      await Promise.all(nodes.map((node) => node.stop('SIGKILL')))
      await deleteKeys(prefix)
    }
  })
})
