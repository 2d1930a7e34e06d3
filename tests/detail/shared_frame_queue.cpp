// SPDX-License-Identifier: MIT
// shared_frame_queue: a write holds the session's own bytes and the topic frames in queue order;
// small pieces are copied into one run, large frames go out from the bytes every subscriber
// shares.
#include <aster/detail/shared_frame_queue.hpp>

#include <catch2/catch.hpp>

#include <memory>
#include <string>
#include <vector>

namespace shared_frame_queue_test {

using aster::detail::shared_frame;
using aster::detail::shared_frame_queue;

std::string joined(const std::vector<aster::net::const_buffer>& buffers) {
    std::string out;
    for (const auto& b : buffers) out.append(static_cast<const char*>(b.data()), b.size());
    return out;
}

TEST_CASE("shared_frame_queue: small frames and own bytes go out as one run, in order",
          "[topics][shared_frame_queue]") {
    shared_frame_queue q;
    const std::string own = "AAABBB";
    auto first = std::make_shared<const std::string>("first");
    auto second = std::make_shared<const std::string>("second");
    q.push(0, first);  // before any own byte
    q.push(3, second); // between AAA and BBB
    q.push(6, first);  // after them all
    CHECK(q.bytes() == 16);
    const auto& buffers = q.start_write(own);
    REQUIRE(buffers.size() == 1);
    CHECK(joined(buffers) == "firstAAAsecondBBBfirst");
    CHECK(q.bytes() == 16); // held until the write ends
    q.finish_write();
    CHECK(q.bytes() == 0);
    CHECK_FALSE(q.has_pending());
}

TEST_CASE("shared_frame_queue: a large frame is written from the shared bytes, not copied",
          "[topics][shared_frame_queue]") {
    shared_frame_queue q;
    const std::string own = "own-bytes";
    auto small = std::make_shared<const std::string>("small");
    auto large = std::make_shared<const std::string>(std::string(4096, 'L'));
    q.push(0, small);
    q.push(3, large);
    q.push(3, small);
    const auto& buffers = q.start_write(own);
    CHECK(joined(buffers) == "small" + std::string("own") + *large + "small" + "-bytes");
    REQUIRE(buffers.size() == 3); // run, the large frame where it is, run
    CHECK(buffers[1].data() == large->data());
    CHECK(large.use_count() == 2); // ours and the write's
    q.finish_write();
    CHECK(large.use_count() == 1);
}

TEST_CASE("shared_frame_queue: frames queued during a write wait for the next",
          "[topics][shared_frame_queue]") {
    shared_frame_queue q;
    auto a = std::make_shared<const std::string>("a");
    auto b = std::make_shared<const std::string>("b");
    q.push(0, a);
    CHECK(joined(q.start_write("")) == "a");
    q.push(0, b);
    CHECK(q.bytes() == 2);
    q.finish_write();
    CHECK(q.bytes() == 1);
    CHECK(joined(q.start_write("x")) == "bx");
    q.finish_write();
}

} // namespace shared_frame_queue_test
