import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { sleep } from './raw-sse.ts'
import { freePort } from './redis.ts'

/** Debian's nginx, started here by hand in a scratch prefix (its service cannot run here). */
export const { NGINX_PATH = '/usr/sbin/nginx' } = process.env
const CONFIG = new URL('../../docs/nginx.conf', import.meta.url)

/**
 * Why nginx tests cannot run here, or `null` when they can. When `required` (CI, where `flag`
 * such as `REQUIRE_REDIS=1` is set), a missing nginx is an error, not a skip.
 */
export function nginxSkipReason(required: boolean, flag: string): string | null {
  if (existsSync(NGINX_PATH)) return null
  const reason = `no nginx at ${NGINX_PATH} (apt-get install nginx, or set NGINX_PATH)`
  if (required) throw new Error(`${flag} but ${reason}`)
  process.stderr.write(`nginx test skipped: ${reason}\n`)
  return reason
}

/** An nginx master running docs/nginx.conf. */
export interface Nginx {
  /** `http://127.0.0.1:<port>` */
  readonly base: string
  /** What it wrote to its error log so far (warnings and errors), for failure messages. */
  errors(): string
  /** Stops the master by the pid in its pid file, and removes its prefix. */
  stop(): Promise<void>
}

/**
 * Starts nginx with docs/nginx.conf in a temporary prefix, its upstream's `server` lines pointed
 * at `upstreams` (`host:port`, one per line, or a single one for every line) and its `listen` at
 * a free loopback port. The documented file, with only the addresses replaced: the test runs
 * what users copy.
 */
export async function startNginx(upstreams: readonly string[]): Promise<Nginx> {
  const prefix = mkdtempSync(join(tmpdir(), 'ssehub-nginx-'))
  mkdirSync(join(prefix, 'tmp'))
  const port = await freePort()
  let site = readFileSync(CONFIG, 'utf8')
  const servers = site.match(/^\s*server 127\.0\.0\.1:\d+ /gm) ?? []
  assert.ok(
    upstreams.length === servers.length || (upstreams.length === 1 && servers.length >= 1),
    'docs/nginx.conf lists one server per node',
  )
  let i = 0
  site = site.replace(
    /^(\s*server) 127\.0\.0\.1:\d+ /gm,
    (_, head: string) => `${head} ${upstreams[upstreams.length === 1 ? 0 : i++]} `,
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
  if (code !== 0) {
    rmSync(prefix, { recursive: true, force: true })
    assert.fail(`nginx did not start: ${stderr}`)
  }
  const pidFile = join(prefix, 'nginx.pid')
  let pid = 0
  for (let waited = 0; pid === 0 && waited < 5000; waited += 20) {
    if (existsSync(pidFile)) pid = Number(readFileSync(pidFile, 'utf8').trim())
    if (pid === 0) await sleep(20)
  }
  assert.ok(pid > 0, 'nginx wrote its pid file')
  return {
    base: `http://127.0.0.1:${port}`,
    errors: () => {
      try {
        return readFileSync(join(prefix, 'error.log'), 'utf8')
      } catch {
        return ''
      }
    },
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
