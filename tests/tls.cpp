// SPDX-License-Identifier: MIT
// The real server over TLS on 127.0.0.1, port 0, against an Asio TLS client that verifies a
// certificate made here. Compiles to nothing without TLS (the build then reports it skipped).
#include <aster/aster.hpp>
#include <aster/middleware/https_redirect.hpp>

#ifdef ASTER_HAS_TLS

#include <catch2/catch.hpp>

#include "support/captured_log.hpp"
#include "support/loopback.hpp"

#include <asio/connect.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/read.hpp>
#include <asio/read_until.hpp>
#include <asio/ssl/context.hpp>
#include <asio/ssl/stream.hpp>
#include <asio/use_future.hpp>
#include <asio/write.hpp>

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <future>
#include <memory>
#include <mutex>
#include <random>
#include <string>
#include <thread>
#include <utility>
#include <vector>

namespace tls_test {

namespace net = aster::net;
using net::ip::tcp;
using tls_socket = net::ssl::stream<tcp::socket>;
using namespace std::chrono_literals;
using namespace std::string_view_literals;

// --- a self-signed certificate for 127.0.0.1, made with OpenSSL's C API -----------------------

struct pkey_free {
    void operator()(EVP_PKEY* p) const { EVP_PKEY_free(p); }
};
struct x509_free {
    void operator()(X509* p) const { X509_free(p); }
};

/// An EC P-256 key and a certificate with CN and subjectAltName IP:127.0.0.1, as PEM files in a
/// fresh temporary directory that is removed with it.
class certificate_files {
public:
    certificate_files() {
        dir_ = std::filesystem::temp_directory_path() /
               ("aster-tls-" + std::to_string(std::random_device{}()));
        std::filesystem::create_directories(dir_);
        std::unique_ptr<EVP_PKEY, pkey_free> key(make_key());
        std::unique_ptr<X509, x509_free> cert(make_certificate(key.get()));
        write(cert_file(), [&](FILE* f) { return PEM_write_X509(f, cert.get()); });
        write(key_file(), [&](FILE* f) {
            return PEM_write_PrivateKey(f, key.get(), nullptr, nullptr, 0, nullptr, nullptr);
        });
    }
    ~certificate_files() {
        std::error_code ignored;
        std::filesystem::remove_all(dir_, ignored);
    }
    certificate_files(const certificate_files&) = delete;
    certificate_files& operator=(const certificate_files&) = delete;

    std::string cert_file() const { return (dir_ / "cert.pem").string(); }
    std::string key_file() const { return (dir_ / "key.pem").string(); }
    aster::tls_options options() const { return {cert_file(), key_file()}; }

private:
    static EVP_PKEY* make_key() {
        EVP_PKEY_CTX* ctx = EVP_PKEY_CTX_new_id(EVP_PKEY_EC, nullptr);
        EVP_PKEY* key = nullptr;
        bool ok = ctx && EVP_PKEY_keygen_init(ctx) == 1 &&
                  EVP_PKEY_CTX_set_ec_paramgen_curve_nid(ctx, NID_X9_62_prime256v1) == 1 &&
                  EVP_PKEY_keygen(ctx, &key) == 1;
        EVP_PKEY_CTX_free(ctx);
        REQUIRE(ok);
        return key;
    }

    static X509* make_certificate(EVP_PKEY* key) {
        X509* cert = X509_new();
        REQUIRE(cert);
        X509_set_version(cert, 2); // v3, for the extensions
        ASN1_INTEGER_set(X509_get_serialNumber(cert), 1);
        X509_gmtime_adj(X509_getm_notBefore(cert), -60);
        X509_gmtime_adj(X509_getm_notAfter(cert), 24 * 3600);
        X509_set_pubkey(cert, key);
        X509_NAME* name = X509_get_subject_name(cert);
        X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                                   reinterpret_cast<const unsigned char*>("127.0.0.1"), -1, -1, 0);
        X509_set_issuer_name(cert, name); // self-signed
        X509V3_CTX ctx;
        X509V3_set_ctx_nodb(&ctx);
        X509V3_set_ctx(&ctx, cert, cert, nullptr, nullptr, 0);
        for (auto [nid, value] : {std::pair{NID_subject_alt_name, "IP:127.0.0.1"},
                                  std::pair{NID_basic_constraints, "critical,CA:TRUE"}}) {
            X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &ctx, nid, value);
            REQUIRE(ext);
            X509_add_ext(cert, ext, -1);
            X509_EXTENSION_free(ext);
        }
        REQUIRE(X509_sign(cert, key, EVP_sha256()) > 0);
        return cert;
    }

    template <class Write>
    static void write(const std::string& path, Write pem) {
        FILE* f = std::fopen(path.c_str(), "w");
        REQUIRE(f);
        int ok = pem(f);
        std::fclose(f);
        REQUIRE(ok == 1);
    }

    std::filesystem::path dir_;
};

