// A convertor that does not exist is a compile error naming the valid ones.
// expect-error: unknown convertor in pattern; use str, int, float, uuid or path
#include <aster/routing.hpp>

aster::response show(aster::request&, std::int64_t) { return aster::plain_text("x"); }
constexpr auto table = aster::routes(aster::route<"/items/{id:integer}">(show));
