// SPDX-License-Identifier: MIT
// Optional nlohmann/json glue: `co_await req.json()` and `aster::json_response(value)`
// [responses.py].
#ifndef ASTER_JSON_HPP
#define ASTER_JSON_HPP

#include <aster/detail/config.hpp>

#ifdef ASTER_HAS_JSON
// Not in aster.hpp: nlohmann/json.hpp costs about a second of compile time per file.
#include <nlohmann/json.hpp>
#include <aster/request.hpp>
#include <aster/response.hpp>

namespace aster {
using json = nlohmann::json;
} // namespace aster
#endif

#endif // ASTER_JSON_HPP
