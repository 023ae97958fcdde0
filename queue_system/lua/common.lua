-- Shared functions of every queue script. The constants they use (KEY,
-- LANE_KEYS, F, E, STAT, ARG, ...) come first in every script, rendered from
-- queue_system/keys.py.

local function now_ms()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end
local NOW = now_ms()

-- RFC 3339 UTC time of a millisecond epoch (days-from-civil, H. Hinnant).
local function iso(ms)
  local s = math.floor(ms / 1000)
  local days = math.floor(s / 86400)
  local rem = s - days * 86400
  local z = days + 719468
  local era = math.floor(z / 146097)
  local doe = z - era * 146097
  local yoe = math.floor((doe - math.floor(doe / 1460) + math.floor(doe / 36524) - math.floor(doe / 146096)) / 365)
  local y = yoe + era * 400
  local doy = doe - (365 * yoe + math.floor(yoe / 4) - math.floor(yoe / 100))
  local mp = math.floor((5 * doy + 2) / 153)
  local d = doy - math.floor((153 * mp + 2) / 5) + 1
  local m = mp < 10 and mp + 3 or mp - 9
  if m <= 2 then y = y + 1 end
  return string.format('%04d-%02d-%02dT%02d:%02d:%02d.%03dZ', y, m, d,
    math.floor(rem / 3600), math.floor(rem % 3600 / 60), rem % 60, ms % 1000)
end

local LIFECYCLE_TYPE = 'type.googleapis.com/jobmesh.events.v1.JobLifecycle'
local DEAD_TYPE = 'type.googleapis.com/jobmesh.events.v1.JobDeadLettered'
local CONTROL_TYPE = 'type.googleapis.com/jobmesh.events.v1.QueueControl'

-- Publish one event: an entry in the queue's capped event stream (what
-- watchers resume from: service, event name and data; the entry id holds the
-- time and the event name implies the data's type) and, when anyone listens,
-- proto3 JSON of a jobmesh.events.v1.Event on the queue's seed channel.
-- `payload` is the JSON object of the event's data, without its "@type". A script
-- emitting many events passes `untrimmed` and trims the stream once at its end (trim_events).
-- (What only a published event needs is made once someone listens: most scripts publish nothing.)
local listeners, SERVICE_JSON, NOW_ISO = nil, nil, nil
local function emit_json(name, payload, type_url, untrimmed)
  if untrimmed then
    redis.call('XADD', KEY.events, '*', E.event_service, SERVICE, E.event_name, name, E.event_data, payload)
  else
    redis.call('XADD', KEY.events, 'MAXLEN', '~', EVENTS_MAXLEN, '*',
      E.event_service, SERVICE, E.event_name, name, E.event_data, payload)
  end
  if listeners == nil then
    listeners = redis.call('PUBSUB', 'NUMSUB', CHANNEL)[2] > 0
    if listeners then SERVICE_JSON, NOW_ISO = cjson.encode(SERVICE), iso(NOW) end
  end
  if listeners then
    redis.call('PUBLISH', CHANNEL, '{"service":' .. SERVICE_JSON .. ',"event":"' .. name ..
      '","data":{"@type":"' .. type_url .. '",' .. string.sub(payload, 2) .. ',"timestamp":"' .. NOW_ISO .. '"}')
  end
end

local function trim_events()
  redis.call('XTRIM', KEY.events, 'MAXLEN', '~', EVENTS_MAXLEN)
end

local function emit(name, data, type_url)
  emit_json(name, cjson.encode(data), type_url)
end

-- A JSON string literal; job ids are almost always plain, so skip the encoder then.
local function json_string(s)
  if string.find(s, '[%c"\\\128-\255]') then return cjson.encode(s) end
  return '"' .. s .. '"'
end

