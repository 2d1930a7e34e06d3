// An unclosed brace in a pattern is a compile error.
// expect-error: malformed pattern: unbalanced '{' or '}'
#include <aster/routing.hpp>

aster::response show(aster::request&, std::int64_t) { return aster::plain_text("x"); }
constexpr auto table = aster::routes(aster::route<"/items/{id:int">(show));
