// An endpoint member whose parameters do not fit the pattern.
// expect-error: the handler's path parameters do not match the pattern's convertors
#include <aster/routing.hpp>

struct user : aster::http_endpoint {
    aster::task<aster::response> get(aster::request&, std::string_view);
};
constexpr auto table = aster::routes(aster::route<"/users/{id:int}", user>());
