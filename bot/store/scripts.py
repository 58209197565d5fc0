"""Every Lua script the bot runs, in one place, each with its keys and arguments named.

Redis runs a script atomically, which is how a state change, its timer and the notices it
causes commit as one step. Keys derived inside a script (an outbox payload from its id) are
built from prefixes passed in ARGV; a Redis Cluster deployment would need them all under one
hash tag (see README: Storage).
"""

from __future__ import annotations

# A Lua function shared by every script that queues notices, so that queuing has one
# definition. `envs` is a JSON array of envelopes {i: id, l: lane, p: payload JSON,
# c: 1 when coalesced, g: fold group or ""}; `ob` is the outbox key prefix.
# - the payload lives under its own key with a TTL, the lane's queue holds only the id;
# - a coalesced notice (an update that re-renders current state) bumps its generation and
#   is queued only if not already waiting: the waiting one will draw the newest state, and
#   one being drawn right now sees the bumped generation when it finishes and runs again.
ENQUEUE_FN = """
local function enqueue(ob, envs, now, ttl)
  for _, e in ipairs(cjson.decode(envs)) do
    redis.call('SET', ob .. 'notice:' .. e.i, e.p, 'EX', ttl)
    if e.c == 1 then
      redis.call('HINCRBY', ob .. 'gen', e.i, 1)
      redis.call('ZADD', ob .. 'queue:' .. e.l, 'NX', now, e.i)
    else
      redis.call('ZADD', ob .. 'queue:' .. e.l, now, e.i)
    end
    if e.g ~= '' then redis.call('SADD', ob .. 'fold:' .. e.g, e.i) end
  end
end
"""

# ARGV: outbox prefix, envelopes, now (epoch s), payload TTL (s)
ENQUEUE = (
    ENQUEUE_FN
    + """
enqueue(ARGV[1], ARGV[2], ARGV[3], ARGV[4])
return 1
"""
)

# Queue notices once per claim key (reminders): SET NX decides, in the same step.
# KEYS: claim key. ARGV: claim TTL (s), outbox prefix, envelopes, now, payload TTL
ENQUEUE_ONCE = (
    ENQUEUE_FN
    + """
if not redis.call('SET', KEYS[1], '1', 'NX', 'EX', ARGV[1]) then return 0 end
enqueue(ARGV[2], ARGV[3], ARGV[4], ARGV[5])
return 1
"""
)

# Queue notices when a state differs from the one last queued for, and record it, in one
# step: replicas that see the same change queue it once.
# KEYS: state. ARGV: new state, outbox prefix, envelopes, now, payload TTL.
ENQUEUE_IF_CHANGED = (
    ENQUEUE_FN
    + """
if redis.call('GET', KEYS[1]) == ARGV[1] then return 0 end
redis.call('SET', KEYS[1], ARGV[1])
enqueue(ARGV[2], ARGV[3], ARGV[4], ARGV[5])
return 1
"""
)

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
# put_data(key, packed): a packed record into the hash `key` as chunks of at most 60
# characters, so the hash stays a listpack (bot/store/packing.py does the same in Python).
PUT_DATA_FN = """
local function put_data(key, packed)
  local n = 0
  for i = 1, #packed, 60 do
    redis.call('HSET', key, 'd' .. n, string.sub(packed, i, i + 59))
    n = n + 1
  end
  local old = tonumber(redis.call('HGET', key, 'dn') or '0')
  for j = n, old - 1 do redis.call('HDEL', key, 'd' .. j) end
  redis.call('HSET', key, 'dn', n)
  redis.call('HDEL', key, 'data')
end
"""

# join_count(key): one more alert in the incident. `count` is absent while the opening alert
# is the only one (bot/store/incidents.py reads that as 1): a field fewer in every record.
JOIN_COUNT_FN = """
local function join_count(key)
  if redis.call('HSETNX', key, 'count', 2) == 0 then redis.call('HINCRBY', key, 'count', 1) end
end
"""

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
for _, e in ipairs(cjson.decode(ARGV[12])) do redis.call('RPUSH', KEYS[6], e) end
if ARGV[6] == 'closed' then
  redis.call('ZREM', KEYS[7], ARGV[8])
