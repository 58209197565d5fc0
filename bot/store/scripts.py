"""The Lua scripts of the stores with one each: pacing, suppressions, checklists, handover.

Redis runs a script atomically, which is how a check and the write it allows commit as one
step across replicas. The outbox's scripts are in outbox_scripts.py, the incidents' in
incident_scripts.py. Keys derived inside a script are built from prefixes passed in ARGV; a
Redis Cluster deployment would need them all under one hash tag (see README: Storage).
"""

from __future__ import annotations

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