// --- the app ------------------------------------------------------------------------------------

aster::response hello(aster::request& r) {
    return aster::plain_text("Hello over TLS from " + r.client().host);
}

// Larger than the connection's copy limit, so the body goes out as a write of its own.
aster::response big(aster::request&) { return aster::plain_text(std::string(100 * 1024, 'x')); }

// Reads its body as it arrives: "<bytes> in pieces" (or "in one").
aster::task<aster::response> count(aster::request& r) {
    std::size_t bytes = 0, pieces = 0;
    for (auto p = co_await r.read_some(); !p.empty(); p = co_await r.read_some()) {
        bytes += p.size();
        ++pieces;
    }
    co_return aster::plain_text(std::to_string(bytes) + (pieces > 1 ? " in pieces" : " in one"));
}

std::atomic<int> last_close_code{0};

struct ws_echo : aster::websocket_endpoint {
    aster::task<> on_receive(aster::websocket& ws, std::string_view m) { co_await ws.send_text(m); }
    void on_disconnect(aster::websocket&, aster::close_code code) { last_close_code = int(code); }
};

constexpr aster::application app{aster::routes(aster::route<"/hello">(hello),
                                               aster::route<"/big">(big),
                                               aster::route<"/count", aster::method::post>(count),
                                               aster::websocket_route<"/ws", ws_echo>())};

// What request::scheme() and url_for say, behind https_redirect.
aster::response scheme(aster::request& r) {
    return aster::plain_text(std::string(r.scheme()) + " " + r.url_for("scheme"));
}
aster::task<> ws_scheme(aster::websocket& ws) {
    co_await ws.accept();
    co_await ws.send_text(std::string(ws.request().scheme()) + " " + ws.url_for("ws_scheme"));
}
const aster::application redirecting_app{
    aster::routes(aster::route<"/scheme">(scheme).named<"scheme">(),
                  aster::websocket_route<"/ws-scheme">(ws_scheme).named<"ws_scheme">()),
    aster::middleware(aster::https_redirect{})};

/// The real server on 127.0.0.1:0 over TLS (or plain, with `tls` false), run on its own thread,
/// stopped when destroyed.
struct running_server {
    explicit running_server(const certificate_files& files, aster::server_config config = {})
        : running_server(app, files, std::move(config)) {}
    template <class App>
    running_server(const App& served, const certificate_files& files,
                   aster::server_config config = {}, bool tls = true)
        : srv(served, with_tls(std::move(config), files, tls)) {
        srv.listen();
        done = std::async(std::launch::async, [this] { srv.run(); });
    }
    ~running_server() {
        srv.stop();
        if (done.valid()) done.wait_for(10s);
    }
    static aster::server_config with_tls(aster::server_config c, const certificate_files& files,
                                         bool tls = true) {
        c.host = "127.0.0.1";
        c.port = 0;
        c.handle_signals = false;
        if (tls) c.tls = files.options();
        return c;
    }
    tcp::endpoint endpoint() const { return {net::ip::make_address("127.0.0.1"), srv.port()}; }

    aster::server srv;
    std::future<void> done;
};

// --- the client -----------------------------------------------------------------------------

/// Trusts only the test's certificate and checks that it names 127.0.0.1.
net::ssl::context client_context(const certificate_files& files) {
    net::ssl::context ctx(net::ssl::context::tls_client);
    ctx.load_verify_file(files.cert_file());
    ctx.set_verify_mode(net::ssl::verify_peer);
    return ctx;
}

