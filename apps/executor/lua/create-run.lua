-- create-run: writes a new run, claiming its idempotency key (if any), its hash, its deadline and
-- the tenant's live-run entry, all or nothing, so a key never points to a run that was not written.
--
-- KEYS[1] run          the run's hash
-- KEYS[2] deadlines    run deadlines (sorted set, score: deadline ms)
-- KEYS[3] live         the tenant's runs not yet retired (sorted set, score: created ms)
-- KEYS[4] idempotency  the idempotency key (unused when keyTtlS is 0)
-- ARGV[1] id           the run's id
-- ARGV[2] keyTtlS      how long the idempotency key is held, in s ('0': no key)
-- ARGV[3] deadlineMs   when the run times out (epoch ms)
-- ARGV[4] createdMs    when the run was created (epoch ms)
-- ARGV[5..] fields     the hash's field/value pairs
-- Returns {1} when written, or {0, id of the run holding the key}.
local run, deadlines, live, idempotency = KEYS[1], KEYS[2], KEYS[3], KEYS[4]
local id, keyTtlS, deadlineMs, createdMs = ARGV[1], ARGV[2], ARGV[3], ARGV[4]
local FIELDS = 5

if keyTtlS ~= '0' then
  if not redis.call('SET', idempotency, id, 'EX', keyTtlS, 'NX') then
    return {0, redis.call('GET', idempotency)}
  end
end
for i = FIELDS, #ARGV, 2 do redis.call('HSET', run, ARGV[i], ARGV[i + 1]) end
redis.call('ZADD', deadlines, deadlineMs, id)
redis.call('ZADD', live, createdMs, id)
return {1}
