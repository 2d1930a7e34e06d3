// The handler takes a string where the pattern converts an int.
// expect-error: the handler's path parameters do not match the pattern's convertors
#include <aster/routing.hpp>

aster::response show(aster::request&, double) { return aster::plain_text("x"); }
constexpr auto table = aster::routes(aster::route<"/items/{id:int}">(show));