net::awaitable<std::unique_ptr<tls_socket>> connect_tls(tcp::endpoint endpoint,
                                                        net::ssl::context& ctx) {
    auto s = std::make_unique<tls_socket>(co_await net::this_coro::executor, ctx);
    co_await s->next_layer().async_connect(endpoint, net::use_awaitable);
    X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(s->native_handle()), "127.0.0.1");
    co_await s->async_handshake(net::ssl::stream_base::client, net::use_awaitable);
    co_return s;
}

/// One whole response with a Content-Length body; `buffer` keeps what follows it.
template <class Stream>
net::awaitable<std::string> read_response(Stream& s, std::string& buffer) {
    auto head_end = co_await net::async_read_until(s, net::dynamic_buffer(buffer), "\r\n\r\n",
                                                   net::use_awaitable);
    std::string head = buffer.substr(0, head_end);
    std::size_t length = 0;
    if (auto at = head.find("Content-Length: "); at != std::string::npos)
        length = std::stoul(head.substr(at + 16));
    if (buffer.size() < head_end + length)
        co_await net::async_read(s, net::dynamic_buffer(buffer),
                                 net::transfer_exactly(head_end + length - buffer.size()),
                                 net::use_awaitable);
    std::string response = buffer.substr(0, head_end + length);
    buffer.erase(0, head_end + length);
    co_return response;
}

/// Reads until the peer closes (or errs); returns what arrived and the error that ended it.
template <class Stream>
net::awaitable<std::pair<std::string, std::error_code>> read_to_end(Stream& s) {
    std::string out;
    char chunk[4096];
    for (;;) {
        auto [ec, n] = co_await s.async_read_some(net::buffer(chunk), aster::detail::use_tuple);
        out.append(chunk, n);
        if (ec) co_return std::pair{out, ec};
    }
}

/// Runs one client scenario on its own io_context, failing the test after `limit`.
template <class Scenario>
void run_client(Scenario scenario, std::chrono::steady_clock::duration limit = 10s) {
    net::io_context ctx;
    auto done = net::co_spawn(ctx, scenario(), net::use_future);
    ctx.run_for(limit);
    REQUIRE(done.wait_for(0s) == std::future_status::ready);
    done.get(); // rethrows the scenario's exception
}

/// A client frame (RFC 6455 §5.3: masked) with a payload under 126 bytes.
std::string masked_frame(std::uint8_t first_byte, std::string_view payload) {
    const char mask[4] = {0x11, 0x22, 0x33, 0x44};
    std::string frame{char(first_byte), char(0x80 | payload.size())};
    frame.append(mask, 4);
    for (std::size_t i = 0; i < payload.size(); ++i) frame += char(payload[i] ^ mask[i % 4]);
    return frame;
}

constexpr std::string_view ws_upgrade =
    "GET /ws HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
    "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n";

/// Reads one unmasked server frame with a payload under 126 bytes: {first byte, payload}.
net::awaitable<std::pair<std::uint8_t, std::string>> read_small_frame(tls_socket& s,
                                                                      std::string& buffer) {
    if (buffer.size() < 2)
        co_await net::async_read(s, net::dynamic_buffer(buffer),
                                 net::transfer_at_least(2 - buffer.size()), net::use_awaitable);
    std::size_t length = std::uint8_t(buffer[1]) & 0x7f;
    REQUIRE(length < 126);
    if (buffer.size() < 2 + length)
        co_await net::async_read(s, net::dynamic_buffer(buffer),
                                 net::transfer_exactly(2 + length - buffer.size()),
                                 net::use_awaitable);
    std::pair<std::uint8_t, std::string> frame{std::uint8_t(buffer[0]), buffer.substr(2, length)};
    buffer.erase(0, 2 + length);
    co_return frame;
}

using test_support::captured_log;

} // namespace tls_test

using namespace tls_test;

