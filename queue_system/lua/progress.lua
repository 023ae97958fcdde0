-- Record a running job's progress: ARG[1] id, [2] lane, [3] entry id, [4] percent.
-- Returns 0 when this consumer no longer holds the job.
if not owned(tonumber(ARG[2]), ARG[3]) then return 0 end
redis.call('HSET', JOB_PREFIX .. ARG[1], F.progress, ARG[4])
lifecycle('job_progress', ARG[1], 'JOB_STATE_ACTIVE', 0, {progress = tonumber(ARG[4])})
return 1
