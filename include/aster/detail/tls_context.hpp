// SPDX-License-Identifier: MIT
// The server's OpenSSL context, loaded once from tls_options. Only TLS builds include OpenSSL.
#ifndef ASTER_DETAIL_TLS_CONTEXT_HPP
#define ASTER_DETAIL_TLS_CONTEXT_HPP

#include <aster/detail/config.hpp>
#include <aster/tls.hpp>

#ifdef ASTER_HAS_TLS

#include <aster/detail/asio.hpp>

#include <asio/ip/tcp.hpp>
#include <asio/ssl/context.hpp>
#include <asio/ssl/stream.hpp>

#include <openssl/ssl.h>

#include <stdexcept>
#include <string>
#include <system_error>

namespace aster::detail {

/// What the server's connections run over when `server_config::tls` is set.
using tls_stream = net::ssl::stream<net::ip::tcp::socket>;

/// Certificate chain, key and protocol settings, shared by every loop: OpenSSL's SSL_CTX may be
/// used from several threads to create connections.
class tls_context {
public:
    /// Throws std::system_error naming the file that cannot be loaded, or std::invalid_argument
    /// when the key does not belong to the certificate.
    explicit tls_context(const tls_options& options);

    net::ssl::context& native() noexcept { return context_; }

private:
    net::ssl::context context_{net::ssl::context::tls_server};
};

ASTER_DECL tls_context::tls_context(const tls_options& options) {
    SSL_CTX* ctx = context_.native_handle();
    SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION); // 1.0 and 1.1 are deprecated (RFC 8996)
    // Client-initiated renegotiation only costs the server CPU; nothing aster serves needs it.
    SSL_CTX_set_options(ctx, SSL_OP_NO_RENEGOTIATION | SSL_OP_NO_COMPRESSION);
    // Idle connections (kept-alive HTTP, quiet WebSockets) give back OpenSSL's read and write
    // buffers, about 34 KiB each.
    SSL_CTX_set_mode(ctx, SSL_MODE_RELEASE_BUFFERS);

    std::error_code ec;
    context_.use_certificate_chain_file(options.certificate_chain_file, ec);
    if (ec)
        throw std::system_error(ec, "aster: cannot load the TLS certificate chain '" +
                                        options.certificate_chain_file + "'");
    context_.use_private_key_file(options.private_key_file, net::ssl::context::pem, ec);
    if (ec)
        throw std::system_error(ec, "aster: cannot load the TLS private key '" +
                                        options.private_key_file + "'");
    if (SSL_CTX_check_private_key(ctx) != 1)
        throw std::invalid_argument("aster: the TLS private key '" + options.private_key_file +
                                    "' does not match the certificate '" +
                                    options.certificate_chain_file + "'");
}

} // namespace aster::detail

#endif // ASTER_HAS_TLS

#endif // ASTER_DETAIL_TLS_CONTEXT_HPP
