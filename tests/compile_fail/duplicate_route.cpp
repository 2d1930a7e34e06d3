// Two routes with the same pattern (up to parameter names) and a shared method: the first error
// line names both patterns and says what to do.
// expect-first-error: duplicate_route
// expect-first-error: give_one_of_them_another_pattern_or_other_methods
// expect-first-error: "/users/{id:int}"
// expect-first-error: "/users/{user_id:int}"
#include <aster/aster.hpp>

aster::response a(aster::request&, std::int64_t) { return aster::plain_text("a"); }
aster::response b(aster::request&, std::int64_t) { return aster::plain_text("b"); }
constexpr auto table = aster::routes(aster::route<"/users/{id:int}">(a),
                                     aster::route<"/users/{user_id:int}">(b));
