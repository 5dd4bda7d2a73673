-- end-run-settling: ends a live run and cancels its live steps in one atomic step, so nobody ever
-- sees an ended run with a step still RUNNING (cancel, run timeout). Otherwise as set-meta with
-- ended = '1'. A live step's state holds no user data, so it is decoded and re-encoded here.
--
-- KEYS[1] run        the run's hash
-- KEYS[2] outbox     ended runs awaiting their finalizer
-- KEYS[3] deadlines  run deadlines
-- ARGV[1] allowed    statuses the run may move from (comma-separated)
-- ARGV[2] meta       the new meta (metaJson)
-- ARGV[3] status     the new meta's status
-- ARGV[4] nowMs      the run's end (epoch ms), also when it is due in the outbox
-- ARGV[5] id         the run's id
-- ARGV[6] nowIso     the run's end (ISO time): the cancelled steps' endedAt
-- ARGV[7] reason     why the steps are cancelled
-- ARGV[8..] steps    pairs (step id, duration ms as the caller computed it from the start it
--                    read, or '' when the step had not started)
-- Returns {1, (step id, previous status, new JSON)...} for the steps cancelled, or
-- {0, current status} ('GONE' without a run).
-- include: step-status
-- include: allowed-status
-- include: enter-outbox
local run, outbox, deadlines = KEYS[1], KEYS[2], KEYS[3]
local allowed, meta, status, nowMs, id, nowIso, reason = ARGV[1], ARGV[2], ARGV[3], ARGV[4], ARGV[5], ARGV[6], ARGV[7]
local STEPS = 8

if redis.call('EXISTS', run) == 0 then return {0, 'GONE'} end
local current = redis.call('HGET', run, 'status') or 'PENDING'
if not isAllowed(allowed, current) then return {0, current} end
redis.call('HSET', run, 'meta', meta, 'status', status)
enterOutbox(outbox, deadlines, nowMs, id)
local out = {1}
for i = STEPS, #ARGV, 2 do
  local field = 'step:' .. ARGV[i]
  local raw = redis.call('HGET', run, field)
  local s = stepStatus(raw)
  if isLive(s) then
    local st
    if raw then st = cjson.decode(raw) else st = {attempts = 0, startedAt = cjson.null} end
    st['status'] = nil
    st['owner'] = nil
    st['endedAt'] = nowIso
    st['reason'] = reason
    if ARGV[i + 1] ~= '' then
      st['durationMs'] = tonumber(ARGV[i + 1])
    elseif st['startedAt'] ~= nil and st['startedAt'] ~= cjson.null then
      st['durationMs'] = 0
    else
      st['durationMs'] = cjson.null
    end
    local json = '{"status":"CANCELLED",' .. string.sub(cjson.encode(st), 2)
    redis.call('HSET', run, field, json)
    out[#out + 1] = ARGV[i]
    out[#out + 1] = s
    out[#out + 1] = json
  end
end
redis.call('HSET', run, 'open', 0)
return out