-- The JobLifecycle events every job emits (added, active, completed, ...),
-- built as strings: they are the hot path of every queue.
local LIFECYCLE_HEAD = '{"queue":' .. cjson.encode(QUEUE) .. ',"jobId":'
local WORKER_TAIL = CONSUMER ~= '' and (',"worker":' .. cjson.encode(CONSUMER) .. '}') or '}'
local function lifecycle(name, id, state, attempt, extra)
  local body = LIFECYCLE_HEAD .. json_string(id) .. ',"state":"' .. state .. '"'
  if attempt and attempt > 0 then body = body .. ',"attempt":' .. attempt end
  if type(extra) == 'string' then  -- a ready JSON fragment (hot paths)
    body = body .. extra
  elseif extra then
    local more = cjson.encode(extra)
    if more ~= '{}' then body = body .. ',' .. string.sub(more, 2, -2) end
  end
  emit_json(name, body .. WORKER_TAIL, LIFECYCLE_TYPE)
end

local function duration_json(ms)
  return string.format('%.3fs', ms / 1000)
end

-- A number field of a job hash (0 when unset).
local function count(jk, field)
  return tonumber(redis.call('HGET', jk, field)) or 0
end

-- Consumer groups exist before the first job is sent, and again after a
-- Redis that kept nothing restarts: every script that reads or writes a lane
-- makes sure of it.
local function ensure_groups()
  for lane = 1, LANES do
    if redis.call('EXISTS', LANE_KEYS[lane]) == 0 then
      redis.call('XGROUP', 'CREATE', LANE_KEYS[lane], WORKER_GROUP, '0', 'MKSTREAM')
    end
  end
end

-- True when entry `entry_id` of lane `lane` is pending and held by this consumer.
local function owned(lane, entry_id)
  local p = redis.call('XPENDING', LANE_KEYS[lane], WORKER_GROUP, entry_id, entry_id, 1)
  return p[1] ~= nil and p[1][2] == CONSUMER
end

-- Acknowledge a finished entry. Acknowledged entries are not deleted one by
-- one (XDEL costs more than the rest of a job's bookkeeping); trim() drops
-- them in bulk, and ready jobs are counted in KEY.ready, not by XLEN.
local function retire(lane, entry_id)
  redis.call('XACK', LANE_KEYS[lane], WORKER_GROUP, entry_id)
end

-- The consumer group's last delivered entry id of a lane ('0-0' before the
-- first read): entries after it are the ready jobs.
local function last_delivered(key)
  for _, g in ipairs(redis.call('XINFO', 'GROUPS', key)) do
    if g[2] == WORKER_GROUP then
      for i = 1, #g, 2 do
        if g[i] == 'last-delivered-id' then return g[i + 1] end
      end
    end
  end
  return '0-0'
end

-- Drop acknowledged entries from the head of a lane: everything before the
-- oldest entry still held by a worker, or, when none is held, everything up
-- to the last one delivered. Nothing held or ready is ever trimmed.
local function trim(lane)
  local key = LANE_KEYS[lane]
  local p = redis.call('XPENDING', key, WORKER_GROUP)
  local threshold = p[2]
  if not threshold then
    local ms, seq = string.match(last_delivered(key), '^(%d+)-(%d+)$')
    threshold = ms .. '-' .. (tonumber(seq) + 1)
  end
  if threshold and threshold ~= '0-1' then
    redis.call('XTRIM', key, 'MINID', '~', threshold)
  end
end

-- Put a job id into its lane (ready now); returns the entry id.
local function make_ready(id, lane)
  local entry_id = redis.call('XADD', LANE_KEYS[lane], '*', E.lane_job, id)
  redis.call('HSET', JOB_PREFIX .. id, F.entry_id, entry_id)
  redis.call('HINCRBY', KEY.ready, lane, 1)
  return entry_id
end

-- Hold a job until `due` (ms epoch). Jobs due in the same millisecond start
-- in the order they were delayed (F.order), not in the text order of their ids.
local function make_delayed(id, due)
  redis.call('HSET', JOB_PREFIX .. id, F.due_at, due, F.order, redis.call('INCR', KEY.add_order))
  redis.call('ZADD', KEY.delayed, due, id)
