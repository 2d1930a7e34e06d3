// aster::gzip used in a build without zlib: a clear message, not a link error.
// expect-error: aster::gzip needs zlib
#define ASTER_NO_ZLIB 1
#include <aster/middleware/gzip.hpp>

aster::task<aster::response> compressed(aster::request& req, aster::call_next next) {
    return aster::gzip{.minimum_size = 100}(req, next);
}
