-- enter-outbox: an ended run enters the outbox (its end is then handled by some executor's
-- RunFinalizer, even if the one that ended it dies right after) and leaves the deadline list,
-- in the same script that ends it.
--
-- enterOutbox(outbox, deadlines, nowMs, id)
local function enterOutbox(outbox, deadlines, nowMs, id)
  redis.call('ZADD', outbox, nowMs, id)
  redis.call('ZREM', deadlines, id)
end
