// The handler forgets the path parameter.
// expect-error: it takes a different number of them
#include <aster/routing.hpp>

aster::response show(aster::request&) { return aster::plain_text("x"); }
constexpr auto table = aster::routes(aster::route<"/items/{id:int}">(show));
