// Reverse routing to a name no route has: the first error line names it and says what to do.
// expect-first-error: url_path_for_unknown_name
// expect-first-error: "users"
// expect-first-error: name_a_route_so_with_named_or_correct_the_spelling
#include <aster/aster.hpp>

aster::response show(aster::request&, std::int64_t) { return aster::plain_text("x"); }
constexpr aster::application app{
    aster::routes(aster::route<"/users/{id:int}">(show).named<"user">())};
std::string path() { return app.url_path_for<"users">(1); }
