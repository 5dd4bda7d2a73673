-- set-meta: sets the run's meta (and status) if its status is one of the allowed ones; with
-- ended = '1' the run also enters the outbox and leaves the deadline list.
--
-- KEYS[1] run        the run's hash
-- KEYS[2] outbox     ended runs awaiting their finalizer (sorted set, score: due ms)
-- KEYS[3] deadlines  run deadlines
-- ARGV[1] allowed    statuses the run may move from (comma-separated)
-- ARGV[2] meta       the new meta (metaJson)
-- ARGV[3] status     the new meta's status
-- ARGV[4] nowMs      now (epoch ms): when the ended run is due in the outbox
-- ARGV[5] ended      '1': the run has ended (outbox, deadline); '0': only the meta changes
-- ARGV[6] id         the run's id
-- Returns 1 when set, else the current status ('GONE' without a run).
-- include: allowed-status
-- include: enter-outbox
local run, outbox, deadlines = KEYS[1], KEYS[2], KEYS[3]
local allowed, meta, status, nowMs, ended, id = ARGV[1], ARGV[2], ARGV[3], ARGV[4], ARGV[5], ARGV[6]

if redis.call('EXISTS', run) == 0 then return 'GONE' end
local current = redis.call('HGET', run, 'status') or 'PENDING'
if not isAllowed(allowed, current) then return current end
redis.call('HSET', run, 'meta', meta, 'status', status)
if ended == '1' then enterOutbox(outbox, deadlines, nowMs, id) end
return 1