end

-- Groups (JobOptions.group_key). At most one job of a group is in a lane (ready or running) at
-- a time: the holder of the group's slot (KEY.groups). The group's other due jobs wait in its
-- line (GROUP_PREFIX .. group, each also in KEY.grouped), lane first, then in the order they
-- joined (F.group_seq); its delayed jobs wait in the line too, scored from
-- GROUP_DELAYED_SCORE, until promote.lua finds them due. Only the slot holder is ever in a
-- lane, so fetch.lua needs no change and a busy group holds back no other job. The slot
-- belongs to the job, not to a worker: a job taken over from a dead worker keeps it, and it
-- passes on only when its holder leaves its lane for good (completed, dead-lettered, retried,
-- removed, superseded).

-- A score as Redis must read it: tostring() would round a 16-digit number.
local function score_text(n)
  return string.format('%.0f', n)
end

-- Give a grouped job its place in its group's line: the queue's add counter now.
local function join_group(jk, g)
  redis.call('HSET', jk, F.group, g, F.group_seq, redis.call('INCR', KEY.add_order))
end

-- A due job of group `g`: into its lane when the group's slot is free (it takes the slot),
-- else into the group's line.
local function group_admit(id, g, lane)
  local gk = GROUP_PREFIX .. g
  if redis.call('HSETNX', KEY.groups, g, id) == 1 then
    redis.call('ZREM', gk, id)  -- it may have waited there delayed
    make_ready(id, lane)
  else
    local score = score_text(lane * GROUP_LANE_SPAN + count(JOB_PREFIX .. id, F.group_seq))
    redis.call('ZADD', gk, score, id)
    redis.call('ZADD', KEY.grouped, score, id)
  end
end

-- A delayed job of group `g` waits in the delayed part of the line (where a superseding add finds it).
local function group_delay(id, g)
  local score = score_text(GROUP_DELAYED_SCORE + count(JOB_PREFIX .. id, F.group_seq))
  redis.call('ZADD', GROUP_PREFIX .. g, score, id)
end

-- Take a job out of its group's line, wherever in it it waits.
local function group_drop(id, g)
  redis.call('ZREM', GROUP_PREFIX .. g, id)
  redis.call('ZREM', KEY.grouped, id)
end

-- The slot of group `g` is free: the first due job of its line takes it and goes to its lane;
-- with none, the slot is gone (the next job of the group to come takes it).
local function group_pass(g)
  local gk = GROUP_PREFIX .. g
  while true do
    local head = redis.call('ZRANGE', gk, 0, 0, 'WITHSCORES')
    if not head[1] or tonumber(head[2]) >= GROUP_DELAYED_SCORE then
      redis.call('HDEL', KEY.groups, g)
      return
    end
    local id = head[1]
    group_drop(id, g)
    local lane = tonumber(redis.call('HGET', JOB_PREFIX .. id, F.lane))
    if lane then  -- (a record deleted by hand is skipped)
      redis.call('HSET', KEY.groups, g, id)
      ensure_groups()
      make_ready(id, lane)
      lifecycle('job_waiting', id, READY_STATE[lane], 0)
      return
    end
  end
end

-- Job `id` left its lane for good: when it holds its group's slot, the slot passes on.
local function group_leave(id, g)
  if g and redis.call('HGET', KEY.groups, g) == id then group_pass(g) end
end

-- Put a job back to wait for its turn: in its lane now (or, in group `g`, its line when another
-- job holds the slot), or delayed `delay` ms. A retried job still holds its slot here, so it
-- joins the line, and its caller lets the slot pass on to the line's first job.
local function make_waiting(id, lane, delay, g)
  if delay > 0 then
    make_delayed(id, NOW + delay)
    if g then group_delay(id, g) end
  else
    ensure_groups()
    if g then group_admit(id, g, lane) else make_ready(id, lane) end
  end
end

