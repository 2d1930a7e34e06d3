// SPDX-License-Identifier: MIT
// The connection engine, compiled once: include this from exactly one .cpp file of a program
// whose every file is built with ASTER_SEPARATE_COMPILATION defined (see detail/config.hpp).
#ifndef ASTER_IMPL_SRC_HPP
#define ASTER_IMPL_SRC_HPP

#if !defined(ASTER_SEPARATE_COMPILATION)
#error \
    "aster/impl/src.hpp is for ASTER_SEPARATE_COMPILATION builds; header-only builds need nothing"
#endif

#include <aster/aster.hpp>

#include <aster/detail/impl/http_parser.ipp>
#include <aster/detail/impl/http_body_parser.ipp>
#include <aster/detail/impl/ws_reader.ipp>
#include <aster/detail/impl/ws_session.hpp>
#include <aster/detail/impl/ws_send.hpp>
#include <aster/detail/impl/ws_close.hpp>
#include <aster/detail/impl/ws_keepalive.hpp>
#include <aster/detail/impl/ws_topics.hpp>
#include <aster/detail/impl/topics.ipp>
#include <aster/detail/redis_link.hpp> // empty without ASTER_HAS_REDIS
#ifdef ASTER_HAS_REDIS
#include <aster/detail/impl/redis_link.ipp>
#endif
#include <aster/detail/impl/http_connection.hpp>
#include <aster/detail/impl/http_respond.hpp>
#include <aster/detail/impl/http_body_stream.hpp>
#include <aster/impl/server.hpp>
#include <aster/impl/test_client.hpp>
#include <aster/middleware/cors.hpp>
#include <aster/middleware/impl/cors.ipp>

namespace aster::detail {

// The streams the engine serves: TCP (and TLS over it) for the server, the in-memory stream for
// test_client.
template class ws_session<net::ip::tcp::socket>;
template class ws_session<test::stream>;
template class http_connection<net::ip::tcp::socket>;
template class http_connection<test::stream>;
#ifdef ASTER_HAS_TLS
template class ws_session<tls_stream>;
template class http_connection<tls_stream>;
#endif

} // namespace aster::detail

#endif // ASTER_IMPL_SRC_HPP
