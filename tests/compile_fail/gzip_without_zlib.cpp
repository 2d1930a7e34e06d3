// aster::gzip used in a build without zlib (no ASTER_HAS_ZLIB, whether or not <zlib.h> is
// installed): a clear message, not a link error.
// expect-error: aster::gzip needs zlib: build with ASTER_HAS_ZLIB
#undef ASTER_HAS_ZLIB
#include <aster/middleware/gzip.hpp>

aster::task<aster::response> compressed(aster::request& req, aster::call_next next) {
    return aster::gzip{.minimum_size = 100}(req, next);
}
