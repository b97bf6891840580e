import { createHash } from 'node:crypto'
import { FIELD } from './redis-entries.ts'

/**
 * The Lua scripts of the Redis store. Kept apart from `redis.ts` (the only module that knows the
 * driver) because they are plain data.
 *
 * Keys: `KEYS[1]` the stream (one entry per update, fields below), `KEYS[2]` the id index (hash:
 * update id → `"<first entry id> <last entry id>"` of the retained entries with that id), `KEYS[3]`
 * the chain of reused ids (hash: entry id → the next entry id with the same update id, only for
 * entries that have one), `KEYS[4]` the retry index (hash: an entry's content digest, its `h`
 * field → that entry id). Every write goes through a script, so the stream and its indexes change
 * in one atomic step, whichever node writes: `find` and the retry check are O(1) lookups rather
 * than scans, and the indexes never hold more than the stream does (they are trimmed in the same
 * step, oldest first, at O(1) per entry).
 *
 * Ids may be reused (Mercure draft-08): a cursor naming one resolves to the earliest retained
 * entry with it. Eviction goes oldest first, so the entry it evicts is always the first of its id,
 * and the chain hands the id over to the next one: the index stays exact as the stream is
 * trimmed, with no scan.
 */

/** A script and its SHA1, for `EVALSHA` with a fallback to `EVAL` after `NOSCRIPT`. */
export interface RedisScript {
  readonly source: string
  readonly sha1: string
}

/** The most entries one script call evicts: bounds the time Redis spends in one call. */
export const EVICTION_BUDGET = 1000

/** The most updates appended by one script call (at most {@link EVICTION_BUDGET}). */
export const MAX_BATCH = 256

/**
 * A batch is closed once its payloads reach this many bytes, so that one script call (during
 * which Redis serves nobody else) stays short.
 */
export const MAX_BATCH_BYTES = 1_048_576

const COMMON = `
local function evict(entries)
  for _, entry in ipairs(entries) do
    local eid, fields, uid, digest = entry[1], entry[2], nil, nil
    for i = 1, #fields, 2 do
      if fields[i] == '${FIELD.id}' then uid = fields[i + 1]
      elseif fields[i] == '${FIELD.digest}' then digest = fields[i + 1] end
    end
    -- A later identical entry (stored once this one was on its way out) keeps its own digest.
    if digest and redis.call('HGET', KEYS[4], digest) == eid then
      redis.call('HDEL', KEYS[4], digest)
    end
    if uid then
      local index = redis.call('HGET', KEYS[2], uid)
      local first, last = nil, nil
      if index then first, last = string.match(index, '^(%S+) (%S+)$') end
      local nxt = redis.call('HGET', KEYS[3], eid)
      if nxt then redis.call('HDEL', KEYS[3], eid) end
      -- Eviction goes oldest first, so an evicted entry is the first of its id: the next
      -- duplicate (if any) becomes the first.
      if first == eid then
        if nxt then redis.call('HSET', KEYS[2], uid, nxt .. ' ' .. last)
        else redis.call('HDEL', KEYS[2], uid) end
      end
    end
  end
end

-- Evicts the oldest entries of the range (at most the budget) and trims exactly those.
local function trimOldest(from, to, count)
  local entries = redis.call('XRANGE', KEYS[1], from, to, 'COUNT', count + 1)
  if #entries == 0 then return 0 end
  local keep = entries[count + 1]
  if keep then entries[count + 1] = nil end
  evict(entries)
  local threshold = keep and keep[1] or nil
  if not threshold then
    -- Every entry of the range goes: trim below the successor of the last one.
    local ms, seq = string.match(entries[#entries][1], '^(%d+)-(%d+)$')
    threshold = ms .. '-' .. string.format('%d', tonumber(seq) + 1)
  end
  redis.call('XTRIM', KEYS[1], 'MINID', threshold)
  return #entries
end

local function pruneByAge(maxAgeMs, budget)
  if maxAgeMs <= 0 then return 0 end
  local now = redis.call('TIME')
  local cutoff = tonumber(now[1]) * 1000 + math.floor(tonumber(now[2]) / 1000) - maxAgeMs
  if cutoff <= 0 then return 0 end
  return trimOldest('-', '(' .. string.format('%d', cutoff) .. '-0', budget)
end
`

/**
 * Appends a batch of updates (group commit: one round trip and one trim for all). `ARGV`: max
 * entries, max age in ms (`0`: none), eviction budget (at least the batch size, so retention by
 * count stays exact), the number of updates, then for each update the number of its entry fields
 * followed by the field/value pairs, its id first and its digest second.
 *
 * An update identical to a retained entry (same fields, its digest included) is a retry: nothing
 * is added and its answer is that entry's id. The entry its digest indexes counts when it is
 * retained as things stand then: still in the stream, within the age limit, and not among the
 * oldest entries that this call's trim will evict (those past the max count once the updates
 * before it are added). Any other update is added, a reused id too: it joins the end of its id's
 * chain. Returns one answer per update, in order: the new entry id, or the existing one.
 */
