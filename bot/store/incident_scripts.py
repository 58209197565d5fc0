"""The incidents' Lua scripts: open or join, compare-and-set transitions, the due index.

Each write that changes an incident also sets its timer, ack window and event log and
queues its notices (ENQUEUE_FN, from outbox_scripts.py) in the same script, so they commit
as one step. Keys derived inside a script are built from prefixes passed in ARGV; a Redis
Cluster deployment would need them all under one hash tag (see README: Storage).
"""

from __future__ import annotations

from bot.store.outbox_scripts import ENQUEUE_FN

# put_chunks(key, name, text): `text` into the hash `key` as fields name0, name1, ... of at
# most 60 characters, their count in name .. 'n' (a longer old text's tail removed), so the
# hash stays a listpack (bot/store/packing.py reads them). put_data(key, packed): a packed
# record as the `d` chunks, replacing the plain-JSON field of records before packing.
PUT_DATA_FN = """
local function put_chunks(key, name, text)
  local n = 0
  for i = 1, #text, 60 do
    redis.call('HSET', key, name .. n, string.sub(text, i, i + 59))
    n = n + 1
  end
  local old = tonumber(redis.call('HGET', key, name .. 'n') or '0')
  for j = n, old - 1 do redis.call('HDEL', key, name .. j) end
  redis.call('HSET', key, name .. 'n', n)
end

local function put_data(key, packed)
  put_chunks(key, 'd', packed)
  redis.call('HDEL', key, 'data')
end
"""

# An incident's log (needs PUT_DATA_FN before it): while it is open, the list `lkey`
# (keys.incident_events), appended to
# by every script that changes the incident. When it closes, fold_log moves the list into
# the incident's hash as l0..l<ln-1>: its entries joined by a newline (packed records and
# JSON never hold a raw one) in chunks of 60 characters, so the hash stays a listpack; the
# list is deleted. A list key costs about 190 bytes before its first entry, a fifth of a
# closed incident kept for 90 days (issue #14). A log is left a list (expiring with the
# incident, as before folding existed) when folding would not pay or not be safe: more
# chunks than keep the hash within a listpack's 128 entries (a storm's hundreds of joins),
# or a byte >= 0x80 (an entry written as plain JSON before packing), which a chunk
# boundary could cut in the middle of a character the clients then cannot decode.
# log_event appends to whichever form the log is in, so an entry after the close (a
# status update submitted as it closed) never starts a list that nothing would expire.
LOG_FN = """
local LOG_MAX_FIELDS = 120

local function fold_log(ikey, lkey, more)
  local n = tonumber(redis.call('HGET', ikey, 'ln') or '0')
  local parts = {}
  for j = 0, n - 1 do parts[#parts + 1] = redis.call('HGET', ikey, 'l' .. j) or '' end
  local entries = redis.call('LRANGE', lkey, 0, -1)
  for _, e in ipairs(more) do entries[#entries + 1] = e end
  local old, new = table.concat(parts), table.concat(entries, '\\n')
  local text = new
  if old ~= '' then text = (new == '' and old) or (old .. '\\n' .. new) end
  local m = math.ceil(#text / 60)
  local others = redis.call('HLEN', ikey) - n
  if redis.call('HEXISTS', ikey, 'ln') == 0 then others = others + 1 end
  if others + m > LOG_MAX_FIELDS or string.find(text, '[\\128-\\255]') then return false end
  put_chunks(ikey, 'l', text)
  redis.call('DEL', lkey)
  return true
end

local function log_event(ikey, lkey, entry)
  if redis.call('EXISTS', lkey) == 1 then
    redis.call('RPUSH', lkey, entry)
  elseif redis.call('HEXISTS', ikey, 'ln') == 1 then
    if not fold_log(ikey, lkey, {entry}) then
      redis.call('RPUSH', lkey, entry)
      local ttl = redis.call('PTTL', ikey)
      if ttl > 0 then redis.call('PEXPIRE', lkey, ttl) end
    end
  elseif redis.call('EXISTS', ikey) == 1 then
    redis.call('RPUSH', lkey, entry)
  end
  -- Else no incident (expired, or never there): nothing to log onto; a list would leak.
end
"""

# One entry onto an incident's log, in whichever form it is (see LOG_FN).
# KEYS: incident, event log. ARGV: the entry (incident_records.event_record).
LOG_EVENT = PUT_DATA_FN + LOG_FN + "log_event(KEYS[1], KEYS[2], ARGV[1])\nreturn 1\n"

# join_count(key): one more alert in the incident. `count` is absent while the opening alert
# is the only one (bot/store/incidents.py reads that as 1): a field fewer in every record.
JOIN_COUNT_FN = """
local function join_count(key)
  if redis.call('HSETNX', key, 'count', 2) == 0 then redis.call('HINCRBY', key, 'count', 1) end
end
"""

