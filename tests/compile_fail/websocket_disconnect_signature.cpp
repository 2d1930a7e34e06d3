// on_disconnect without its close code: aster would never call it, so it must not compile.
// expect-first-error: on_disconnect must take (aster::websocket&, aster::close_code)
#include <aster/routing.hpp>

#include <string_view>

struct room : aster::websocket_endpoint {
    aster::task<> on_receive(aster::websocket& ws, std::string_view message);
    void on_disconnect(aster::websocket& ws);
};
constexpr auto table = aster::routes(aster::websocket_route<"/ws", room>());
