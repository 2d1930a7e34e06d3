// SPDX-License-Identifier: MIT
// Build switches shared by every aster header: header-only vs separate compilation, optional deps.
#ifndef ASTER_DETAIL_CONFIG_HPP
#define ASTER_DETAIL_CONFIG_HPP

#if __cplusplus < 202002L
#error "aster needs C++20 (coroutines, concepts, class-type template parameters)"
#endif

// Non-template functions defined in headers are marked ASTER_DECL (inline), so the library is
// header-only; a separately compiled mode can redefine it later without touching call sites.
#define ASTER_HEADER_ONLY 1
#define ASTER_DECL inline

#if __has_include(<nlohmann/json.hpp>) && !defined(ASTER_NO_JSON)
#define ASTER_HAS_JSON 1
#endif

#if __has_include(<zlib.h>) && !defined(ASTER_NO_ZLIB)
#define ASTER_HAS_ZLIB 1
#endif

#endif // ASTER_DETAIL_CONFIG_HPP