else
  redis.call('ZADD', KEYS[7], ARGV[13], ARGV[8])
end
if ARGV[6] == 'closed' then
  redis.call('SREM', KEYS[3], ARGV[8])
  if redis.call('GET', KEYS[5]) == ARGV[8] then redis.call('DEL', KEYS[5]) end
  redis.call('EXPIRE', KEYS[1], ARGV[7])
  redis.call('EXPIRE', KEYS[6], ARGV[7])
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

# Claim due notices, lanes in priority order, and return each with its payload and
# generation, and how many were passed over. An id whose payload expired is dropped here.
# A person's page DMs are sent by one replica at a time: claiming one takes the person's
# owner key (ARGV[5], a lease of ARGV[6] ms), and while another replica holds it that
# person's DMs stay queued for it to fold into the DM it sends next. Without this, two
# replicas split one person's pages into two DMs that take each other's pace token.
# KEYS: the lanes' queues, most urgent first
# ARGV: now, lease end, limit, outbox prefix, owner token, owner lease ms
CLAIM_NOTICES = """
local out = {}
local skipped = 0
local want = tonumber(ARGV[3])
local ob = ARGV[4]
for lane = 1, #KEYS do
  if want <= 0 then break end
  local due = redis.call('ZRANGEBYSCORE', KEYS[lane], '-inf', ARGV[1], 'LIMIT', 0, want + 50)
  for _, id in ipairs(due) do
    if want <= 0 then break end
    local payload = redis.call('GET', ob .. 'notice:' .. id)
    if payload then
      local take = true
      if lane == 1 then
        local ok, p = pcall(cjson.decode, payload)
        if ok and type(p) == 'table' and p.kind == 'page_dm' then
          local owner = ob .. 'owner:dm:' .. tostring(p.member)
          local held = redis.call('GET', owner)
          if held and held ~= ARGV[5] then
            take = false
            skipped = skipped + 1
          else
            redis.call('SET', owner, ARGV[5], 'PX', ARGV[6])
          end
        end
      end
      if take then
        redis.call('ZADD', KEYS[lane], ARGV[2], id)
        local gen = redis.call('HGET', ob .. 'gen', id) or ''
        table.insert(out, {lane - 1, id, payload, gen})
        want = want - 1
      end
    else
      redis.call('ZREM', KEYS[lane], id)
    end
  end
end
return {out, skipped}
"""

# Let an incident open its pipeline's checklist by itself unless another did lately. The
# window is judged by the caller's clock (the value holds "incident|until"); the key's TTL
# only clears it away. KEYS: claim key. ARGV: incident, now, until, TTL (s)
# Returns the incident holding the claim.
CLAIM_AUTO_CHECKLIST = """
local v = redis.call('GET', KEYS[1])
if v then
  local inc, till = string.match(v, '^(.*)|([^|]+)$')
  if inc == ARGV[1] or (till and tonumber(till) > tonumber(ARGV[2])) then return inc end
end
redis.call('SET', KEYS[1], ARGV[1] .. '|' .. ARGV[3], 'EX', ARGV[4])
return ARGV[1]
"""

# Give up a person's DM owner key (KEYS[1]) if we still hold it (ARGV[1]), or extend it
# (ARGV[2] ms, when given).
OWNER = """
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
if ARGV[2] and ARGV[2] ~= '' then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
else
  redis.call('DEL', KEYS[1])
end
return 1
"""

