// SPDX-License-Identifier: MIT
// Test helper: inflates one whole gzip stream with zlib, failing the test if it is not one.
#ifndef ASTER_TESTS_SUPPORT_GUNZIP_HPP
#define ASTER_TESTS_SUPPORT_GUNZIP_HPP

#include <catch2/catch.hpp>

#include <zlib.h>

#include <string>

namespace test_support {

inline std::string gunzip(const std::string& data) {
    z_stream z{};
    REQUIRE(inflateInit2(&z, 15 + 16) == Z_OK);
    z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
    z.avail_in = static_cast<uInt>(data.size());
    std::string out;
    int rc = Z_OK;
    while (rc == Z_OK) {
        char buf[4096];
        z.next_out = reinterpret_cast<Bytef*>(buf);
        z.avail_out = sizeof buf;
        rc = inflate(&z, Z_NO_FLUSH);
        out.append(buf, sizeof buf - z.avail_out);
        if (rc == Z_BUF_ERROR) break;
    }
    inflateEnd(&z);
    CHECK(rc == Z_STREAM_END);
    CHECK(z.avail_in == 0); // nothing after the stream's end
    return out;
}

} // namespace test_support

#endif // ASTER_TESTS_SUPPORT_GUNZIP_HPP