export const APPEND = defineScript(`${COMMON}
local maxUpdates, maxAgeMs, budget = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
local cutoff = 0
if maxAgeMs > 0 then
  local now = redis.call('TIME')
  cutoff = tonumber(now[1]) * 1000 + math.floor(tonumber(now[2]) / 1000) - maxAgeMs
end

-- The fields of entry eid when it is retained (see above), or nil.
local function retained(eid)
  local found = redis.call('XRANGE', KEYS[1], eid, eid)
  if #found == 0 then return nil end
  if tonumber(string.match(eid, '^(%d+)')) < cutoff then return nil end
  local evicted = math.min(redis.call('XLEN', KEYS[1]) - maxUpdates, budget)
  if evicted > 0 then
    -- Among the oldest "evicted" entries exactly when it ends the range of that many up to it.
    local upTo = redis.call('XRANGE', KEYS[1], '-', eid, 'COUNT', evicted)
    if upTo[#upTo][1] == eid then return nil end
  end
  return found[1][2]
end

-- Whether an entry's fields are the update's: ARGV[from + 1 .. from + count], as pairs.
local function same(fields, from, count)
  if #fields ~= count then return false end
  local stored = {}
  for i = 1, #fields, 2 do stored[fields[i]] = fields[i + 1] end
  for i = from + 1, from + count, 2 do
    if stored[ARGV[i]] ~= ARGV[i + 1] then return false end
  end
  return true
end

local answers = {}
local at = 5
for u = 1, tonumber(ARGV[4]) do
  local count = tonumber(ARGV[at])
  local uid, digest = ARGV[at + 2], ARGV[at + 4]
  local known = redis.call('HGET', KEYS[4], digest)
  local existing = known and retained(known)
  if existing and same(existing, at, count) then
    answers[u] = known
  else
    local eid = redis.call('XADD', KEYS[1], '*', unpack(ARGV, at + 1, at + count))
    redis.call('HSET', KEYS[4], digest, eid)
    local index = redis.call('HGET', KEYS[2], uid)
    local first, last = nil, nil
    if index then first, last = string.match(index, '^(%S+) (%S+)$') end
    if first then
      -- A reused id: chained after the newest with it, so eviction hands the id over in order.
      redis.call('HSET', KEYS[3], last, eid)
      redis.call('HSET', KEYS[2], uid, first .. ' ' .. eid)
    else
      redis.call('HSET', KEYS[2], uid, eid .. ' ' .. eid)
    end
    answers[u] = eid
  end
  at = at + count + 1
end
local excess = redis.call('XLEN', KEYS[1]) - maxUpdates
if excess > 0 then trimOldest('-', '+', math.min(excess, budget)) end
pruneByAge(maxAgeMs, budget)
return answers
`)

/**
 * The entry id of the earliest retained update with id `ARGV[3]` (Mercure draft-08: a cursor
 * naming a reused id resolves to the earliest), or nil. `ARGV`: max age in ms (`0`: none),
 * eviction budget, update id. Prunes by age first, so the answer is exact.
 *
 * Only entries still in the stream count (not one removed by hand with XDEL or XTRIM), and not
 * one past the age limit that a saturated eviction budget left behind: the chain, oldest first,
 * is walked past those, so the first retained entry it meets is the earliest. DoS guard: at most
 * the eviction budget of steps, past which the id counts as not retained (the hub then answers
 * `earliest`, and the client knows to refetch). Only more than that many entries with this one id
 * expired and not yet trimmed, or removed by hand, could make the walk that long.
 */
export const FIND = defineScript(`${COMMON}
local maxAgeMs, budget = tonumber(ARGV[1]), tonumber(ARGV[2])
pruneByAge(maxAgeMs, budget)
local index = redis.call('HGET', KEYS[2], ARGV[3])
if not index then return false end
local cutoff = 0
if maxAgeMs > 0 then
  local now = redis.call('TIME')
  cutoff = tonumber(now[1]) * 1000 + math.floor(tonumber(now[2]) / 1000) - maxAgeMs
end
local eid = string.match(index, '^(%S+)')
for _ = 1, budget do
  if #redis.call('XRANGE', KEYS[1], eid, eid) > 0
    and tonumber(string.match(eid, '^(%d+)')) >= cutoff then
    return eid
  end
  eid = redis.call('HGET', KEYS[3], eid)
  if not eid then return false end
end
return false
`)

/** Prunes by age (`ARGV`: max age in ms, eviction budget), then returns the stream's length. */
export const PRUNE = defineScript(`${COMMON}
pruneByAge(tonumber(ARGV[1]), tonumber(ARGV[2]))
return redis.call('XLEN', KEYS[1])
`)

/** A script with its SHA1. */
export function defineScript(source: string): RedisScript {
  return { source, sha1: createHash('sha1').update(source).digest('hex') }
}