# Claim the other page DMs of one person due by ARGV[1], to fold them into the DM being sent.
# (The caller passes a little after now: pages waiting for the same pace token are due a
# few ms apart, and should still go out together.)
# KEYS: fold set, page lane queue. ARGV: due by, lease end, limit, outbox prefix, id in hand
CLAIM_FOLD = """
local out = {}
for _, id in ipairs(redis.call('SMEMBERS', KEYS[1])) do
  if #out >= tonumber(ARGV[3]) then break end
  if id ~= ARGV[5] then
    local score = redis.call('ZSCORE', KEYS[2], id)
    if not score then
      redis.call('SREM', KEYS[1], id)
    elseif tonumber(score) <= tonumber(ARGV[1]) then
      local payload = redis.call('GET', ARGV[4] .. 'notice:' .. id)
      if payload then
        redis.call('ZADD', KEYS[2], ARGV[2], id)
        table.insert(out, {id, payload})
      end
    end
  end
end
return out
"""

# A person's page DMs must wait for the pace: move every one of them queued and due before
# ARGV[1] to ARGV[1], so that whichever replica claims them then sends them as one DM.
# KEYS: fold set, page lane queue. ARGV: the time they may go
GATHER_FOLD = """
local n = 0
for _, id in ipairs(redis.call('SMEMBERS', KEYS[1])) do
  local score = redis.call('ZSCORE', KEYS[2], id)
  if score and tonumber(score) < tonumber(ARGV[1]) then
    redis.call('ZADD', KEYS[2], ARGV[1], id)
    n = n + 1
  end
end
return n
"""

# Move claimed notices to a new score if each is still ours (its score is the lease we were
# given): renews leases, and puts a notice back for later (pace, Retry-After, not ready).
# KEYS: the lanes' queues. ARGV: triples of lane, id, held score, then the new score last
MOVE_IF_HELD = """
local new = ARGV[#ARGV]
local moved = {}
for i = 1, #ARGV - 1, 3 do
  local q = KEYS[tonumber(ARGV[i]) + 1]
  local score = redis.call('ZSCORE', q, ARGV[i + 1])
  if score and tonumber(score) == tonumber(ARGV[i + 2]) then
    redis.call('ZADD', q, new, ARGV[i + 1])
    table.insert(moved, ARGV[i + 1])
  end
end
return moved
"""

# A notice was delivered: forget it, unless it is coalesced and was queued again while it
# was being drawn (its generation moved), in which case draw it again now.
# KEYS: lane queue. ARGV: id, generation seen or "", now, outbox prefix, fold group or ""
DONE = """
local ob = ARGV[4]
if ARGV[2] ~= '' then
  local gen = redis.call('HGET', ob .. 'gen', ARGV[1])
  if gen and gen ~= ARGV[2] then
    redis.call('ZADD', KEYS[1], ARGV[3], ARGV[1])
    return 0
  end
  redis.call('HDEL', ob .. 'gen', ARGV[1])
end
redis.call('ZREM', KEYS[1], ARGV[1])
redis.call('DEL', ob .. 'notice:' .. ARGV[1])
redis.call('HDEL', ob .. 'attempts', ARGV[1])
redis.call('HDEL', ob .. 'inflight', ARGV[1])
if ARGV[5] ~= '' then redis.call('SREM', ob .. 'fold:' .. ARGV[5], ARGV[1]) end
return 1
"""

# A delivery failed: count it, and retry at ARGV[3] or park it as a dead letter.
# KEYS: lane queue, dead zset. ARGV: id, max attempts, retry at, now, outbox prefix,
#       dead-letter TTL (s), fold group or ""
FAILED = """
local ob = ARGV[5]
local n = redis.call('HINCRBY', ob .. 'attempts', ARGV[1], 1)
if n < tonumber(ARGV[2]) then
  redis.call('ZADD', KEYS[1], ARGV[3], ARGV[1])
  return n
end
redis.call('ZREM', KEYS[1], ARGV[1])
redis.call('ZADD', KEYS[2], ARGV[4], ARGV[1])
redis.call('INCR', ob .. 'dead:total')
redis.call('EXPIRE', ob .. 'notice:' .. ARGV[1], ARGV[6])
if ARGV[7] ~= '' then redis.call('SREM', ob .. 'fold:' .. ARGV[7], ARGV[1]) end
return -1
"""

