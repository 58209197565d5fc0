"""The outbox's Lua scripts: queuing notices, claiming them under a lease, finishing them.

ENQUEUE_FN is the one definition of queuing; the incident scripts (incident_scripts.py)
embed it so a state change and the notices it causes commit as one step. Keys derived
inside a script are built from the outbox prefix passed in ARGV; a Redis Cluster deployment
would need them all under one hash tag (see README: Storage).
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

# A person's page DMs must wait for the pace: move those queued and due before ARGV[1] to
# the pace's turns, oldest first: ARGV[4] to ARGV[1], then ARGV[3] (one DM's worth) to each
# turn after it, one every ARGV[2] seconds, so that whichever replica claims a turn's share
# sends it as one DM. Moving them all to the first turn made every later turn claim the
# whole backlog again and put back all but one DM's worth: quadratic in a storm (issue #14).
# KEYS: fold set, page lane queue. ARGV: the time the first may go, seconds between turns,
# notices per turn, notices in the first turn (the caller's own DM takes room in it).
# Returns the ids moved, oldest first (bot/slack/dm_turns.py places them the same way).
GATHER_FOLD = """
local at, step, per = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
local first = tonumber(ARGV[4])
local due = {}
for _, id in ipairs(redis.call('SMEMBERS', KEYS[1])) do
  local score = redis.call('ZSCORE', KEYS[2], id)
  if score and tonumber(score) < at then
    table.insert(due, {tonumber(score), id})
  end
end
table.sort(due, function(a, b) return a[1] < b[1] or (a[1] == b[1] and a[2] < b[2]) end)
local moved = {}
for i, row in ipairs(due) do
  local turn = at
  if i > first then turn = at + (math.floor((i - first - 1) / per) + 1) * step end
  redis.call('ZADD', KEYS[2], string.format('%.6f', turn), row[2])
  moved[i] = row[2]
end
return moved
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
