// SPDX-License-Identifier: MIT
// The founding example: GET /hello answers "Hello, World!" through a class-based endpoint.
#pragma once

#include <aster/aster.hpp>

namespace hello {

struct HelloEndpoint : aster::http_endpoint {
    aster::task<aster::response> get(aster::request&) {
        co_return aster::plain_text("Hello, World!");
    }
};

inline constexpr auto routes = aster::routes(aster::route<"/hello", HelloEndpoint>());

inline const aster::application app{routes};

} // namespace hello
