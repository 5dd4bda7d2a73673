-- move-step: moves a step to a new state if its status is one of the allowed ones, and keeps the
-- run's count of open steps.
--
-- KEYS[1] run      the run's hash
-- ARGV[1] field    the step's field (step:<id>)
-- ARGV[2] allowed  statuses the step may move from (comma-separated)
-- ARGV[3] json     the step's new state (stepJson)
-- ARGV[4] status   the new state's status
-- Returns {1, steps still open} when moved, else {0, current status} ('GONE' without a run).
-- include: step-status
-- include: allowed-status
local run = KEYS[1]
local field, allowed, json, status = ARGV[1], ARGV[2], ARGV[3], ARGV[4]

if redis.call('EXISTS', run) == 0 then return {0, 'GONE'} end
local current = stepStatus(redis.call('HGET', run, field))
if not isAllowed(allowed, current) then return {0, current} end
redis.call('HSET', run, field, json)
local open = tonumber(redis.call('HGET', run, 'open') or '0')
if isLive(current) and not isLive(status) then open = redis.call('HINCRBY', run, 'open', -1) end
return {1, open}
