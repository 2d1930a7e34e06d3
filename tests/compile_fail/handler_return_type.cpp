// A handler must return a response.
// expect-error: a handler must return aster::response or aster::task<aster::response>
#include <aster/routing.hpp>

int show(aster::request&) { return 1; }
constexpr auto table = aster::routes(aster::route<"/items">(show));