# Tell an incident's thread about an alert that joined it, at most one reply per `every`
# seconds: a storm of joins must not hold the channel behind Slack's one post per second,
# yet every join's summary and value must be readable somewhere. The first join after a
# quiet window is told at once; the joins after it are counted into one reply due when the
# window ends, rewritten in place (count, latest summary) while nobody has claimed it. A
# claimed one (its score is no longer its due time) is left alone and a new one is queued.
# The state (`at`: the last reply's due time as queued, `id`: that reply, `held`: joins it
# tells of) lives at the incident key .. ':joinreply' (keys.join_reply).
# spec: JSON {i: a fresh notice id, p: ThreadReply payload, l: its lane, g: its fold group
#       (both holding PLACEHOLDER), now: text when told at once, one / many: texts of a
#       folded reply (many holds @@N@@ for the count), every: s, keep: s} or "" for none
JOIN_REPLY_FN = """
local function join_reply(ikey, incident, spec, now, ob, ttl)
  if spec == '' then return end
  local s = cjson.decode(spec)
  local jkey = ikey .. ':joinreply'
  local q = ob .. 'queue:' .. s.l
  local group = (string.gsub(s.g, '@@INCIDENT@@', incident))
  local p = cjson.decode(s.p)
  p.incident = incident
  local function put(nid, due, text)
    p.id = nid
    p.text = text
    redis.call('SET', ob .. 'notice:' .. nid, cjson.encode(p), 'EX', ttl)
    redis.call('ZADD', q, due, nid)
    redis.call('SADD', ob .. 'fold:' .. group, nid)
  end
  local f = redis.call('HMGET', jkey, 'at', 'id')
  local at = tonumber(f[1])
  local t = tonumber(now)
  if at and at > t and f[2] then
    local score = redis.call('ZSCORE', q, f[2])
    if score and tonumber(score) == at then
      local held = redis.call('HINCRBY', jkey, 'held', 1)
      put(f[2], f[1], (string.gsub(s.many, '@@N@@', tostring(held), 1)))
      return
    end
  end
  if at and at + s.every > t then
    -- Due when the window ends; its id sorts by that time, as the thread's order is.
    local due = string.format('%.3f', at + s.every)
    local nid = string.format('%013d', math.floor(tonumber(due) * 1000)) .. string.sub(s.i, 14)
    put(nid, due, s.one)
    redis.call('HSET', jkey, 'at', due, 'id', nid, 'held', 1)
  else
    put(s.i, now, s.now)
    redis.call('HSET', jkey, 'at', now, 'id', s.i, 'held', 1)
  end
  redis.call('EXPIRE', jkey, s.keep)
end
"""

# Open an incident, or join the open one with the same dedupe key.
# KEYS: dedupe, open set, due zset, seq, urgency zset
# ARGV: packed record (bot/store/packing.py; the id is the key's), due score or "", envelopes for a
#       new incident, ack window ms or "", incident key prefix, last value or "", now,
#       envelopes for a join, outbox prefix, payload TTL, ack-window key prefix,
#       the opening's events (JSON list of JSON strings), the join's event JSON or "",
#       the urgency score, the join's thread reply spec or "" (see JOIN_REPLY_FN)
OPEN_OR_JOIN = (
    ENQUEUE_FN
    + PUT_DATA_FN
    + JOIN_COUNT_FN
    + JOIN_REPLY_FN
    + """
local PLACEHOLDER = '@@INCIDENT@@'
local existing = redis.call('GET', KEYS[1])
if existing then
  local ikey = ARGV[5] .. existing
  join_count(ikey)
  if ARGV[6] ~= '' then redis.call('HSET', ikey, 'last_value', ARGV[6]) end
  enqueue(ARGV[9], (string.gsub(ARGV[8], PLACEHOLDER, existing)), ARGV[7], ARGV[10])
  if ARGV[13] ~= '' then redis.call('RPUSH', ikey .. ':events', ARGV[13]) end
  join_reply(ikey, existing, ARGV[15] or '', ARGV[7], ARGV[9], ARGV[10])
  return {0, existing}
end
local n = redis.call('INCR', KEYS[4])
local id = 'INC-' .. n
local ikey = ARGV[5] .. id
put_data(ikey, ARGV[1])
redis.call('HSET', ikey, 'version', 1)
if ARGV[6] ~= '' then redis.call('HSET', ikey, 'last_value', ARGV[6]) end
redis.call('SET', KEYS[1], id)
redis.call('SADD', KEYS[2], id)
redis.call('ZADD', KEYS[5], ARGV[14], id)
if ARGV[2] ~= '' then redis.call('ZADD', KEYS[3], ARGV[2], id) end
if ARGV[4] ~= '' then redis.call('SET', ARGV[11] .. id, '0', 'PX', ARGV[4]) end
enqueue(ARGV[9], (string.gsub(ARGV[3], PLACEHOLDER, id)), ARGV[7], ARGV[10])
for _, e in ipairs(cjson.decode(ARGV[12])) do redis.call('RPUSH', ikey .. ':events', e) end
return {1, id}
"""
)

