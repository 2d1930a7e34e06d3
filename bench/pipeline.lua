-- wrk script: every write carries `depth` GET requests for wrk's path (16 unless given after
-- `--`), so the server sees pipelined batches and wrk counts one request per response.
-- wrk -t1 -c50 -d5s -s bench/pipeline.lua http://127.0.0.1:8001/plaintext -- 16
local depth = 16
local batch

function init(args)
    depth = tonumber(args[1]) or depth
    batch = string.rep(wrk.format("GET", wrk.path), depth)
end

function request()
    return batch
end
