"""Lua run inside Redis, so that each multi-key operation is atomic and one round trip.

The scripts touch keys derived from their arguments (a tag set's members), which Redis Cluster
does not allow; outpost targets a single Redis (or a primary with replicas).
"""

from __future__ import annotations

# KEYS[1]: the entry; KEYS[2..n]: its tag sets. ARGV[1]: value; ARGV[2]: time to live in ms.
# A tag set lives as long as its longest-lived member, so it never outlives what it indexes
# for long, and never expires before it.
CACHE_PUT = """
local ttl = tonumber(ARGV[2])
redis.call('SET', KEYS[1], ARGV[1], 'PX', ttl)
for i = 2, #KEYS do
  redis.call('SADD', KEYS[i], KEYS[1])
  if redis.call('PTTL', KEYS[i]) < ttl then
    redis.call('PEXPIRE', KEYS[i], ttl)
  end
end
return 1
"""

# KEYS: tag sets. Deletes every member of each set, then the set; returns how many members
# existed. DEL takes members in slices to stay within Lua's stack for large tags.
INVALIDATE_TAGS = """
local removed = 0
for i = 1, #KEYS do
  local members = redis.call('SMEMBERS', KEYS[i])
  for first = 1, #members, 500 do
    local last = math.min(first + 499, #members)
    removed = removed + redis.call('DEL', unpack(members, first, last))
  end
  redis.call('DEL', KEYS[i])
end
return removed
"""

# GCRA, the same integer arithmetic as origin.kv.gcra.decide, on the Redis server's clock so
# that every origin process agrees. KEYS[1]: the bucket's TAT (microseconds); KEYS[2..n+1]:
# values read in the same call (ARGV[3] = n; a request's cached answer, its session's revocation
# marker, its edge assertion's nonce: each saves a round trip); KEYS[n+2], if given: the bucket
# spent instead of KEYS[1] when a refusing read finds a value (a revoked session's or a replayed
# assertion's caller spends its address's budget).
# ARGV[1]: limit; ARGV[2]: emission interval in microseconds; ARGV[3+i]: for read i, a claim's
# time to live in ms (the key is set to '1' if it held nothing; 0: a plain read);
# ARGV[3+n+i]: 1 when a value found by read i refuses the caller.
# Returns {allowed (0/1), remaining, reset_after_us, retry_after_us, each value read or nil}.
RATE_LIMIT_HIT = """
local limit = tonumber(ARGV[1])
local interval = tonumber(ARGV[2])
local reads = tonumber(ARGV[3])
local values = {}
local refused = false
for i = 1, reads do
  local value = redis.call('GET', KEYS[1 + i])
  local claim_ms = tonumber(ARGV[3 + i])
  if not value and claim_ms > 0 then
    redis.call('SET', KEYS[1 + i], '1', 'PX', claim_ms)
  end
  if value and ARGV[3 + reads + i] == '1' then
    refused = true
  end
  values[i] = value
end
local bucket = KEYS[1]
if refused and KEYS[reads + 2] then
  bucket = KEYS[reads + 2]
end
local clock = redis.call('TIME')
local now = tonumber(clock[1]) * 1000000 + tonumber(clock[2])
local tat = tonumber(redis.call('GET', bucket) or '0')
if tat < now then
  tat = now
end
local new_tat = tat + interval
local allow_at = new_tat - interval * limit
if now < allow_at then
  return {0, 0, tat - now, allow_at - now, unpack(values)}
end
redis.call('SET', bucket, string.format('%d', new_tat), 'PX', math.ceil((new_tat - now) / 1000))
return {1, math.floor((now - allow_at) / interval), new_tat - now, 0, unpack(values)}
"""
