-- begin-attempt: starts an attempt of a step in one round trip. The run must be live and the step
-- QUEUED or RUNNING (a redelivered attempt), the tenant must have a free slot (slots are leases:
-- sorted-set scores are expiry times, so a slot held by a dead executor frees itself); then the
-- step becomes RUNNING (attempts + 1, first start kept, last error dropped) and records which
-- executor runs it. A step RUNNING on another executor that is still alive (its heartbeat key
-- exists) is HELD: its job came back because that executor's job lock lapsed, not because the
-- attempt stopped, and running it here too would call the tool twice.
--
-- KEYS[1] run              the run's hash
-- KEYS[2] slots            the tenant's running-step leases (sorted set, score: expiry ms)
-- ARGV[1] field            the step's field (step:<id>)
-- ARGV[2] nowMs            now (epoch ms)
-- ARGV[3] nowIso           now (ISO time): the step's start if it has none yet
-- ARGV[4] leaseUntilMs     when this attempt's slot expires (epoch ms)
-- ARGV[5] limit            the tenant's running-step limit
-- ARGV[6] slot             this attempt's slot member (its job id)
-- ARGV[7] wantMeta         '1' to return the run's meta too
-- ARGV[8] executorId       this executor (the step's owner while it runs here)
-- ARGV[9] heartbeatPrefix  the heartbeat key of an executor is this prefix and its id
-- ARGV[10..] reads         ids of other steps whose states to return (those it reads)
-- Returns {'OK', step JSON, meta or false, attempt kind ('first'|'retry'|'takeover'), reads...},
-- {'GONE'}, {'ENDED', run status}, {'STATE', step status}, {'BUSY'} or
-- {'HELD', ms the holder's heartbeat has left}.
-- include: step-status
local run, slots = KEYS[1], KEYS[2]
local field, nowMs, nowIso, leaseUntilMs, limit, slot, wantMeta, executorId, heartbeatPrefix =
  ARGV[1], ARGV[2], ARGV[3], ARGV[4], ARGV[5], ARGV[6], ARGV[7], ARGV[8], ARGV[9]
local READS = 10

if redis.call('EXISTS', run) == 0 then return {'GONE'} end
local runStatus = redis.call('HGET', run, 'status')
if runStatus ~= 'RUNNING' and runStatus ~= 'PENDING' then return {'ENDED', runStatus or 'UNKNOWN'} end
local raw = redis.call('HGET', run, field)
local status = stepStatus(raw)
if status ~= 'QUEUED' and status ~= 'RUNNING' then return {'STATE', status} end
-- A QUEUED or RUNNING state holds no user data (no result), so decoding it is cheap and exact.
local st = cjson.decode(raw)
local owner = st['owner']
if status == 'RUNNING' and type(owner) == 'string' and owner ~= executorId then
  local left = redis.call('PTTL', heartbeatPrefix .. owner)
  if left > 0 then return {'HELD', left} end
end
-- QUEUED: the step's first attempt. RUNNING without an owner: an attempt failed and the step
-- waits for its retry. RUNNING with an owner: that attempt never ended (its executor died).
local kind = 'first'
if status == 'RUNNING' then
  if type(owner) == 'string' then kind = 'takeover' else kind = 'retry' end
end
redis.call('ZREMRANGEBYSCORE', slots, '-inf', nowMs)
if not redis.call('ZSCORE', slots, slot) and redis.call('ZCARD', slots) >= tonumber(limit) then return {'BUSY'} end
redis.call('ZADD', slots, leaseUntilMs, slot)
redis.call('PEXPIRE', slots, math.max(1, tonumber(leaseUntilMs) - tonumber(nowMs)))
st['status'] = nil
st['error'] = nil
st['owner'] = executorId
st['attempts'] = (tonumber(st['attempts']) or 0) + 1
if st['startedAt'] == nil or st['startedAt'] == cjson.null then st['startedAt'] = nowIso end
local json = '{"status":"RUNNING",' .. string.sub(cjson.encode(st), 2)
redis.call('HSET', run, field, json)
local out = {'OK', json, false, kind}
if wantMeta == '1' then out[3] = redis.call('HGET', run, 'meta') end
for i = READS, #ARGV do out[#out + 1] = redis.call('HGET', run, 'step:' .. ARGV[i]) or false end
return out
