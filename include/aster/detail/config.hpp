// SPDX-License-Identifier: MIT
// Build switches shared by every aster header: header-only vs separate compilation, optional deps.
#ifndef ASTER_DETAIL_CONFIG_HPP
#define ASTER_DETAIL_CONFIG_HPP

#if __cplusplus < 202002L
#error "aster needs C++20 (coroutines, concepts, class-type template parameters)"
#endif

// Header-only by default. Non-template functions defined in headers are marked ASTER_DECL
// (inline).
//
// ASTER_SEPARATE_COMPILATION, defined for every file of a program, keeps the connection engine
// (HTTP connection, WebSocket session, parser, server, test_client) out of the files that include
// aster.hpp: exactly one file includes <aster/impl/src.hpp> and compiles it once. The engine
// reaches the route table only through detail::app_ref, so one compiled engine serves every app.
// The engine's bodies are marked ASTER_ENGINE: inline when header-only, ordinary definitions in
// src.hpp otherwise.
#define ASTER_DECL inline
#if defined(ASTER_SEPARATE_COMPILATION)
#define ASTER_HEADER_ONLY 0
#define ASTER_ENGINE
#else
#define ASTER_HEADER_ONLY 1
#define ASTER_ENGINE inline
#endif

#if __has_include(<nlohmann/json.hpp>) && !defined(ASTER_NO_JSON)
#define ASTER_HAS_JSON 1
#endif

#if __has_include(<zlib.h>) && !defined(ASTER_NO_ZLIB)
#define ASTER_HAS_ZLIB 1
#endif

// TLS (https, wss) needs OpenSSL linked as well as its headers, so it is not detected from the
// headers: the build defines ASTER_HAS_TLS, the same for every file of a program (CMake
// aster::tls, meson aster_tls_dep). Without it no OpenSSL header is included.
#if defined(ASTER_HAS_TLS) && !__has_include(<openssl/ssl.h>)
#error "ASTER_HAS_TLS needs OpenSSL's headers (Debian: libssl-dev)"
#endif

#endif // ASTER_DETAIL_CONFIG_HPP
