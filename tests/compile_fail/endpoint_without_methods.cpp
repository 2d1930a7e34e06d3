// An endpoint class with no method members.
// expect-error: define at least one of get, head, post, put, patch, delete_, options
#include <aster/routing.hpp>

struct empty_endpoint : aster::http_endpoint {};
constexpr auto table = aster::routes(aster::route<"/e", empty_endpoint>());
