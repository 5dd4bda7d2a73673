-- step-status: a step's status read from its stored JSON without decoding it (a step state
-- always starts with {"status":"...", see stepJson in src/runs/run-store.ts), so a script never
-- pays for decoding a possibly large result.
--
-- stepStatus(json)  the status; 'PENDING' for a step without a field (or one not in that shape)
-- isLive(status)    whether the step can still run (PENDING, QUEUED or RUNNING)
local function stepStatus(json)
  if not json then return 'PENDING' end
  return string.match(json, '^{"status":"(%u+)"') or 'PENDING'
end
local function isLive(s) return s == 'PENDING' or s == 'QUEUED' or s == 'RUNNING' end