TEST_CASE("tls: GET over https, and keep-alive on one TLS connection", "[tls][server]") {
    certificate_files files;
    running_server server(files);
    auto ctx = client_context(files);
    run_client([&]() -> net::awaitable<void> {
        auto s = co_await connect_tls(server.endpoint(), ctx);
        std::string buffer;
        co_await net::async_write(
            *s, net::buffer(std::string_view("GET /hello HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")),
            net::use_awaitable);
        auto first = co_await read_response(*s, buffer);
        CHECK(first.find("HTTP/1.1 200 OK\r\n") == 0);
        CHECK(first.find("\r\n\r\nHello over TLS from 127.0.0.1") != std::string::npos);
        CHECK(first.find("Connection: close") == std::string::npos);

        // The same TLS session answers again: a large body and then a pipelined pair.
        co_await net::async_write(*s,
                                  net::buffer(std::string_view(
                                      "GET /big HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"
                                      "GET /hello HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                                      "Connection: close\r\n\r\n")),
                                  net::use_awaitable);
        auto second = co_await read_response(*s, buffer);
        CHECK(second.find("HTTP/1.1 200 OK\r\n") == 0);
        CHECK(second.size() > 100 * 1024);
        CHECK(second.substr(second.size() - 100 * 1024) == std::string(100 * 1024, 'x'));
        auto third = co_await read_response(*s, buffer);
        CHECK(third.find("Connection: close\r\n") != std::string::npos);
        CHECK(third.find("Hello over TLS") != std::string::npos);

        // The server then closes with close_notify, which reads as a clean end of stream.
        auto [rest, ec] = co_await read_to_end(*s);
        CHECK((rest + buffer).empty());
        CHECK(ec == net::error::eof);
    });
}

TEST_CASE("tls: a request body streams to a coroutine route over https", "[tls][server]") {
    certificate_files files;
    running_server server(files);
    auto ctx = client_context(files);
    run_client([&]() -> net::awaitable<void> {
        auto s = co_await connect_tls(server.endpoint(), ctx);
        const std::string body(2 * 1024 * 1024, 'u');
        const std::string request = "POST /count HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: " +
                                    std::to_string(body.size()) + "\r\n\r\n" + body +
                                    "GET /hello HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n";
        co_await net::async_write(*s, net::buffer(request), net::use_awaitable);
        std::string buffer;
        auto first = co_await read_response(*s, buffer);
        CHECK(first.find("\r\n\r\n2097152 in pieces") != std::string::npos);
        auto second = co_await read_response(*s, buffer); // pipelined behind the body
        CHECK(second.find("Hello over TLS") != std::string::npos);
        CHECK(server.srv.stats().input_bytes <= aster::detail::large_block_size);
    });
}

TEST_CASE("tls: WebSocket echo over wss", "[tls][server][websocket]") {
    certificate_files files;
    running_server server(files);
    auto ctx = client_context(files);
    last_close_code = 0;
    run_client([&]() -> net::awaitable<void> {
        auto s = co_await connect_tls(server.endpoint(), ctx);
        std::string buffer;
        co_await net::async_write(*s, net::buffer(ws_upgrade), net::use_awaitable);
        auto n = co_await net::async_read_until(*s, net::dynamic_buffer(buffer), "\r\n\r\n",
                                                net::use_awaitable);
        std::string head = buffer.substr(0, n);
        buffer.erase(0, n);
        CHECK(head.find("HTTP/1.1 101 Switching Protocols\r\n") == 0);
        // RFC 6455 §1.3's example key and its accept value.
        CHECK(head.find("Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=") != std::string::npos);

        for (std::string_view message : {"hello over wss", "and again"}) {
            co_await net::async_write(*s, net::buffer(masked_frame(0x81, message)),
                                      net::use_awaitable);
            auto [first, payload] = co_await read_small_frame(*s, buffer);
            CHECK(first == 0x81); // FIN + text
            CHECK(payload == message);
        }

        co_await net::async_write(*s, net::buffer(masked_frame(0x88, "\x03\xe8")),
                                  net::use_awaitable);
        auto [first, payload] = co_await read_small_frame(*s, buffer);
        CHECK(first == 0x88);
        CHECK(payload.substr(0, 2) == "\x03\xe8"); // 1000 echoed
        auto [rest, ec] = co_await read_to_end(*s);
        CHECK(ec == net::error::eof);
    });
    for (int i = 0; i < 200 && last_close_code == 0; ++i) std::this_thread::sleep_for(10ms);
    CHECK(last_close_code == 1000);
}

TEST_CASE("tls: plain-text and garbage clients are closed, and the server keeps serving",
          "[tls][server]") {
    certificate_files files;
    captured_log logged;
    running_server server(files);
    auto ctx = client_context(files);
    run_client([&]() -> net::awaitable<void> {
        for (auto bytes : {"GET /hello HTTP/1.1\r\nHost: x\r\n\r\n"sv,
                           "\x16\x03\x01\x00\x05garbage-garbage"sv}) {
            tcp::socket plain(co_await net::this_coro::executor);
            co_await plain.async_connect(server.endpoint(), net::use_awaitable);
            co_await net::async_write(plain, net::buffer(bytes), net::use_awaitable);
            auto [reply, ec] = co_await read_to_end(plain);
            CHECK(ec); // closed: EOF or reset
            CHECK(reply.find("HTTP/1.1") == std::string::npos);
        }
        auto s = co_await connect_tls(server.endpoint(), ctx);
        std::string buffer;
        co_await net::async_write(
            *s,
            net::buffer(
                std::string_view("GET /hello HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")),
            net::use_awaitable);
        // Not co_await inside CHECK: g++ 12 evaluates it a second time there.
        auto reply = co_await read_response(*s, buffer);
        CHECK(reply.find("200 OK") != std::string::npos);
    });
    CHECK(logged.contains("TLS handshake with 127.0.0.1"));
}

TEST_CASE("tls: a client that never finishes the handshake is closed after header_timeout",
          "[tls][server][limits]") {
    certificate_files files;
    aster::server_config config;
    config.limits.header_timeout = 200ms;
    running_server server(files, config);
    run_client([&]() -> net::awaitable<void> {
        tcp::socket silent(co_await net::this_coro::executor);
        co_await silent.async_connect(server.endpoint(), net::use_awaitable);
        auto started = std::chrono::steady_clock::now();
        auto [reply, ec] = co_await read_to_end(silent);
        CHECK(ec);
        CHECK(std::chrono::steady_clock::now() - started < 5s);
    });
}

TEST_CASE("tls: a graceful stop closes idle TLS connections and wss with 1001",
          "[tls][server][shutdown][mt]") {
    certificate_files files;
    aster::server_config config;
    config.shutdown_timeout = 5s;
    running_server server(files, config);
    auto ctx = client_context(files);
    last_close_code = 0;
    run_client([&]() -> net::awaitable<void> {
        auto idle = co_await connect_tls(server.endpoint(), ctx);
        std::string idle_buffer, ws_buffer;
        co_await net::async_write(
            *idle, net::buffer(std::string_view("GET /hello HTTP/1.1\r\nHost: x\r\n\r\n")),
            net::use_awaitable);
        auto reply = co_await read_response(*idle, idle_buffer);
        CHECK(reply.find("200 OK") != std::string::npos);

        auto ws = co_await connect_tls(server.endpoint(), ctx);
        co_await net::async_write(*ws, net::buffer(ws_upgrade), net::use_awaitable);
        auto n = co_await net::async_read_until(*ws, net::dynamic_buffer(ws_buffer), "\r\n\r\n",
                                                net::use_awaitable);
        CHECK(ws_buffer.find("101 Switching Protocols") != std::string::npos);
        ws_buffer.erase(0, n);

        auto stop_requested = std::chrono::steady_clock::now();
        server.srv.stop();

        // The idle connection ends with close_notify; answering it lets the server finish at once.
        auto [rest, ec] = co_await read_to_end(*idle);
        CHECK(ec == net::error::eof);
        auto [shutdown_ec] = co_await idle->async_shutdown(aster::detail::use_tuple);
        (void)shutdown_ec;

        auto [first, payload] = co_await read_small_frame(*ws, ws_buffer);
        CHECK(first == 0x88);
        CHECK(payload.substr(0, 2) == "\x03\xe9"); // 1001: going away
        co_await net::async_write(*ws, net::buffer(masked_frame(0x88, "\x03\xe9")),
                                  net::use_awaitable);
        auto [ws_rest, ws_ec] = co_await read_to_end(*ws);
        CHECK(ws_ec == net::error::eof);
        ws->lowest_layer().close(); // a FIN instead of close_notify ends the server's wait too

        CHECK(server.done.wait_for(5s) == std::future_status::ready);
        CHECK(std::chrono::steady_clock::now() - stop_requested < 5s);
    });
    CHECK(last_close_code == 1001);
}

TEST_CASE("tls: listen() names a certificate or key it cannot use", "[tls][server]") {
    certificate_files files, other;
    aster::server missing{app,
                          {.port = 0,
                           .handle_signals = false,
                           .tls = aster::tls_options{"/nonexistent/cert.pem", files.key_file()}}};
    CHECK_THROWS_WITH(missing.listen(), Catch::Contains("/nonexistent/cert.pem"));
    aster::server mismatched{app,
                             {.port = 0,
                              .handle_signals = false,
                              .tls = aster::tls_options{files.cert_file(), other.key_file()}}};
    CHECK_THROWS_WITH(mismatched.listen(), Catch::Contains(other.key_file()));
}

TEST_CASE("tls: scheme is https and wss over TLS, and https_redirect lets it through",
          "[tls][server][https_redirect]") {
    certificate_files files;
    running_server server(redirecting_app, files);
    auto ctx = client_context(files);
    run_client([&]() -> net::awaitable<void> {
        auto s = co_await connect_tls(server.endpoint(), ctx);
        std::string buffer;
        co_await net::async_write(*s,
                                  net::buffer(std::string_view(
                                      "GET /scheme HTTP/1.1\r\nHost: 127.0.0.1:8443\r\n\r\n")),
                                  net::use_awaitable);
        auto reply = co_await read_response(*s, buffer);
        CHECK(reply.find("HTTP/1.1 200 OK\r\n") == 0);
        CHECK(reply.find("\r\n\r\nhttps https://127.0.0.1:8443/scheme") != std::string::npos);

        auto w = co_await connect_tls(server.endpoint(), ctx);
        std::string ws_buffer;
        std::string upgrade(ws_upgrade);
        upgrade.replace(upgrade.find("/ws"), 3, "/ws-scheme");
        co_await net::async_write(*w, net::buffer(upgrade), net::use_awaitable);
        auto n = co_await net::async_read_until(*w, net::dynamic_buffer(ws_buffer), "\r\n\r\n",
                                                net::use_awaitable);
        CHECK(ws_buffer.substr(0, n).find("HTTP/1.1 101 ") == 0);
        ws_buffer.erase(0, n);
        auto [first, payload] = co_await read_small_frame(*w, ws_buffer);
        CHECK(first == 0x81);
        CHECK(payload == "wss wss://127.0.0.1/ws-scheme");
        co_await net::async_write(*w, net::buffer(masked_frame(0x88, "\x03\xe8")),
                                  net::use_awaitable);
        auto [close_first, close_payload] = co_await read_small_frame(*w, ws_buffer);
        CHECK(close_first == 0x88);
    });
}

TEST_CASE("tls: https_redirect answers plain HTTP and ws:// with 307 on a real socket",
          "[tls][server][https_redirect]") {
    certificate_files files;
    running_server server(redirecting_app, files, {}, false);
    run_client([&]() -> net::awaitable<void> {
        for (auto [request, location] :
             {std::pair{
                  "GET /scheme?x=1 HTTP/1.1\r\nHost: 127.0.0.1:8080\r\nConnection: close\r\n\r\n"sv,
                  "Location: https://127.0.0.1:8080/scheme?x=1\r\n"sv},
              std::pair{
                  "GET /ws-scheme HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\n"
                  "Connection: Upgrade, close\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                  "Sec-WebSocket-Version: 13\r\n\r\n"sv,
                  "Location: wss://127.0.0.1/ws-scheme\r\n"sv}}) {
            tcp::socket plain(co_await net::this_coro::executor);
            co_await plain.async_connect(server.endpoint(), net::use_awaitable);
            co_await net::async_write(plain, net::buffer(request), net::use_awaitable);
            auto [reply, ec] = co_await read_to_end(plain);
            CHECK(reply.find("HTTP/1.1 307 Temporary Redirect\r\n") == 0);
            CHECK(reply.find(location) != std::string::npos);
        }
    });
}

// --- topics over wss ----------------------------------------------------------------------------

namespace tls_test {

// Subscribes to "wss-feed"; what its client sends goes to every subscriber, the sender too.
aster::task<> feed_member(aster::websocket& ws) {
    co_await ws.accept();
    ws.subscribe("wss-feed");
    co_await ws.send_text("subscribed");
    for (;;) {
        const std::string m = co_await ws.receive_text();
        co_await ws.publish("wss-feed", m, {.to_sender = true});
    }
}

constexpr aster::application feed_app{aster::routes(aster::websocket_route<"/feed">(feed_member))};

// The i-th message: its number, then bytes that depend on i and their place. Sizes vary; one
// is 40 KiB, past a TLS record's 16 KiB, and one 70000 bytes, past a 16-bit frame length.
std::string feed_message(int i) {
    const std::size_t size = i == 50 ? 40 * 1024 : i == 150 ? 70000 : std::size_t(i * 131 % 3000);
    std::string m = std::to_string(i) + ":";
    for (std::size_t k = 0; k < size; ++k) m += char('!' + (std::size_t(i) + k) % 90);
    return m;
}

TEST_CASE("tls: a topic over wss reaches every subscriber intact and in order",
          "[tls][server][topics][mt]") {
    certificate_files files;
    aster::server_config config;
    config.threads = 2; // subscribers on either loop: a publish crosses to the other
    running_server server(feed_app, files, config);
    auto ctx = client_context(files);
    constexpr int clients = 4, count = 200;
    std::vector<int> received(clients, 0);
    std::string mismatch; // the first message that arrived other than sent
    run_client(
        [&]() -> net::awaitable<void> {
            std::vector<std::unique_ptr<tls_socket>> s;
            std::vector<std::string> in(clients);
            std::string upgrade(ws_upgrade);
            upgrade.replace(upgrade.find("/ws"), 3, "/feed");
            for (int c = 0; c < clients; ++c) {
                s.push_back(co_await connect_tls(server.endpoint(), ctx));
                co_await net::async_write(*s[c], net::buffer(upgrade), net::use_awaitable);
                auto n = co_await net::async_read_until(*s[c], net::dynamic_buffer(in[c]),
                                                        "\r\n\r\n", net::use_awaitable);
                REQUIRE(in[c].substr(0, n).find("HTTP/1.1 101 ") == 0);
                in[c].erase(0, n);
                const std::string first = co_await test_support::read_frame(*s[c], in[c]);
                REQUIRE(first == "subscribed"); // so subscribed already
            }
            auto executor = co_await net::this_coro::executor;
            int finished = 0;
            for (int c = 0; c < clients; ++c)
                net::co_spawn(
                    executor,
                    [&, c]() -> net::awaitable<void> {
                        for (int i = 0; i < count; ++i) {
                            const std::string m = co_await test_support::read_frame(*s[c], in[c]);
                            if (m != feed_message(i) && mismatch.empty())
                                mismatch = "client " + std::to_string(c) + " message " +
                                           std::to_string(i) + ": " + std::to_string(m.size()) +
                                           " bytes starting " + m.substr(0, 16);
                            ++received[c];
                        }
                        ++finished;
                    },
                    net::detached);
            // One client publishes while every client, itself included, reads.
            for (int i = 0; i < count; ++i)
                co_await net::async_write(
                    *s[0], net::buffer(test_support::client_frame(1, feed_message(i))),
                    net::use_awaitable);
            net::steady_timer tick(executor);
            while (finished < clients) {
                tick.expires_after(1ms);
                co_await tick.async_wait(net::use_awaitable);
            }
            // Counted while every subscriber is still connected.
            const aster::server_stats stats = server.srv.stats();
            CHECK(stats.subscriptions == std::size_t(clients));
            CHECK(stats.published == std::size_t(count));
            CHECK(stats.delivered == std::size_t(count) * clients);
            CHECK(stats.dropped == 0);
        },
        30s);
    for (int c = 0; c < clients; ++c) CHECK(received[c] == count);
    CHECK(mismatch == "");
}

} // namespace tls_test

#endif // ASTER_HAS_TLS
