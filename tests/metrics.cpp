// SPDX-License-Identifier: MIT
// metrics_route: what it counts, through test_client and over loopback with two loops, parsed by
// the rules of Prometheus' text exposition format (tests/interop also runs the official parser).
#include <aster/aster.hpp>
#include <aster/metrics.hpp>

#include <catch2/catch.hpp>

#include "support/loopback.hpp"

#include <map>
#include <regex>
#include <set>
#include <string>
#include <vector>

namespace metrics_test {

aster::response hello(aster::request&) { return aster::plain_text("hello"); }
aster::task<aster::response> user(aster::request&, std::int64_t id) {
    co_return aster::plain_text("user " + std::to_string(id));
}
aster::task<> echo(aster::websocket& ws) {
    co_await ws.accept();
    for (;;) {
        auto m = co_await ws.receive();
        co_await ws.send_text(m.data);
    }
}

constexpr aster::application app{aster::routes(
    aster::route<"/hello">(hello), aster::route<"/users/{id:int}">(user).named<"user">(),
    aster::websocket_route<"/ws">(echo), aster::metrics_route<"/metrics">())};

// One sample: its labels and value.
struct sample {
    std::map<std::string, std::string> labels;
    double value;
};

// Parses the text format strictly (version 0.0.4): every family has # HELP and # TYPE before
// its samples, names and label names are valid, label values are quoted and escaped, values
// are numbers, a histogram's buckets are cumulative and end with le="+Inf" equal to _count.
// Returns the samples by metric name.
std::map<std::string, std::vector<sample>> parse(const std::string& text) {
    static const std::regex name_re("[a-zA-Z_:][a-zA-Z0-9_:]*");
    static const std::regex sample_re(R"(([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})? (\S+))");
    static const std::regex label_re(R"re(([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"(,|$))re");
    std::map<std::string, std::vector<sample>> out;
    std::map<std::string, std::string> types;
    std::set<std::string> helped;
    std::size_t at = 0;
    while (at < text.size()) {
        std::size_t end = text.find('\n', at);
        REQUIRE(end != std::string::npos); // every line ends with a newline
        std::string line = text.substr(at, end - at);
        at = end + 1;
        INFO(line);
        if (line.rfind("# HELP ", 0) == 0) {
            auto name = line.substr(7, line.find(' ', 7) - 7);
            CHECK(std::regex_match(name, name_re));
            CHECK(helped.insert(name).second);
            continue;
        }
        if (line.rfind("# TYPE ", 0) == 0) {
            auto rest = line.substr(7);
            auto name = rest.substr(0, rest.find(' '));
            auto type = rest.substr(rest.find(' ') + 1);
            CHECK((type == "counter" || type == "gauge" || type == "histogram"));
            CHECK(helped.count(name) == 1); // HELP first
            CHECK(types.emplace(name, type).second);
            continue;
        }
        std::smatch m;
        REQUIRE(std::regex_match(line, m, sample_re));
        std::string name = m[1];
        std::string family = name;
        for (std::string suffix : {"_bucket", "_sum", "_count"})
            if (!types.count(family) && family.size() > suffix.size() &&
                family.compare(family.size() - suffix.size(), suffix.size(), suffix) == 0)
                family = family.substr(0, family.size() - suffix.size());
        CHECK(types.count(family) == 1); // a sample of a declared family
        sample s{{}, 0};
        std::string labels = m[3];
        for (std::sregex_iterator it(labels.begin(), labels.end(), label_re), stop; it != stop;
             ++it)
            s.labels[(*it)[1]] = (*it)[2];
        std::string value = m[4];
        if (value == "+Inf") s.value = 1e300;
        else {
            std::size_t used = 0;
            s.value = std::stod(value, &used);
            CHECK(used == value.size());
        }
        out[name].push_back(s);
    }
    // Histograms: cumulative buckets, +Inf last and equal to _count.
    for (const auto& [name, type] : types) {
        if (type != "histogram") continue;
        std::map<std::string, std::vector<sample>> by_route;
        for (const auto& s : out[name + "_bucket"]) by_route[s.labels.at("route")].push_back(s);
        for (const auto& [route, buckets] : by_route) {
            INFO(name << " " << route);
            for (std::size_t i = 1; i < buckets.size(); ++i)
                CHECK(buckets[i].value >= buckets[i - 1].value);
            CHECK(buckets.back().labels.at("le") == "+Inf");
            double count = -1;
            for (const auto& c : out[name + "_count"])
                if (c.labels.at("route") == route) count = c.value;
            CHECK(buckets.back().value == count);
        }
    }
    return out;
}

// The value of `name` whose labels include all of `wanted`; -1 when none.
double value_of(const std::map<std::string, std::vector<sample>>& all, const std::string& name,
                const std::map<std::string, std::string>& wanted) {
    auto it = all.find(name);
    if (it == all.end()) return -1;
    for (const auto& s : it->second) {
        bool match = true;
        for (const auto& [k, v] : wanted)
            if (!s.labels.count(k) || s.labels.at(k) != v) match = false;
        if (match) return s.value;
    }
    return -1;
}

} // namespace metrics_test

