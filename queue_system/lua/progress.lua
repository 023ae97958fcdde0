-- Record a running job's progress: ARGV[8] id, [9] lane, [10] sid, [11] percent.
-- Returns 0 when this consumer no longer holds the job.
if not owned(tonumber(ARGV[9]), ARGV[10]) then return 0 end
redis.call('HSET', JP .. ARGV[8], 'prog', ARGV[11])
lifecycle('job_progress', ARGV[8], 'JOB_STATE_ACTIVE', 0, {progress = tonumber(ARGV[11])})
return 1
