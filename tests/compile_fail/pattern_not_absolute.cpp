// A pattern must start with '/'.
// expect-error: a pattern must start with '/'
#include <aster/routing.hpp>

aster::response show(aster::request&) { return aster::plain_text("x"); }
constexpr auto table = aster::routes(aster::route<"items">(show));
