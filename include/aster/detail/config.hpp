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

// Asio chooses between aligned_alloc/free and operator new/delete for its recycled coroutine frames
// by a macro of the standard library's configuration, which only a standard header defines. A file
// whose first include reaches Asio before any standard header would pick operator new while the
// others pick aligned_alloc, and one program would then free frames the other way (an ODR
// violation that AddressSanitizer reports as alloc-dealloc-mismatch). So the standard library's
// configuration comes first, in every file that includes aster.
#include <cstddef>
#if defined(ASIO_VERSION) && defined(_GLIBCXX_HAVE_ALIGNED_ALLOC) && \
    !defined(ASIO_HAS_STD_ALIGNED_ALLOC) && !defined(ASIO_DISABLE_STD_ALIGNED_ALLOC)
#warning \
    "Asio was included before any standard header: include <cstddef> (or aster) first in every file, or Asio's frame allocation differs between files"
#endif
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

// Extras that need a library at link time are switched on by the build, never by finding a
// header: the same command then builds on a machine with or without the library. The build
// defines the macro for every file of a program (CMake and meson options, pkg-config modules;
// by hand -DASTER_HAS_ZLIB with -lz, say), and an extra left off includes none of its headers.
//   ASTER_HAS_ZLIB  permessage-deflate and the gzip middleware (zlib: -lz)
//   ASTER_HAS_TLS   https and wss (OpenSSL: -lssl -lcrypto)
#if defined(ASTER_HAS_ZLIB) && !__has_include(<zlib.h>)
#error "ASTER_HAS_ZLIB needs zlib's header (Debian: zlib1g-dev)"
#endif
#if defined(ASTER_HAS_TLS) && !__has_include(<openssl/ssl.h>)
#error "ASTER_HAS_TLS needs OpenSSL's headers (Debian: libssl-dev)"
#endif

#endif // ASTER_DETAIL_CONFIG_HPP
