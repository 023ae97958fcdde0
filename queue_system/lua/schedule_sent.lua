-- Note that the jobs of a fired slot were all sent: `sent` only ever moves forward, so a late
-- note about an older slot never makes a newer one look unsent.
-- KEYS: [1] the schedule's hash. ARGV: [1] the sent field, [2] the slot (ms).
local sent = tonumber(redis.call('HGET', KEYS[1], ARGV[1]) or '0')
if sent < tonumber(ARGV[2]) then redis.call('HSET', KEYS[1], ARGV[1], ARGV[2]) end
return 1
