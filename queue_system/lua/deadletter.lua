-- A job leaves its queue for the dead-letter stream: ARG[1] lane, [2] entry
-- id, [3] id, [4] attempts made, [5] AttemptError bytes (may be empty),
-- [6] FailedJob bytes, [7] DeadLetterReason name, [8] why, as a sentence,
-- [9] deliveries, [10] retention mode, [11] keep count, [12] keep age ms.
-- The FailedJob is written before the entry is acknowledged, in one script:
-- a dead letter is never lost between the two. A job of a group passes the
-- group's slot on. Returns 1, or 0 when this consumer no longer holds the job.
local lane, entry_id, id = tonumber(ARG[1]), ARG[2], ARG[3]
if not owned(lane, entry_id) then return 0 end
if redis.call('EXISTS', KEY.dead_letters) == 0 then
  redis.call('XGROUP', 'CREATE', KEY.dead_letters, DEAD_LETTER_GROUP, '0', 'MKSTREAM')
end
redis.call('XADD', KEY.dead_letters, '*', E.dead_job_id, id, E.dead_record, ARG[6])
retire(lane, entry_id)
trim(lane)
local attempts = tonumber(ARG[4])
local jk = JOB_PREFIX .. id
local g = redis.call('HGET', jk, F.group)
if redis.call('EXISTS', jk) == 1 then
  redis.call('HSET', jk, F.attempts_made, attempts, F.finished_at, NOW, F.failed_reason, ARG[8],
    F.dead_letter_reason, ARG[7])
  if ARG[5] ~= '' then redis.call('HSET', jk, F.error_prefix .. attempts, ARG[5]) end
  redis.call('HDEL', jk, F.entry_id)
end
retain(KEY.failed, id, tonumber(ARG[10]), tonumber(ARG[11]), tonumber(ARG[12]))
redis.call('HINCRBY', KEY.stats, STAT.dead_lettered, 1)
lifecycle('job_failed', id, 'JOB_STATE_FAILED', attempts, {failedReason = ARG[8]})
emit('job_dead_lettered', {queue = QUEUE, jobId = id, reason = ARG[7], detail = ARG[8],
  attempts = attempts, deliveries = tonumber(ARG[9])}, DEAD_TYPE)
if g then group_leave(id, g) end
return 1