-- A job's state name once it is ready in `lane` or delayed (`delayed` true).
local function waiting_state(lane, delayed)
  if delayed then return 'JOB_STATE_DELAYED' end
  return READY_STATE[lane]
end

-- Start a new series of attempts on a finished job that an operator puts back:
-- its history (attempts made, deliveries, every error and redelivery) stays,
-- and the job's attempt budget counts again from here.
local function start_series(jk)
  redis.call('HSET', jk, F.series_start, count(jk, F.attempts_made), F.attempt_deliveries, 0,
    F.redrives, count(jk, F.redrives) + 1)
  redis.call('HDEL', jk, F.finished_at, F.failed_reason, F.dead_letter_reason, F.result, F.progress, F.entry_id)
end

-- Keep or drop a finished job per its retention (mode 1 = remove at once;
-- mode 0 = keep, bounded by count and/or age when they are > 0).
local function retain(set_key, id, mode, keep_count, age_ms)
  if mode == 1 then
    redis.call('DEL', JOB_PREFIX .. id)
    return
  end
  redis.call('ZADD', set_key, NOW, id)
  if age_ms > 0 then
    local old = redis.call('ZRANGEBYSCORE', set_key, '-inf', NOW - age_ms, 'LIMIT', 0, 1000)
    for _, oid in ipairs(old) do
      redis.call('DEL', JOB_PREFIX .. oid)
      redis.call('ZREM', set_key, oid)
    end
  end
  if keep_count > 0 then
    local extra = redis.call('ZCARD', set_key) - keep_count
    if extra > 0 then
      local old = redis.call('ZRANGE', set_key, 0, extra - 1)
      for _, oid in ipairs(old) do redis.call('DEL', JOB_PREFIX .. oid) end
      redis.call('ZREMRANGEBYRANK', set_key, 0, extra - 1)
    end
  end
end

-- Keep job `id` of group `g`, which had not started, as superseded by job `by`: its record stays
-- readable (JOB_STATE_SUPERSEDED, naming `by`) within SUPERSEDED_KEEP / SUPERSEDED_AGE_MS.
local function mark_superseded(id, by, g)
  local jk = JOB_PREFIX .. id
  redis.call('HSET', jk, F.superseded_by, by, F.finished_at, NOW)
  redis.call('HDEL', jk, F.entry_id, F.due_at, F.order)
  retain(KEY.superseded, id, 0, SUPERSEDED_KEEP, SUPERSEDED_AGE_MS)
  lifecycle('job_superseded', id, 'JOB_STATE_SUPERSEDED', 0,
    {failedReason = 'superseded by job ' .. by .. ' of group ' .. g .. ' before it started'})
end

-- Job `by` supersedes every job of group `g` that has not started: its line (due and
-- delayed jobs, retries waiting out their backoff) and its slot holder while that is still
-- ready in its lane, not yet handed to a worker. A running job is never touched.
local function supersede(g, by)
  local gk = GROUP_PREFIX .. g
  for _, id in ipairs(redis.call('ZRANGE', gk, 0, -1)) do
    redis.call('ZREM', KEY.delayed, id)
    redis.call('ZREM', KEY.grouped, id)
    if redis.call('EXISTS', JOB_PREFIX .. id) == 1 then  -- (a record deleted by hand is only forgotten)
      mark_superseded(id, by, g)
    end
  end
  redis.call('DEL', gk)
  local holder = redis.call('HGET', KEY.groups, g)
  if holder then
    local h = redis.call('HMGET', JOB_PREFIX .. holder, F.entry_id, F.lane)
    local lane = tonumber(h[2])
    if h[1] and lane and not redis.call('XPENDING', LANE_KEYS[lane], WORKER_GROUP, h[1], h[1], 1)[1] then
      if redis.call('XDEL', LANE_KEYS[lane], h[1]) == 1 then redis.call('HINCRBY', KEY.ready, lane, -1) end
      redis.call('HDEL', KEY.groups, g)
      mark_superseded(holder, by, g)
    end
  end
end
