-- end-attempt: ends an attempt: frees the tenant slot, takes the tool call's sequence number, and
-- moves the step from RUNNING to its new state. When that leaves no step open and every step
-- COMPLETED or SKIPPED (so the run cannot have failed), it also completes the run at the time
-- given (as set-meta does: status, outbox, deadline), saving the scheduler a round trip;
-- otherwise it returns the run's fields (what the scheduler reads next) when asked. The meta's
-- leading status and endedAt are rewritten as text: the rest (the run's input among it) is
-- neither sent by the caller nor decoded here. A meta not in that shape is left to the scheduler.
--
-- KEYS[1] run          the run's hash
-- KEYS[2] slots        the tenant's running-step leases
-- KEYS[3] outbox       ended runs awaiting their finalizer
-- KEYS[4] deadlines    run deadlines
-- ARGV[1] field        the step's field (step:<id>)
-- ARGV[2] json         the step's new state (stepJson)
-- ARGV[3] status       the new state's status
-- ARGV[4] slot         the attempt's slot member
-- ARGV[5] returnRun    when to return the run's fields: '1' when no step is left open, '2'
--                      always, '0' never
-- ARGV[6] completesAt  the run's end (ISO time) if this attempt may complete it, '' if not
-- ARGV[7] nowMs        now (epoch ms): when the completed run is due in the outbox
-- ARGV[8] id           the run's id
-- Returns {1, seq, steps still open, run completed (1|0), field/value pairs (without def)...}
-- when moved, else {0, seq, current status} ('GONE' without a run).
-- include: step-status
-- include: enter-outbox
local run, slots, outbox, deadlines = KEYS[1], KEYS[2], KEYS[3], KEYS[4]
local field, json, status, slot, returnRun, completesAt, nowMs, id = ARGV[1], ARGV[2], ARGV[3], ARGV[4], ARGV[5], ARGV[6], ARGV[7], ARGV[8]

redis.call('ZREM', slots, slot)
if redis.call('EXISTS', run) == 0 then return {0, 0, 'GONE'} end
local seq = redis.call('HINCRBY', run, 'seq', 1) - 1
local current = stepStatus(redis.call('HGET', run, field))
if current ~= 'RUNNING' then return {0, seq, current} end
redis.call('HSET', run, field, json)
local open = tonumber(redis.call('HGET', run, 'open') or '0')
if not isLive(status) then open = redis.call('HINCRBY', run, 'open', -1) end
local out = {1, seq, open, 0}
if open > 0 and returnRun ~= '2' then return out end
local all = redis.call('HGETALL', run)
if open <= 0 and completesAt ~= '' then
  local runStatus = redis.call('HGET', run, 'status')
  local clean = runStatus == 'RUNNING' or runStatus == 'PENDING'
  for i = 1, #all, 2 do
    if clean and string.sub(all[i], 1, 5) == 'step:' then
      local s = stepStatus(all[i + 1])
      if s ~= 'COMPLETED' and s ~= 'SKIPPED' then clean = false end
    end
  end
  local meta = redis.call('HGET', run, 'meta') or ''
  local _, head = string.find(meta, '^{"status":"%u+","endedAt":null')
  if clean and head then
    redis.call('HSET', run, 'meta', '{"status":"COMPLETED","endedAt":"' .. completesAt .. '"' .. string.sub(meta, head + 1), 'status', 'COMPLETED')
    enterOutbox(outbox, deadlines, nowMs, id)
    out[4] = 1
    return out
  end
end
if returnRun ~= '0' then
  for i = 1, #all, 2 do
    if all[i] ~= 'def' then
      out[#out + 1] = all[i]
      out[#out + 1] = all[i + 1]
    end
  end
end
return out
