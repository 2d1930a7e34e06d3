// Two routes with one name: the first error line names it.
// expect-first-error: duplicate_route_name
// expect-first-error: "item"
// expect-first-error: give_each_route_a_name_of_its_own
#include <aster/aster.hpp>

aster::response a(aster::request&) { return aster::plain_text("a"); }
constexpr auto table = aster::routes(aster::route<"/a">(a).named<"item">(),
                                     aster::route<"/b">(a).named<"item">());
