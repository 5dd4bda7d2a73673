-- claim-ended: takes up to `limit` due runs from the outbox and leases them until `leaseUntilMs`
-- (a finalizer that dies lets its lease run out, and another executor takes the run).
--
-- KEYS[1] outbox        ended runs awaiting their finalizer (sorted set, score: due ms)
-- ARGV[1] nowMs         now (epoch ms)
-- ARGV[2] leaseUntilMs  until when the claimed runs are leased (epoch ms)
-- ARGV[3] limit         at most this many runs
-- Returns the ids of the runs claimed.
local outbox = KEYS[1]
local nowMs, leaseUntilMs, limit = ARGV[1], ARGV[2], ARGV[3]

local ids = redis.call('ZRANGEBYSCORE', outbox, '-inf', nowMs, 'LIMIT', 0, tonumber(limit))
for _, id in ipairs(ids) do redis.call('ZADD', outbox, leaseUntilMs, id) end
return ids
