-- allowed-status: the guard of every transition: a step or a run moves only from one of the
-- statuses its caller allows, so two executors never both make the same move.
--
-- isAllowed(list, status)  whether status is in list (comma-separated, e.g. 'PENDING,QUEUED')
local function isAllowed(list, status)
  for allowed in string.gmatch(list, '[^,]+') do
    if allowed == status then return true end
  end
  return false
end
