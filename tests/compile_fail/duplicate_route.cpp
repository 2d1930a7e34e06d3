// Two routes with the same pattern (up to parameter names) and a shared method.
// expect-error: duplicate route: two routes have the same pattern and share a method
#include <aster/routing.hpp>

aster::response a(aster::request&, std::int64_t) { return aster::plain_text("a"); }
aster::response b(aster::request&, std::int64_t) { return aster::plain_text("b"); }
constexpr auto table = aster::routes(aster::route<"/users/{id:int}">(a),
                                     aster::route<"/users/{user_id:int}">(b));
