// SPDX-License-Identifier: MIT
// TLS settings for serving https and wss; plain data, so it costs nothing without OpenSSL.
#ifndef ASTER_TLS_HPP
#define ASTER_TLS_HPP

#include <aster/detail/config.hpp>

#include <string>

namespace aster {

/// The certificate and key a server presents when `server_config::tls` is set. HTTP and
/// WebSocket routes then answer over TLS (https, wss) on the same port, through the same
/// connection code. TLS 1.2 is the minimum; ciphers are OpenSSL's defaults.
/// Serving TLS needs a build with ASTER_HAS_TLS (CMake `aster::tls` or `aster::compiled`
/// when OpenSSL was found, meson `aster_tls_dep`); without it, `server::listen()` throws.
/// @code
/// app.run({.port = 8443, .tls = aster::tls_options{.certificate_chain_file = "cert.pem",
///                                                  .private_key_file = "key.pem"}});
/// @endcode
struct tls_options {
    std::string certificate_chain_file; // PEM: the server's certificate, then intermediates
    std::string private_key_file;       // PEM, unencrypted (a server restarts unattended)
};

} // namespace aster

#endif // ASTER_TLS_HPP
