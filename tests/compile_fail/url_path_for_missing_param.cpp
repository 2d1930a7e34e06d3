// Reverse routing without the route's parameter.
// expect-error: give exactly one value per path parameter
#include <aster/application.hpp>

aster::response show(aster::request&, std::int64_t) { return aster::plain_text("x"); }
constexpr aster::application app{
    aster::routes(aster::route<"/users/{id:int}">(show).named<"user">())};
std::string path() { return app.url_path_for<"user">(); }