TEST_CASE("metrics_route: requests by route, method and status; latency; WebSocket sessions",
          "[metrics]") {
    using namespace metrics_test;
    aster::test_client client{app};
    for (int i = 0; i < 3; ++i) CHECK(client.get("/hello").status_code == 200);
    CHECK(client.get("/users/5").text() == "user 5");
    CHECK(client.get("/users/x").status_code == 404);
    CHECK(client.post("/hello").status_code == 405);
    {
        auto ws = client.websocket_connect("/ws");
        ws.send_text("a");
        CHECK(ws.receive_text() == "a");
        ws.send_text("b");
        CHECK(ws.receive_text() == "b");
    } // closes with 1000
    auto r = client.get("/metrics");
    REQUIRE(r.status_code == 200);
    CHECK(r.header("content-type") == "text/plain; version=0.0.4; charset=utf-8");
    auto m = parse(r.text());
    const std::string total = "aster_http_requests_total";
    CHECK(value_of(m, total, {{"route", "/hello"}, {"method", "GET"}, {"status", "200"}}) == 3);
    CHECK(value_of(m, total, {{"route", "user"}, {"method", "GET"}, {"status", "200"}}) == 1);
    CHECK(value_of(m, total, {{"route", "<unmatched>"}, {"method", "GET"}, {"status", "404"}}) ==
          1);
    CHECK(value_of(m, total, {{"route", "<unmatched>"}, {"method", "POST"}, {"status", "405"}}) ==
          1);
    CHECK(value_of(m, "aster_http_request_duration_seconds_count", {{"route", "/hello"}}) == 3);
    CHECK(value_of(m, "aster_http_request_duration_seconds_bucket",
                   {{"route", "/hello"}, {"le", "+Inf"}}) == 3);
    CHECK(value_of(m, "aster_http_request_duration_seconds_sum", {{"route", "/hello"}}) >= 0);
    CHECK(value_of(m, "aster_websocket_sessions_total", {{"route", "/ws"}}) == 1);
    CHECK(value_of(m, "aster_websocket_messages_received_total", {{"route", "/ws"}}) == 2);
    CHECK(value_of(m, "aster_websocket_messages_sent_total", {{"route", "/ws"}}) == 2);
    CHECK(value_of(m, "aster_websocket_closes_total", {{"route", "/ws"}, {"code", "1000"}}) == 1);
    // The scrape itself is counted once it is written: the next one sees it.
    auto again = parse(client.get("/metrics").text());
    CHECK(value_of(again, total, {{"route", "/metrics"}, {"method", "GET"}, {"status", "200"}}) ==
          1);
    // A client of its own: its counts start at zero.
    aster::test_client other{app};
    CHECK(value_of(parse(other.get("/metrics").text()), total, {{"route", "/hello"}}) == -1);
}

TEST_CASE("metrics_route: a server sums its loops and reports its live counts",
          "[metrics][server][mt]") {
    using namespace metrics_test;
    test_support::running_server server(app, {.threads = 2, .access_log = false});
    for (int i = 0; i < 20; ++i) { // one connection each: the kernel spreads them over the loops
        aster::net::io_context ctx;
        aster::net::ip::tcp::socket s(ctx);
        s.connect(server.endpoint());
        std::string req = "GET /hello HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", in;
        aster::net::write(s, aster::net::buffer(req));
        std::error_code ec;
        aster::net::read(s, aster::net::dynamic_buffer(in), ec);
        REQUIRE(in.find("200 OK") != std::string::npos);
    }
    server.wait_for([](const aster::server_stats& st) { return st.connections == 0; });
    aster::net::io_context ctx;
    aster::net::ip::tcp::socket s(ctx);
    s.connect(server.endpoint());
    std::string req = "GET /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", in;
    aster::net::write(s, aster::net::buffer(req));
    std::error_code ec;
    aster::net::read(s, aster::net::dynamic_buffer(in), ec);
    auto body = in.substr(in.find("\r\n\r\n") + 4);
    auto m = parse(body);
    CHECK(value_of(m, "aster_http_requests_total", {{"route", "/hello"}, {"status", "200"}}) == 20);
    CHECK(value_of(m, "aster_connections", {}) >= 1); // the scrape's own connection
    CHECK(value_of(m, "aster_websockets", {}) == 0);
    CHECK(value_of(m, "aster_memory_budget_refusals_total", {}) == 0);
}
