// The Nchan peer (nginx + libnginx-mod-nchan, C): configured exactly as
// ../shared/docs/nchan-peer.md says, in a scratch prefix, one worker, started with the documented
// command and stopped by the pid in its pid file (never by name). Installs the Debian packages
// with apt-get when they are missing. History: `nchan_message_buffer_length` (the scenario's
// history, 1000 by default) in the publisher location, where Nchan reads it; new subscribers
// start at the newest message, as ssehub's do. One addition to the documented config: `/pubmt`
// publishes to the topic's channel and to `all`, which stands in for the `*` subscribers Nchan
// does not have (many-topics scenario).

import { spawnSync } from 'node:child_process'
import {
  chmodSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { childPids } from '../load/proc-stats.ts'
import {
  alive,
  freePort,
  type PeerOptions,
  type RunningPeer,
  stopPid,
  waitForHttp,
} from './peer.ts'

const HOST = '127.0.0.1'
const MODULE = '/usr/lib/nginx/modules/ngx_nchan_module.so'
const NGINX = '/usr/sbin/nginx'

/** Installs nginx and Nchan through apt-get when either is missing; throws if that fails. */
export function ensureNchanInstalled(): void {
  if (existsSync(NGINX) && existsSync(MODULE)) return
  console.log('    installing nginx and libnginx-mod-nchan with apt-get …')
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' }
  const install = (): boolean =>
    spawnSync('apt-get', ['install', '-y', 'nginx', 'libnginx-mod-nchan'], {
      env,
      stdio: 'inherit',
    }).status === 0
  if (!install()) {
    spawnSync('apt-get', ['update'], { env, stdio: 'inherit' })
    if (!install()) throw new Error('apt-get could not install nginx and libnginx-mod-nchan')
  }
  if (!existsSync(MODULE)) throw new Error(`Nchan is installed but ${MODULE} is missing`)
}

/** Options of {@link startNchan}. */
export interface NchanPeerOptions extends PeerOptions {
  /**
   * Share channels and history through this Redis (nchan-peer.md's two-instance setup), with
   * every key under `namespace`. Defaults to none: shared memory only.
   */
  redis?: { url: string; namespace: string }
}

/** The config of nchan-peer.md, with PREFIX, PORT, the buffer length and Redis filled in. */
export function nchanConfig(
  prefix: string,
  port: number,
  bufferLength: number,
  redis?: { url: string; namespace: string },
): string {
  const useRedis = redis ? '\n      nchan_use_redis on;' : ''
  const publisher = `      nchan_publisher;
      nchan_message_buffer_length ${bufferLength};
      nchan_message_timeout 1h;${useRedis}`
  return `load_module ${MODULE};
worker_processes 1;
worker_rlimit_nofile 20000;
pid       ${prefix}/nginx.pid;
error_log ${prefix}/error.log warn;
events { worker_connections 19000; multi_accept on; }
http {
  access_log off;
  client_body_temp_path ${prefix}/tmp/body;
  proxy_temp_path       ${prefix}/tmp/proxy;
  fastcgi_temp_path     ${prefix}/tmp/fastcgi;
  uwsgi_temp_path       ${prefix}/tmp/uwsgi;
  scgi_temp_path        ${prefix}/tmp/scgi;
  keepalive_requests    1000000;
  nchan_max_reserved_memory 512M;${redis ? `\n  nchan_redis_url "${redis.url}";\n  nchan_redis_namespace "${redis.namespace}";` : ''}
  server {
    listen ${HOST}:${port} backlog=8192;
    location = /pub {                       # POST /pub?id=CHANNEL, body = data
${publisher}
      nchan_channel_id $arg_id;
    }
    location = /pubmt {                     # bench addition: POST /pubmt?id=CHANNEL also reaches "all"
${publisher}
      nchan_channel_id $arg_id all;
    }
    location ~ ^/sub/([A-Za-z0-9_.-]+)$ {   # GET /sub/CHANNEL, Accept: text/event-stream
      nchan_subscriber eventsource;
      nchan_channel_id $1;
      nchan_subscriber_first_message newest;${useRedis}
    }
    location ~ ^/msub/([A-Za-z0-9_.,-]+)$ { # GET /msub/a,b,c: several channels on one stream
      nchan_subscriber eventsource;
      nchan_channel_id "$1";
      nchan_channel_id_split_delimiter ",";
      nchan_subscriber_first_message newest;${useRedis}
    }
    location = /nchan_status { nchan_stub_status; }
  }
}
`
}

/** Starts nginx with Nchan on a free loopback port; resolves once it answers. */
export async function startNchan(options: NchanPeerOptions = {}): Promise<RunningPeer> {
  ensureNchanInstalled()
  const prefix = mkdtempSync(join(tmpdir(), 'ssehub-bench-nchan-'))
  // nginx's workers run as nobody: let them reach the prefix.
  chmodSync(prefix, 0o755)
  mkdirSync(join(prefix, 'tmp'))
  const port = await freePort()
  const conf = join(prefix, 'nginx.conf')
  writeFileSync(
    conf,
    nchanConfig(prefix, port, Math.max(1000, options.history ?? 1000), options.redis),
  )
  const errorLog = join(prefix, 'error.log')
  const started = spawnSync(NGINX, ['-p', `${prefix}/`, '-c', conf, '-e', errorLog], {
    encoding: 'utf8',
  })
  if (started.status !== 0) {
    rmSync(prefix, { recursive: true, force: true })
    throw new Error(`nginx did not start: ${started.stderr}`)
  }
  const pidFile = join(prefix, 'nginx.pid')
  const deadline = Date.now() + 5000
  while (!existsSync(pidFile) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20))
  const master = Number(readFileSync(pidFile, 'utf8').trim())
  await waitForHttp(HOST, port, '/nchan_status')
  let workers = childPids(master)

  return {
    name: options.redis ? 'nchan-redis' : 'nchan',
    host: HOST,
    port,
    publishPort: port,
    pids() {
      if (!alive(master)) return []
      // A worker nginx replaced (it should not) would otherwise be missed.
      if (!workers.every(alive)) workers = childPids(master)
      return [master, ...workers]
    },
    subscribePath: (topic) => `/sub/${topic}`,
    wildcardPath: () => '/sub/all',
    publishTemplate: (wildcard = false) => ({
      path: wildcard ? '/pubmt?id={topic}' : '/pub?id={topic}',
      headers: {},
      body: '{payload}',
    }),
    resumeHeaders: (id) => ({ 'Last-Event-ID': id }),
    publishedId(body) {
      const match = /last message id: (\S+)/.exec(body)
      if (!match) throw new Error(`no message id in Nchan's answer: ${body}`)
      return match[1] as string
    },
    heapUsedBytes: async () => null,
    async stop() {
      // Graceful quit by pid; nginx escalates to SIGKILL after the grace if it must.
      await stopPid(master, 'SIGQUIT', () => !alive(master), 5000)
      for (const worker of workers) if (alive(worker)) process.kill(worker, 'SIGKILL')
      const log = existsSync(errorLog) ? readFileSync(errorLog, 'utf8') : ''
      const alerts = log.split('\n').filter((line) => /\[(alert|crit|emerg|error)\]/.test(line))
      if (alerts.length > 0)
        console.log(`    (nginx error.log: ${alerts.length} error lines, e.g. ${alerts[0]})`)
      rmSync(prefix, { recursive: true, force: true })
    },
  }
}
