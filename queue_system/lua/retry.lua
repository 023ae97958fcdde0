-- A failed attempt that has attempts left is tried again: ARG[1] lane,
-- [2] entry id, [3] id, [4] attempts made, [5] AttemptError bytes, [6] wait
-- before the next attempt (ms), [7] error text, [8] run ms. The job goes back
-- to its lane now, or to the delayed set until the wait is over. A job of a
-- group goes back to its group's line (first among its lane, by the place it
-- keeps) or its delayed part, and the group's slot passes on to the line's first job.
-- Returns 1, or 0 when this consumer no longer holds the job.
local lane, entry_id, id = tonumber(ARG[1]), ARG[2], ARG[3]
if not owned(lane, entry_id) then return 0 end
retire(lane, entry_id)
trim(lane)
local attempts, wait = tonumber(ARG[4]), tonumber(ARG[6])
local jk = JOB_PREFIX .. id
local g = redis.call('HGET', jk, F.group)
redis.call('HSET', jk, F.attempts_made, attempts, F.error_prefix .. attempts, ARG[5], F.attempt_deliveries, 0)
redis.call('HDEL', jk, F.entry_id)
local extra = {failedReason = ARG[7], retryDelay = duration_json(wait), duration = duration_json(tonumber(ARG[8]))}
make_waiting(id, lane, wait, g)
lifecycle('job_retried', id, waiting_state(lane, wait > 0), attempts, extra)
if g then group_leave(id, g) end
return 1
