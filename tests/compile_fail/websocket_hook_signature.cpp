// A WebSocket hook aster would never call (a path parameter in on_connect): it must not compile,
// where it once compiled, was skipped, and the test timed out at run time.
// expect-first-error: on_connect must take (aster::websocket&) and nothing else
#include <aster/routing.hpp>

#include <string_view>

struct room : aster::websocket_endpoint {
    aster::task<> on_connect(aster::websocket& ws, std::string_view name);
    aster::task<> on_receive(aster::websocket& ws, std::string_view message);
};
constexpr auto table = aster::routes(aster::websocket_route<"/ws/{name}", room>());