# Token bucket per Slack destination (a channel, a DM, one message's updates), shared by
# every replica. Returns 0 and takes a token, or the milliseconds until one is free. A
# Retry-After from Slack blocks the destination outright until it passes (the block key holds
# that instant in ms on the bot's clock, so a test's fake clock drives it too).
# `reserve` tokens are kept for urgent sends (pages): a routine post waits while fewer than
# 1 + reserve are left, so a backlog of thread replies never delays the next page.
# A sender told to wait is given a turn of its own (`n`, the next free turn, 1/rate apart)
# rather than the instant the next token is free: a backlog of N notices for one channel
# then comes back one at a time as tokens free up, instead of all N at once every second to
# find one token among them (issue #14: that churn starved the escalation loop).
# KEYS: bucket, block. ARGV: now (ms), rate (tokens per s), burst, reserve
PACE = """
local now, rate, burst = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
local need = 1 + tonumber(ARGV[4] or '0')
local blocked = tonumber(redis.call('GET', KEYS[2]) or '0')
if blocked > now then return math.ceil(blocked - now) end
local b = redis.call('HMGET', KEYS[1], 't', 'a', 'n')
local tokens = tonumber(b[1]) or burst
local at = tonumber(b[2]) or now
if now > at then tokens = math.min(burst, tokens + (now - at) * rate / 1000) end
local keep = math.ceil(burst * 1000 / rate) + 60000
if tokens < need then
  local turn = math.max(now + math.ceil((need - tokens) * 1000 / rate), tonumber(b[3]) or 0)
  redis.call('HSET', KEYS[1], 'n', tostring(turn + math.ceil(1000 / rate)))
  redis.call('PEXPIRE', KEYS[1], math.max(keep, turn - now + keep))
  return math.max(1, turn - now)
end
redis.call('HSET', KEYS[1], 't', tostring(tokens - 1), 'a', tostring(math.max(now, at)))
if redis.call('PTTL', KEYS[1]) < keep then redis.call('PEXPIRE', KEYS[1], keep) end
return 0
"""

# Count an alert against every live suppression covering its pipeline at `now` and, when it
# is suppressed, record the alert (marked with the suppression) in the same step. Returns
# the covering suppression that ends last (the one paging waits for), or nil.
# The live index is scanned whole: it holds the few suppressions not yet ended.
# KEYS: live index, recorded alerts list
# ARGV: now (epoch s), pipeline slug, suppression key prefix, alert JSON or "", alerts kept
COUNT_IF_SUPPRESSED = """
local now = tonumber(ARGV[1])
local best = false
for _, id in ipairs(redis.call('ZRANGEBYSCORE', KEYS[1], '(' .. ARGV[1], '+inf')) do
  local key = ARGV[3] .. id
  local f = redis.call('HMGET', key, 'pipeline', 'starts')
  if f[1] and (f[1] == ARGV[2] or f[1] == 'all') and tonumber(f[2]) <= now then
    redis.call('HINCRBY', key, 'count', 1)
    best = id
  end
end
if best and ARGV[4] ~= '' then
  local alert = cjson.decode(ARGV[4])
  alert['suppressed_by'] = best
  redis.call('LPUSH', KEYS[2], cjson.encode(alert))
  redis.call('LTRIM', KEYS[2], 0, tonumber(ARGV[5]) - 1)
end
return best
"""

# Write the snapshot only while the digest is unclaimed. Whichever replica claims it next
# (Outbox.enqueue_once) queues notices that read the last snapshot written before its
# claim; once claimed nobody overwrites it, so the channel post and the DMs agree even when
# one of them is delivered an hour after the others. A replica that wrote a snapshot and
# died before claiming leaves it to be replaced by the next one's fresher snapshot.
# KEYS: claim, digest. ARGV: digest JSON, TTL (s)
SAVE_IF_UNCLAIMED = """
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
redis.call('SET', KEYS[2], ARGV[1], 'EX', ARGV[2])
return 1
"""