# Join the open incident with this dedupe key, if there is one: the join branch of
# OPEN_OR_JOIN alone, so an alert for an incident already open costs this one call and no
# schedule work (issue #14). Returns the incident's id, or false when none is open.
# KEYS: dedupe. ARGV: incident key prefix, last value or "", now, envelopes for the join
#       (holding PLACEHOLDER where the id goes), outbox prefix, payload TTL, event JSON or "",
#       thread reply spec or "" (see JOIN_REPLY_FN)
JOIN_OPEN = (
    ENQUEUE_FN
    + JOIN_COUNT_FN
    + JOIN_REPLY_FN
    + """
local existing = redis.call('GET', KEYS[1])
if not existing then return false end
local ikey = ARGV[1] .. existing
join_count(ikey)
if ARGV[2] ~= '' then redis.call('HSET', ikey, 'last_value', ARGV[2]) end
enqueue(ARGV[5], (string.gsub(ARGV[4], '@@INCIDENT@@', existing)), ARGV[3], ARGV[6])
if ARGV[7] ~= '' then redis.call('RPUSH', ikey .. ':events', ARGV[7]) end
join_reply(ikey, existing, ARGV[8] or '', ARGV[3], ARGV[5], ARGV[6])
return existing
"""
)

# A compare-and-set transition of one incident: state, timer, ack window and notices.
# KEYS: incident, due zset, open set, ack window, dedupe, event log, urgency zset
# ARGV: expected version, new data, due score or "", envelopes, ack window ms or "",
#       "closed" or "", retention (s), incident id, now, outbox prefix, payload TTL,
#       events to log (JSON list of JSON strings), urgency score
TRANSITION = (
    ENQUEUE_FN
    + PUT_DATA_FN
    + LOG_FN
    + """
if redis.call('HGET', KEYS[1], 'version') ~= ARGV[1] then return 0 end
put_data(KEYS[1], ARGV[2])
redis.call('HINCRBY', KEYS[1], 'version', 1)
if ARGV[3] == '' then
  redis.call('ZREM', KEYS[2], ARGV[8])
else
  redis.call('ZADD', KEYS[2], ARGV[3], ARGV[8])
end
if ARGV[5] == '' then
  redis.call('DEL', KEYS[4])
else
  redis.call('SET', KEYS[4], '1', 'PX', ARGV[5])
end
enqueue(ARGV[10], ARGV[4], ARGV[9], ARGV[11])
for _, e in ipairs(cjson.decode(ARGV[12])) do log_event(KEYS[1], KEYS[6], e) end
if ARGV[6] == 'closed' then
  redis.call('ZREM', KEYS[7], ARGV[8])
else
  redis.call('ZADD', KEYS[7], ARGV[13], ARGV[8])
end
if ARGV[6] == 'closed' then
  redis.call('SREM', KEYS[3], ARGV[8])
  if redis.call('GET', KEYS[5]) == ARGV[8] then redis.call('DEL', KEYS[5]) end
  if not fold_log(KEYS[1], KEYS[6], {}) then redis.call('EXPIRE', KEYS[6], ARGV[7]) end
  redis.call('EXPIRE', KEYS[1], ARGV[7])
end
return 1
"""
)

# One page of open incidents, most urgent first, in one round trip: for each id its hash
# fields, the PTTL of its ack window and its checklist record (or false).
# KEYS: urgency zset. ARGV: offset, count, incident key prefix, ack-window key prefix,
#       checklist key prefix
# Returns {total, id, {field, value, ...}, pttl, checklist JSON or false, id, ...}
PAGE_OPEN = """
local ids = redis.call('ZRANGE', KEYS[1], ARGV[1], ARGV[1] + ARGV[2] - 1)
local out = {redis.call('ZCARD', KEYS[1])}
for _, id in ipairs(ids) do
  local fields = redis.call('HGETALL', ARGV[3] .. id)
  local run = redis.call('HGET', ARGV[3] .. id, 'checklist')
  table.insert(out, id)
  table.insert(out, fields)
  table.insert(out, redis.call('PTTL', ARGV[4] .. id))
  table.insert(out, run and redis.call('GET', ARGV[5] .. run) or false)
end
return out
"""

# Lease up to ARGV[3] members due by ARGV[1] by pushing their score to ARGV[2]: whoever's
# call returned a member owns it until the lease ends; a crashed owner's lease simply lapses.
# KEYS: due zset. ARGV: now, lease end, limit
CLAIM = """
local due = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'LIMIT', 0, ARGV[3])
for _, member in ipairs(due) do redis.call('ZADD', KEYS[1], ARGV[2], member) end
return due
"""

# CLAIM, returning with each member its incident hash and ack-window PTTL, and the due
# index's first score after the claim (or nil): a tick's claim, read and next wait in one
# round trip instead of four.
# KEYS: due zset. ARGV: now, lease end, limit, incident key prefix, ack-window key prefix
CLAIM_READ = """
local due = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'LIMIT', 0, ARGV[3])
local out = {}
for _, member in ipairs(due) do
  redis.call('ZADD', KEYS[1], ARGV[2], member)
  table.insert(out, member)
  table.insert(out, redis.call('HGETALL', ARGV[4] .. member))
  table.insert(out, redis.call('PTTL', ARGV[5] .. member))
end
local first = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
return {first[2] or false, out}
"""
